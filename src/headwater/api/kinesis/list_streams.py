"""ListStreams: names and summaries in name order, paged by Limit and NextToken (or the older
ExclusiveStartStreamName)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ...core.database import Database
from ...kinesis.errors import InvalidArgumentException
from ._streams import summary


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    limit = request.get("Limit") or 100
    after = request.get("ExclusiveStartStreamName")
    token = request.get("NextToken")
    if token is not None:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidArgumentException(f"Invalid NextToken: {token}") from None
    docs = db.kinesis.docs()
    if after is not None:
        docs = [d for d in docs if d.name > after]
    page = docs[:limit]
    out: dict[str, Any] = {
        "StreamNames": [d.name for d in page],
        "HasMoreStreams": len(docs) > limit,
        "StreamSummaries": [summary(d) for d in page],
    }
    if len(docs) > limit:
        out["NextToken"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
    return out

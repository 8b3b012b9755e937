"""ListTagsForStream: tags in key order, paged by Limit (default 10) and ExclusiveStartTagKey."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._streams import stream


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    doc = stream(db, request)
    limit = request.get("Limit") or 10
    after = request.get("ExclusiveStartTagKey")
    tags = [t for t in doc.tags if after is None or t[0] > after]
    page = tags[:limit]
    return {"Tags": [{"Key": k, "Value": v} for k, v in page], "HasMoreTags": len(tags) > limit}

"""ListExports: the namespace's exports (of one table, if asked), oldest first, paged by NextToken
(the last ARN of the page, hex-encoded)."""

from __future__ import annotations

from typing import Any

from ...core import exports, jobs
from ...core.database import Database
from ...errors import ValidationException

DEFAULT_MAX = 25


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    table_arn = request.get("TableArn")
    limit = request.get("MaxResults") or DEFAULT_MAX
    found = [d for d in exports.every(db) if table_arn is None or d["TableArn"] == table_arn]
    token = request.get("NextToken")
    if token is not None:
        arns = [d["ExportArn"] for d in found]
        after = jobs.token_arn(token)
        if after is None or after not in arns:
            raise ValidationException(f"Invalid NextToken: {token}")
        found = found[arns.index(after) + 1 :]
    page = found[:limit]
    out: dict[str, Any] = {
        "ExportSummaries": [
            {"ExportArn": d["ExportArn"], "ExportStatus": d["ExportStatus"], "ExportType": d["ExportType"]}
            for d in page
        ]
    }
    if len(found) > limit:
        out["NextToken"] = jobs.page_token(page[-1]["ExportArn"])
    return out

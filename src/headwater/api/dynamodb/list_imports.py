"""ListImports: the namespace's imports (into one table, if asked), oldest first, paged by NextToken
(the last ARN of the page, hex-encoded)."""

from __future__ import annotations

from typing import Any

from ...core import jobs
from ...core.database import Database
from ...errors import ValidationException

DEFAULT_PAGE = 25
SUMMARY = ("ImportArn", "ImportStatus", "TableArn", "S3BucketSource", "InputFormat", "StartTime", "EndTime")


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    table_arn = request.get("TableArn")
    limit = request.get("PageSize") or DEFAULT_PAGE
    found = [
        d
        for d in jobs.every(db, jobs.IMPORT_KIND, "ImportArn")
        if table_arn is None or d["TableArn"] == table_arn
    ]
    token = request.get("NextToken")
    if token is not None:
        arns = [d["ImportArn"] for d in found]
        after = jobs.token_arn(token)
        if after is None or after not in arns:
            raise ValidationException(f"Invalid NextToken: {token}")
        found = found[arns.index(after) + 1 :]
    page = found[:limit]
    out: dict[str, Any] = {"ImportSummaryList": [{k: d[k] for k in SUMMARY if k in d} for d in page]}
    if len(found) > limit:
        out["NextToken"] = jobs.page_token(page[-1]["ImportArn"])
    return out

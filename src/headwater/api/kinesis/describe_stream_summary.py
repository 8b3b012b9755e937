"""DescribeStreamSummary."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._streams import description_base, stream


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    doc = stream(db, request)
    summary = description_base(doc)
    summary["OpenShardCount"] = len(doc.open)
    summary["ConsumerCount"] = 0
    summary["MaxRecordSizeInKiB"] = 1024
    return {"StreamDescriptionSummary": summary}

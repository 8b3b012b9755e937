"""GetShardIterator: AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._streams import stream


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    doc = stream(db, request)
    stamp = request.get("Timestamp")
    iterator = db.kinesis_reader.get_shard_iterator(
        doc,
        request["ShardId"],
        request["ShardIteratorType"],
        request.get("StartingSequenceNumber"),
        None if stamp is None else float(stamp),
    )
    return {"ShardIterator": iterator}

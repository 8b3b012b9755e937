"""PutRecord: one record, routed by the MD5 of its partition key (or its ExplicitHashKey)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...kinesis.errors import ProvisionedThroughputExceededException
from ...kinesis.service import Put
from ._streams import data_of, hash_of, stream


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    data = data_of(request["Data"], "data")
    key = request["PartitionKey"]
    put = Put(hash_of(key, request.get("ExplicitHashKey")), key, data)
    doc = stream(db, request)
    (appended,) = await db.kinesis.put(doc, [put])
    if appended.sequence_number is None:
        raise ProvisionedThroughputExceededException(
            f"Rate exceeded for shard {appended.shard_id} in stream {doc.name} under account "
            f"{db.kinesis.account}."
        )
    return {
        "ShardId": appended.shard_id,
        "SequenceNumber": appended.sequence_number,
        "EncryptionType": "NONE",
    }

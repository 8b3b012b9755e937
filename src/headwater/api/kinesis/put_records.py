"""PutRecords: up to 500 records in one write; a record over its shard's write throughput fails alone
(ErrorCode ProvisionedThroughputExceededException) and the others are written."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...kinesis.errors import InvalidArgumentException
from ...kinesis.service import Put
from ._streams import data_of, hash_of, stream

MAX_REQUEST_BYTES = 5 * 1024 * 1024


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    puts: list[Put] = []
    total = 0
    for i, entry in enumerate(request["Records"], 1):
        data = data_of(entry["Data"], f"records.{i}.member.data")
        key = entry["PartitionKey"]
        total += len(data) + len(key.encode())
        puts.append(Put(hash_of(key, entry.get("ExplicitHashKey")), key, data))
    if total > MAX_REQUEST_BYTES:
        raise InvalidArgumentException(f"Records size exceeds 5 MB limit: {total} bytes.")
    doc = stream(db, request)
    account = db.kinesis.account
    records: list[dict[str, Any]] = []
    failed = 0
    for appended in await db.kinesis.put(doc, puts):
        if appended.sequence_number is None:
            failed += 1
            records.append(
                {
                    "ErrorCode": "ProvisionedThroughputExceededException",
                    "ErrorMessage": f"Rate exceeded for shard {appended.shard_id} in stream {doc.name} under "
                    f"account {account}.",
                }
            )
        else:
            records.append({"SequenceNumber": appended.sequence_number, "ShardId": appended.shard_id})
    return {"FailedRecordCount": failed, "Records": records, "EncryptionType": "NONE"}

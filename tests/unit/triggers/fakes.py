"""An in-memory Streams transport with shard lineage, expiring iterators and trimming."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from headwater.consumer import StreamsError

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"


@dataclass
class FakeShard:
    shard_id: str
    parent: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False
    trimmed_below: int = 0  # records with seq below are gone


class FakeStreams:
    def __init__(self) -> None:
        self.shards: dict[str, FakeShard] = {}
        self.seq = 100
        self.expire_next = 0  # how many GetRecords calls answer ExpiredIteratorException
        self.calls: list[str] = []

    def shard(self, shard_id: str, parent: str | None = None) -> FakeShard:
        self.shards[shard_id] = FakeShard(shard_id, parent)
        return self.shards[shard_id]

    def write(self, shard_id: str, pk: str, created: float | None = None) -> str:
        self.seq += 1
        seq = f"{self.seq:021d}"
        self.shards[shard_id].records.append(
            {
                "eventID": f"{self.seq:032x}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": int(created if created is not None else time.time()),
                    "Keys": {"pk": {"S": pk}},
                    "NewImage": {"pk": {"S": pk}},
                    "SequenceNumber": seq,
                    "SizeBytes": 10,
                    "StreamViewType": "NEW_IMAGE",
                },
            }
        )
        return seq

    async def list_streams(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"Streams": [{"StreamArn": ARN, "TableName": "t", "StreamLabel": "x"}]}

    async def describe_stream(self, request: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("DescribeStream")
        shards = []
        for shard in self.shards.values():
            seq_range: dict[str, str] = {"StartingSequenceNumber": "0"}
            if shard.closed:
                seq_range["EndingSequenceNumber"] = f"{self.seq:021d}"
            doc: dict[str, Any] = {"ShardId": shard.shard_id, "SequenceNumberRange": seq_range}
            if shard.parent:
                doc["ParentShardId"] = shard.parent
            shards.append(doc)
        # deliberately not sorted: readers must sort
        shards.reverse()
        return {"StreamDescription": {"StreamArn": ARN, "StreamStatus": "ENABLED", "Shards": shards}}

    async def get_shard_iterator(self, request: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(f"GetShardIterator:{request['ShardIteratorType']}")
        shard = self.shards.get(request["ShardId"])
        if shard is None:
            raise StreamsError("ResourceNotFoundException", "Shard does not exist")
        kind = request["ShardIteratorType"]
        if kind == "TRIM_HORIZON":
            position = 0
            while position < len(shard.records) and self._seq(shard, position) < shard.trimmed_below:
                position += 1
        elif kind == "LATEST":
            position = len(shard.records)
        else:
            target = int(request["SequenceNumber"])
            if target < shard.trimmed_below:
                raise StreamsError("TrimmedDataAccessException", "trimmed")
            position = next(
                (i for i, r in enumerate(shard.records) if int(r["dynamodb"]["SequenceNumber"]) >= target),
                len(shard.records),
            )
            if (
                kind == "AFTER_SEQUENCE_NUMBER"
                and position < len(shard.records)
                and int(shard.records[position]["dynamodb"]["SequenceNumber"]) == target
            ):
                position += 1
        return {"ShardIterator": f"{shard.shard_id}|{position}"}

    @staticmethod
    def _seq(shard: FakeShard, position: int) -> int:
        return int(shard.records[position]["dynamodb"]["SequenceNumber"])

    async def get_records(self, request: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("GetRecords")
        if self.expire_next:
            self.expire_next -= 1
            raise StreamsError("ExpiredIteratorException", "Iterator expired")
        shard_id, _, pos = request["ShardIterator"].partition("|")
        shard = self.shards[shard_id]
        position = int(pos)
        if position < len(shard.records) and self._seq(shard, position) < shard.trimmed_below:
            raise StreamsError("TrimmedDataAccessException", "trimmed")
        limit = request.get("Limit", 1000)
        page = shard.records[position : position + limit]
        end = position + len(page)
        out: dict[str, Any] = {"Records": page}
        if not (shard.closed and end >= len(shard.records)):
            out["NextShardIterator"] = f"{shard_id}|{end}"
        return out

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        handlers = {
            "ListStreams": self.list_streams,
            "DescribeStream": self.describe_stream,
            "GetShardIterator": self.get_shard_iterator,
            "GetRecords": self.get_records,
        }
        return await handlers[operation](request)

    async def close(self) -> None:
        return None

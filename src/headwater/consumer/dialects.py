"""What differs between reading a DynamoDB stream and a Kinesis stream: how shards are listed, how an
iterator is asked for and where a record's sequence number is. The reader is written against `Dialect`."""

from __future__ import annotations

from typing import Protocol

from .transport import CallTransport, Wire


class Dialect(Protocol):
    name: str

    async def shards(self, transport: CallTransport, arn: str) -> list[Wire]:
        """Every shard of the stream, as the service describes them (ShardId, ParentShardId, ...)."""
        ...

    def iterator_request(self, arn: str, shard_id: str, kind: str, sequence: str | None) -> Wire: ...

    def sequence(self, record: Wire) -> str: ...


class StreamsDialect:
    name = "dynamodb"

    async def shards(self, transport: CallTransport, arn: str) -> list[Wire]:
        shards: list[Wire] = []
        request: Wire = {"StreamArn": arn}
        while True:
            desc = (await transport.call("DescribeStream", request))["StreamDescription"]
            shards.extend(desc.get("Shards", []))
            last = desc.get("LastEvaluatedShardId")
            if not last:
                return shards
            request = {"StreamArn": arn, "ExclusiveStartShardId": last}

    def iterator_request(self, arn: str, shard_id: str, kind: str, sequence: str | None) -> Wire:
        request: Wire = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence is not None:
            request["SequenceNumber"] = sequence
        return request

    def sequence(self, record: Wire) -> str:
        return str(record["dynamodb"]["SequenceNumber"])


class KinesisDialect:
    name = "kinesis"

    async def shards(self, transport: CallTransport, arn: str) -> list[Wire]:
        shards: list[Wire] = []
        request: Wire = {"StreamARN": arn}
        while True:
            page = await transport.call("ListShards", request)
            shards.extend(page.get("Shards", []))
            token = page.get("NextToken")
            if not token:
                return shards
            request = {"NextToken": token}

    def iterator_request(self, arn: str, shard_id: str, kind: str, sequence: str | None) -> Wire:
        request: Wire = {"StreamARN": arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence is not None:
            request["StartingSequenceNumber"] = sequence
        return request

    def sequence(self, record: Wire) -> str:
        return str(record["SequenceNumber"])


STREAMS = StreamsDialect()
KINESIS = KinesisDialect()


def dialect_of(arn: str) -> Dialect:
    """Kinesis for `arn:aws:kinesis:...:stream/...`, DynamoDB Streams otherwise."""
    return KINESIS if ":kinesis:" in arn else STREAMS

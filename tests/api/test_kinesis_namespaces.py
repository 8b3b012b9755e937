"""Kinesis data streams live in a region (and account) like tables do: their names, ARNs, records and
iterators are the region's; a table's Kinesis destination must be a stream of its own region."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server import Server
from tests.waiting import wait_until

OTHER = "us-east-2"


def error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def kinesis2(server: Server) -> Any:
    return server.client("kinesis", region=OTHER, retries={"max_attempts": 10, "mode": "standard"})


@pytest.fixture
def both(kinesis: Any, kinesis2: Any, stream_name: str) -> Iterator[str]:
    """The test's stream name, created in us-east-2 (one shard), deleted in both regions at the end."""
    kinesis2.create_stream(StreamName=stream_name, ShardCount=1)
    yield stream_name
    for client in (kinesis, kinesis2):
        with contextlib.suppress(ClientError):
            client.delete_stream(StreamName=stream_name)


def _records(client: Any, name: str) -> list[bytes]:
    shard = client.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return [r["Data"] for r in client.get_records(ShardIterator=iterator["ShardIterator"])["Records"]]


def test_a_stream_of_another_region_is_not_there(kinesis: Any, kinesis2: Any, both: str) -> None:
    summary = kinesis2.describe_stream_summary(StreamName=both)["StreamDescriptionSummary"]
    assert summary["StreamARN"] == f"arn:aws:kinesis:{OTHER}:000000000000:stream/{both}"
    assert both in kinesis2.list_streams()["StreamNames"]
    assert both not in kinesis.list_streams()["StreamNames"]
    missing = ("ResourceNotFoundException", f"Stream {both} under account 000000000000 not found.")
    assert error(kinesis.describe_stream_summary, StreamName=both) == missing
    assert error(kinesis.describe_stream_summary, StreamARN=summary["StreamARN"]) == missing
    assert error(kinesis.put_record, StreamName=both, Data=b"x", PartitionKey="p") == missing


def test_the_same_name_in_two_regions_is_two_streams(kinesis: Any, kinesis2: Any, both: str) -> None:
    kinesis.create_stream(StreamName=both, ShardCount=1)
    wait_until(
        lambda: (
            kinesis.describe_stream_summary(StreamName=both)["StreamDescriptionSummary"]["StreamStatus"]
            == "ACTIVE"
        ),
        what="the us-east-1 stream to be active",
    )
    kinesis.put_record(StreamName=both, Data=b"east-1", PartitionKey="p")
    kinesis2.put_record(StreamName=both, Data=b"east-2", PartitionKey="p")
    assert _records(kinesis, both) == [b"east-1"]
    assert _records(kinesis2, both) == [b"east-2"]
    kinesis.delete_stream(StreamName=both)
    assert _records(kinesis2, both) == [b"east-2"]


def test_an_iterator_of_another_region_reads_nothing(kinesis: Any, kinesis2: Any, both: str) -> None:
    kinesis2.put_record(StreamName=both, Data=b"x", PartitionKey="p")
    shard = kinesis2.list_shards(StreamName=both)["Shards"][0]["ShardId"]
    iterator = kinesis2.get_shard_iterator(StreamName=both, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert error(kinesis.get_records, ShardIterator=iterator["ShardIterator"]) == (
        "ResourceNotFoundException",
        f"Stream {both} under account 000000000000 not found.",
    )


def test_a_tables_kinesis_destination_is_a_stream_of_its_region(
    server: Server, kinesis: Any, kinesis2: Any, both: str, table_name: str
) -> None:
    ddb, ddb2 = server.client("dynamodb"), server.client("dynamodb", region=OTHER)
    spec = {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    ddb.create_table(TableName=table_name, **spec)
    ddb2.create_table(TableName=table_name, **spec)
    try:
        arn = kinesis2.describe_stream_summary(StreamName=both)["StreamDescriptionSummary"]["StreamARN"]
        assert error(ddb.enable_kinesis_streaming_destination, TableName=table_name, StreamArn=arn) == (
            "ResourceNotFoundException",
            f"Requested resource not found: Stream: {arn} not found",
        )
        ddb2.enable_kinesis_streaming_destination(TableName=table_name, StreamArn=arn)
        wait_until(
            lambda: (
                ddb2.describe_kinesis_streaming_destination(TableName=table_name)[
                    "KinesisDataStreamDestinations"
                ][0]["DestinationStatus"]
                == "ACTIVE"
            ),
            what="the destination to be active",
        )
        ddb2.put_item(TableName=table_name, Item={"pk": {"S": "a"}})
        (data,) = wait_until(lambda: _records(kinesis2, both), what="the change record in the stream")
        record = base64.b64decode(data) if not data.startswith(b"{") else data
        assert b'"awsRegion":"us-east-2"' in record
    finally:
        ddb.delete_table(TableName=table_name)
        ddb2.delete_table(TableName=table_name)

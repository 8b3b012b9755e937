"""DynamoDB Streams through boto3's `dynamodbstreams` client against a live server.

Error texts: DynamoDB Local (2026-01-16) for what it answers like the service; the real service (per
Alternator's compatibility suite) answers a *malformed* stream ARN with ValidationException where
DynamoDB Local says ResourceNotFoundException.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server import Server

VIEWS = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


def error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def raw(server: Server) -> Any:
    """A streams client that sends what it is given (no client-side validation)."""
    return server.client("dynamodbstreams", parameter_validation=False)


def stream_table(
    ddb: Any, make_table: Callable[..., str], view: str = "NEW_AND_OLD_IMAGES", **kw: Any
) -> tuple[str, str]:
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": view}, **kw)
    return name, ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def all_records(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every record of every shard, parents first (shards are listed parents before children)."""
    out: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it)
            out.extend(page["Records"])
            if not page["Records"]:
                break
            it = page.get("NextShardIterator")
    return out


@pytest.mark.parametrize("view", VIEWS)
def test_records_per_view_type_over_every_kind_of_write(
    ddb: Any, streams: Any, make_table: Callable[..., str], view: str
) -> None:
    name, arn = stream_table(ddb, make_table, view)
    k = {"pk": {"S": "a"}}
    ddb.put_item(TableName=name, Item={**k, "v": {"N": "1"}})  # INSERT
    ddb.put_item(TableName=name, Item={**k, "v": {"N": "1.0"}})  # identical: no record
    ddb.put_item(TableName=name, Item={**k, "v": {"N": "2"}})  # replace: MODIFY
    ddb.update_item(  # update-create: INSERT
        TableName=name,
        Key={"pk": {"S": "b"}},
        UpdateExpression="SET w = :w",
        ExpressionAttributeValues={":w": {"S": "x"}},
    )
    ddb.update_item(  # MODIFY
        TableName=name, Key=k, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "3"}}
    )
    ddb.update_item(  # no-op: no record
        TableName=name, Key=k, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "3"}}
    )
    ddb.update_item(TableName=name, Key=k, UpdateExpression="REMOVE nothere")  # no record
    ddb.delete_item(TableName=name, Key=k)  # REMOVE
    ddb.delete_item(TableName=name, Key=k)  # missing: no record
    records = all_records(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "INSERT", "MODIFY", "REMOVE"]
    new = "NEW" in view
    old = "OLD" in view
    expected_new = [{"v": "1"}, {"v": "2"}, {"w": "x"}, {"v": "3"}, None]
    expected_old = [None, {"v": "1"}, None, {"v": "2"}, {"v": "3"}]
    seqs = []
    for r, en, eo in zip(records, expected_new, expected_old, strict=True):
        assert r["eventVersion"] == "1.1"
        assert r["eventSource"] == "aws:dynamodb"
        assert "userIdentity" not in r
        d = r["dynamodb"]
        assert d["StreamViewType"] == view
        assert set(d["Keys"]) == {"pk"}
        assert d["SizeBytes"] >= 1
        assert len(d["SequenceNumber"]) >= 21
        seqs.append(int(d["SequenceNumber"]))
        if new and en is not None:
            attr, value = next(iter(en.items()))
            assert next(iter(d["NewImage"][attr].values())) == value
            assert d["NewImage"]["pk"] == d["Keys"]["pk"]  # the whole item, keys included
        else:
            assert "NewImage" not in d
        if old and eo is not None:
            assert d["OldImage"]["v"] == {"N": eo["v"]}
        else:
            assert "OldImage" not in d
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # DynamoDB's SizeBytes: keys + images (measured on DynamoDB Local: 9 and 15 for these items)
    if view == "NEW_AND_OLD_IMAGES":
        assert records[0]["dynamodb"]["SizeBytes"] == 9
        assert records[1]["dynamodb"]["SizeBytes"] == 15
    # a re-read gives the same event ids
    assert [r["eventID"] for r in all_records(streams, arn)] == [r["eventID"] for r in records]


@pytest.mark.differs_from_dynamodb_local("region 'ddblocal' whatever the client's, a UUID for an eventID")
def test_records_region_and_event_id(ddb: Any, streams: Any, make_table: Callable[..., str]) -> None:
    """The client's region, and an eventID of 32 hex digits as the API reference's examples show it."""
    name, arn = stream_table(ddb, make_table, "KEYS_ONLY")
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    (record,) = all_records(streams, arn)
    assert record["awsRegion"] == "us-east-1"
    assert re.fullmatch(r"[0-9a-f]{32}", record["eventID"])


def test_batch_and_transaction_writes_produce_records(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    name, arn = stream_table(ddb, make_table)
    ddb.batch_write_item(
        RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(3)]}
    )
    ddb.batch_write_item(RequestItems={name: [{"DeleteRequest": {"Key": {"pk": {"S": "b0"}}}}]})
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": {"S": "t1"}}}},
            {"Delete": {"TableName": name, "Key": {"pk": {"S": "b1"}}}},
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": {"S": "b2"}},
                    "UpdateExpression": "SET x = :x",
                    "ExpressionAttributeValues": {":x": {"N": "1"}},
                }
            },
        ]
    )
    events = [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in all_records(streams, arn)]
    assert events[:4] == [("INSERT", "b0"), ("INSERT", "b1"), ("INSERT", "b2"), ("REMOVE", "b0")]
    assert sorted(events[4:]) == [("INSERT", "t1"), ("MODIFY", "b2"), ("REMOVE", "b1")]


def test_stream_specification_errors(ddb: Any, make_table: Callable[..., str]) -> None:
    name, _ = stream_table(ddb, make_table, "KEYS_ONLY")
    for spec in (
        {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    ):
        with pytest.raises(ClientError) as info:
            ddb.update_table(TableName=name, StreamSpecification=spec)
        assert error(info) == ("ValidationException", "Table already has an enabled stream")
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    with pytest.raises(ClientError) as info:
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert error(info) == ("ValidationException", "Table has no stream to disable")


def test_disable_closes_shards_and_reenable_makes_a_new_stream(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    name, arn = stream_table(ddb, make_table)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=name, Item={"pk": {"S": "after-disable"}})
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "DISABLED"
    (closed,) = desc["Shards"]
    # the iterator obtained before keeps working; the shard ends at its last record
    page = streams.get_records(ShardIterator=it)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["a"]
    assert (
        closed["SequenceNumberRange"]["EndingSequenceNumber"]
        == page["Records"][0]["dynamodb"]["SequenceNumber"]
    )
    assert "NextShardIterator" not in page
    ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    new_arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    assert new_arn != arn
    listed = [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]]
    assert listed == [new_arn, arn]  # newest first, as DynamoDB Local lists them
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in all_records(streams, new_arn)] == ["b"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in all_records(streams, arn)] == ["a"]
    # DeleteTable leaves the stream listed, DISABLED and readable
    ddb.delete_table(TableName=name)
    assert streams.describe_stream(StreamArn=new_arn)["StreamDescription"]["StreamStatus"] == "DISABLED"
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in all_records(streams, new_arn)] == ["b"]
    assert [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]] == [new_arn, arn]


def test_list_streams_pagination_survives_deleting_the_cookie_table(
    ddb: Any, streams: Any, make_table: Callable[..., str], table_name: str
) -> None:
    names = [stream_table(ddb, make_table, name=f"{table_name}-{i}")[0] for i in range(3)]

    def mine(page: dict[str, Any]) -> list[str]:
        return [s["TableName"] for s in page["Streams"] if s["TableName"] in names]

    page = streams.list_streams(Limit=1)
    assert len(page["Streams"]) == 1 and "LastEvaluatedStreamArn" in page
    collected = list(page["Streams"])
    while "LastEvaluatedStreamArn" in page:
        cookie = page["LastEvaluatedStreamArn"]
        if cookie.split("/")[1] == names[0]:
            ddb.delete_table(TableName=names[0])
        page = streams.list_streams(Limit=2, ExclusiveStartStreamArn=cookie)
        collected.extend(page["Streams"])
    seen = [s["TableName"] for s in collected if s["TableName"] in names]
    assert (
        sorted(seen) == names
    )  # each once (DynamoDB Local pages in table name order, Headwater newest first)
    assert mine(streams.list_streams(TableName=names[1])) == [names[1]]
    assert streams.list_streams(TableName="no-such-table")["Streams"] == []


def test_describe_stream_fields_and_errors(
    ddb: Any, streams: Any, raw: Any, make_table: Callable[..., str]
) -> None:
    name, arn = stream_table(ddb, make_table, "NEW_IMAGE", range_key=("sk", "N"))
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamArn"] == arn
    assert desc["StreamLabel"] == arn.rsplit("/", 1)[1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", desc["StreamLabel"])
    assert desc["StreamStatus"] == "ENABLED" and desc["StreamViewType"] == "NEW_IMAGE"
    assert desc["TableName"] == name and "CreationRequestDateTime" in desc
    assert desc["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    (shard,) = desc["Shards"]
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard["ShardId"])
    assert set(shard["SequenceNumberRange"]) == {"StartingSequenceNumber"}
    assert (
        streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=shard["ShardId"])["StreamDescription"][
            "Shards"
        ]
        == []
    )
    with pytest.raises(ClientError) as info:
        raw.describe_stream(StreamArn=arn, Limit=101)
    assert error(info) == (
        "ValidationException",
        "One or more parameter values were invalid: Limit cannot be greater than the maximum: 100",
    )
    unknown = arn.replace(name, name + "-gone")
    with pytest.raises(ClientError) as info:
        streams.describe_stream(StreamArn=unknown)
    assert error(info) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Stream: {unknown} not found",
    )
    with pytest.raises(ClientError) as info:
        raw.list_streams(Limit=101)
    assert error(info) == (
        "ValidationException",
        "One or more parameter values were invalid: "
        "Limit cannot be greater than the maximum allowed size: 100",
    )


def test_get_shard_iterator_types_and_errors(
    ddb: Any, streams: Any, raw: Any, make_table: Callable[..., str]
) -> None:
    name, arn = stream_table(ddb, make_table)
    for i in range(3):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def read(kind: str, seq: str | None = None) -> list[str]:
        extra = {"SequenceNumber": seq} if seq else {}
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra)[
            "ShardIterator"
        ]
        assert len(it) <= 2048
        return [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=it)["Records"]]

    records = streams.get_records(
        ShardIterator=streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    )["Records"]
    second = records[1]["dynamodb"]["SequenceNumber"]
    assert read("TRIM_HORIZON") == ["k0", "k1", "k2"]
    assert read("LATEST") == []
    assert read("AT_SEQUENCE_NUMBER", second) == ["k1", "k2"]
    assert read("AFTER_SEQUENCE_NUMBER", second) == ["k2"]
    # LATEST sees what comes after it
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    ddb.put_item(TableName=name, Item={"pk": {"S": "k3"}})
    assert [
        r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=latest)["Records"]
    ] == ["k3"]

    def fails(**request: Any) -> tuple[str, str]:
        with pytest.raises(ClientError) as info:
            raw.get_shard_iterator(**{"StreamArn": arn, "ShardId": shard, **request})
        return error(info)

    invalid = "One or more parameter values were invalid: "
    assert fails(ShardIteratorType="AT_SEQUENCE_NUMBER") == (
        "ValidationException",
        invalid + "Invalid SequenceNumber",
    )
    assert fails(ShardIteratorType="AFTER_SEQUENCE_NUMBER") == (
        "ValidationException",
        invalid + "Invalid SequenceNumber",
    )
    assert fails(ShardIteratorType="LATEST", SequenceNumber=second) == (
        "ValidationException",
        invalid + "SequenceNumber should not be passed for this iterator type",
    )
    assert fails(ShardIteratorType="LATEST", ShardId="shardId-00000001573689847184-864758bb") == (
        "ResourceNotFoundException",
        "Shard does not exist",
    )
    assert fails(ShardIteratorType="LATEST", StreamArn=arn.replace(name, name + "-gone")) == (
        "ResourceNotFoundException",
        "Stream does not exist",
    )


@pytest.mark.differs_from_dynamodb_local("InternalFailure for a sequence number the shard never had")
def test_a_sequence_number_the_shard_never_had_is_invalid(
    ddb: Any, streams: Any, raw: Any, make_table: Callable[..., str]
) -> None:
    _, arn = stream_table(ddb, make_table)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    with pytest.raises(ClientError) as info:
        raw.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber="1" * 21
        )
    assert error(info)[0] == "ValidationException"


@pytest.mark.differs_from_dynamodb_local("ResourceNotFoundException for a malformed StreamArn")
def test_a_malformed_stream_arn_is_invalid(raw: Any) -> None:
    """The service answers ValidationException (Alternator's suite, run against it; the SDKs' own
    integration tests expect 'Invalid StreamArn')."""
    malformed = "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf"
    with pytest.raises(ClientError) as info:
        raw.describe_stream(StreamArn=malformed)
    assert error(info) == ("ValidationException", "Invalid StreamArn")
    with pytest.raises(ClientError) as info:
        raw.get_shard_iterator(
            StreamArn=malformed, ShardId="shardId-00000001573689847184-864758bb", ShardIteratorType="LATEST"
        )
    assert error(info) == ("ValidationException", "Invalid StreamArn")


def rollover(server: Server, table: str) -> None:
    """Close the table's open shards now (Headwater's admin call)."""
    body = json.dumps({"TableName": table}).encode()
    status, _, _ = server.request("POST", "/_headwater/streams/rollover", body, service="dynamodb")
    assert status == 200


@pytest.mark.headwater_only  # the admin rollover makes the child shard
def test_shard_filter_lists_the_children(
    ddb: Any, streams: Any, server: Server, make_table: Callable[..., str]
) -> None:
    name, arn = stream_table(ddb, make_table)
    parent = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    rollover(server, name)
    child = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][1]
    assert child["ParentShardId"] == parent

    def children(of: str) -> list[str]:
        shards = streams.describe_stream(StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": of})
        return [s["ShardId"] for s in shards["StreamDescription"]["Shards"]]

    assert children(parent) == [child["ShardId"]]
    assert children(child["ShardId"]) == []


NO_TYPE = (
    "1 validation error detected: Value 'null' at 'shardFilter.type' failed to satisfy constraint: "
    "Member must be CHILD_SHARDS"
)


@pytest.mark.parametrize(
    ("shard_filter", "message"),
    [
        ({"ShardId": "PARENT"}, NO_TYPE),
        ({}, NO_TYPE),
        pytest.param(
            {"Type": "CHILD_SHARDS"},
            "1 validation error detected: Value null at 'shardFilter.shardId' failed to satisfy constraint: "
            "Member must not be null",
            # the service refuses it (Alternator's suite, run against DynamoDB)
            marks=pytest.mark.differs_from_dynamodb_local("a filter without ShardId is accepted"),
        ),
        pytest.param(
            {"Type": "PARENT_SHARDS", "ShardId": "PARENT"},
            "1 validation error detected: Value 'PARENT_SHARDS' at 'shardFilter.type' failed to satisfy "
            "constraint: Member must satisfy enum value set: [CHILD_SHARDS]",
            # the service's enum check, as for every other enum member
            marks=pytest.mark.differs_from_dynamodb_local("an unknown Type is reported as a missing one"),
        ),
        (
            {"Type": "CHILD_SHARDS", "ShardId": "x"},
            "1 validation error detected: Value 'x' at 'shardFilter.shardId' failed to satisfy constraint: "
            "Member must have length greater than or equal to 28",
        ),
    ],
)
def test_shard_filter_needs_both_members(
    ddb: Any,
    streams: Any,
    raw: Any,
    make_table: Callable[..., str],
    shard_filter: dict[str, Any],
    message: str,
) -> None:
    _, arn = stream_table(ddb, make_table)
    parent = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    shard_filter = {k: parent if v == "PARENT" else v for k, v in shard_filter.items()}
    with pytest.raises(ClientError) as info:
        raw.describe_stream(StreamArn=arn, ShardFilter=shard_filter)
    assert error(info) == ("ValidationException", message)


@pytest.mark.headwater_only  # the admin rollover makes the new shard
def test_a_new_shards_starting_sequence_number_is_a_valid_position(
    ddb: Any, streams: Any, server: Server, make_table: Callable[..., str]
) -> None:
    """As DescribeStream reports it, before any record has that number (KCL and Flink start there)."""
    name, arn = stream_table(ddb, make_table)
    rollover(server, name)  # the child is open, and nothing is written after its boundary
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][1]
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    iterators = {
        kind: streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=kind, SequenceNumber=start
        )["ShardIterator"]
        for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
    }
    ddb.put_item(TableName=name, Item={"pk": {"S": "first"}})
    at = streams.get_records(ShardIterator=iterators["AT_SEQUENCE_NUMBER"])["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in at] == ["first"]
    assert at[0]["dynamodb"]["SequenceNumber"] == start


def test_get_records_paging_and_errors(
    ddb: Any, streams: Any, raw: Any, make_table: Callable[..., str]
) -> None:
    name, arn = stream_table(ddb, make_table)
    for i in range(25):
        ddb.put_item(TableName=name, Item={"pk": {"S": "same"}, "i": {"N": str(i)}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    got: list[str] = []
    for _ in range(3):
        page = streams.get_records(ShardIterator=it, Limit=10)
        got += [r["dynamodb"]["NewImage"]["i"]["N"] for r in page["Records"]]
        it = page["NextShardIterator"]
    assert got == [str(i) for i in range(25)]
    assert streams.get_records(ShardIterator=it)["Records"] == []
    with pytest.raises(ClientError) as info:
        raw.get_records(ShardIterator=it, Limit=1001)
    assert error(info) == (
        "ValidationException",
        "One or more parameter values were invalid: Limit should be less than or equal to 1000",
    )
    for bad in ("sdfsdfsgagaddafgagasgasgasdfasdfasdfasdfasdgasdasdgasdg", it[:-4] + "AAAA", it + "x"):
        with pytest.raises(ClientError) as info:
            raw.get_records(ShardIterator=bad)
        assert error(info) == ("ValidationException", "Invalid ShardIterator")


def test_several_shards_keep_each_item_in_one_shard(tmp_server: Callable[..., Server]) -> None:
    srv = tmp_server("--stream-shards", "4").start()
    ddb, streams = srv.client("dynamodb"), srv.client("dynamodbstreams")
    ddb.create_table(
        TableName="multi",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    arn = ddb.describe_table(TableName="multi")["Table"]["LatestStreamArn"]
    for round_ in range(3):
        for i in range(20):
            ddb.put_item(TableName="multi", Item={"pk": {"S": f"k{i}"}, "r": {"N": str(round_)}})
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 4
    assert [s["ShardId"] for s in shards] == sorted(s["ShardId"] for s in shards)
    home: dict[str, str] = {}
    rounds: dict[str, list[str]] = {}
    for shard in shards:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for r in streams.get_records(ShardIterator=it)["Records"]:
            pk = r["dynamodb"]["Keys"]["pk"]["S"]
            assert home.setdefault(pk, shard["ShardId"]) == shard["ShardId"]
            rounds.setdefault(pk, []).append(r["dynamodb"]["NewImage"]["r"]["N"])
    assert len(set(home.values())) > 1
    assert all(v == ["0", "1", "2"] for v in rounds.values()) and len(rounds) == 20

"""Regions (and accounts) are namespaces: a table, its items, indexes, stream, TTL and tags belong to the
region the client signed for, as on AWS and DynamoDB Local; a table named by ARN lives in the ARN's
account and must be in the caller's region."""

from __future__ import annotations

import contextlib
import io
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.local_differences import NO_TAGGING, REGION
from tests.server import Server

OTHER = "us-east-2"
KEY = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}
DEFINITIONS = {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
STREAM = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
# what DynamoDB Local does with a table ARN: it takes the table's name, whatever the ARN's region
ARN_REGION_IGNORED = pytest.mark.differs_from_dynamodb_local(
    "a table ARN's region and account are ignored: the name is looked up in the caller's namespace"
)


def table_names(client: Any) -> list[str]:
    """Every table of the client's namespace (the shared server holds more than one page of them)."""
    return [n for page in client.get_paginator("list_tables").paginate() for n in page["TableNames"]]


def error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def ddb2(server: Server) -> Any:
    return server.client("dynamodb", region=OTHER)


@pytest.fixture(scope="module")
def streams2(server: Server) -> Any:
    return server.client("dynamodbstreams", region=OTHER)


@pytest.fixture
def in_both(ddb: Any, ddb2: Any, table_name: str) -> Iterator[Callable[..., str]]:
    """Create the test's table in one region or both (deleted again at the end, in each)."""
    made: list[Any] = []

    def make(*clients: Any, **extra: Any) -> str:
        for client in clients:
            client.create_table(
                TableName=table_name, BillingMode="PAY_PER_REQUEST", **KEY, **DEFINITIONS, **extra
            )
            made.append(client)
        return table_name

    yield make
    for client in made:
        with contextlib.suppress(ClientError):
            client.delete_table(TableName=table_name)


def test_a_table_of_another_region_is_not_found(ddb: Any, ddb2: Any, in_both: Callable[..., str]) -> None:
    name = in_both(ddb2)
    assert ddb2.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    assert error(ddb.describe_table, TableName=name)[0] == "ResourceNotFoundException"
    assert error(ddb.get_item, TableName=name, Key={"pk": {"S": "a"}})[0] == "ResourceNotFoundException"
    assert error(ddb.put_item, TableName=name, Item={"pk": {"S": "a"}})[0] == "ResourceNotFoundException"
    assert error(ddb.delete_table, TableName=name)[0] == "ResourceNotFoundException"
    assert name not in table_names(ddb)
    assert name in table_names(ddb2)


def test_the_same_name_in_two_regions_is_two_tables(ddb: Any, ddb2: Any, in_both: Callable[..., str]) -> None:
    name = in_both(ddb, ddb2)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"S": "east-1"}})
    ddb2.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"S": "east-2"}})
    ddb2.put_item(TableName=name, Item={"pk": {"S": "b"}})
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "east-1"}
    assert ddb2.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "east-2"}
    assert ddb.scan(TableName=name)["Count"] == 1
    assert ddb2.scan(TableName=name)["Count"] == 2
    # deleting one leaves the other
    ddb2.delete_table(TableName=name)
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "east-1"}


def test_partiql_runs_in_the_callers_region(ddb: Any, ddb2: Any, in_both: Callable[..., str]) -> None:
    name = in_both(ddb, ddb2)
    ddb2.execute_statement(Statement=f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'v': 'east-2'}}")
    ddb.execute_statement(Statement=f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'v': 'east-1'}}")
    select = f"SELECT v FROM \"{name}\" WHERE pk = 'a'"
    assert ddb.execute_statement(Statement=select)["Items"] == [{"v": {"S": "east-1"}}]
    assert ddb2.execute_statement(Statement=select)["Items"] == [{"v": {"S": "east-2"}}]
    ddb2.execute_transaction(TransactStatements=[{"Statement": f"DELETE FROM \"{name}\" WHERE pk = 'a'"}])
    assert ddb2.execute_statement(Statement=select)["Items"] == []
    assert ddb.execute_statement(Statement=select)["Items"] == [{"v": {"S": "east-1"}}]


def test_batches_and_transactions_stay_in_their_region(
    ddb: Any, ddb2: Any, in_both: Callable[..., str]
) -> None:
    name = in_both(ddb, ddb2)
    ddb2.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": "b"}}}}]})
    ddb2.transact_write_items(TransactItems=[{"Put": {"TableName": name, "Item": {"pk": {"S": "t"}}}}])
    keys = {name: {"Keys": [{"pk": {"S": "b"}}, {"pk": {"S": "t"}}]}}
    assert ddb.batch_get_item(RequestItems=keys)["Responses"][name] == []
    assert len(ddb2.batch_get_item(RequestItems=keys)["Responses"][name]) == 2
    gets = [{"Get": {"TableName": name, "Key": {"pk": {"S": "t"}}}}]
    assert ddb.transact_get_items(TransactItems=gets)["Responses"] == [{}]
    assert ddb2.transact_get_items(TransactItems=gets)["Responses"][0]["Item"] == {"pk": {"S": "t"}}


def test_a_transaction_naming_a_table_of_another_region_finds_no_table(
    ddb: Any, ddb2: Any, in_both: Callable[..., str], make_table: Callable[..., str]
) -> None:
    """PynamoDB's test_transact_write__error__different_regions, in boto3."""
    elsewhere = in_both(ddb2)
    here = make_table(f"{elsewhere}_here")
    code, _ = error(
        ddb.transact_write_items,
        TransactItems=[
            {"Put": {"TableName": elsewhere, "Item": {"pk": {"S": "a"}}}},
            {"Put": {"TableName": here, "Item": {"pk": {"S": "a"}}}},
        ],
    )
    assert code == "ResourceNotFoundException"
    assert "Item" not in ddb.get_item(TableName=here, Key={"pk": {"S": "a"}})


@REGION
def test_arns_carry_the_tables_region(ddb2: Any, in_both: Callable[..., str]) -> None:
    indexes = {
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "byv",
                "KeySchema": [{"AttributeName": "v", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "v", "AttributeType": "S"},
        ],
    }
    name = in_both()
    ddb2.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **KEY, **STREAM, **indexes)
    try:
        table = ddb2.describe_table(TableName=name)["Table"]
        assert table["TableArn"].startswith(f"arn:aws:dynamodb:{OTHER}:")
        assert table["TableArn"].endswith(f":table/{name}")
        assert table["LatestStreamArn"].startswith(f"{table['TableArn']}/stream/")
        assert table["GlobalSecondaryIndexes"][0]["IndexArn"] == f"{table['TableArn']}/index/byv"
    finally:
        ddb2.delete_table(TableName=name)


def test_a_table_arn_names_the_table_in_the_callers_region(ddb2: Any, in_both: Callable[..., str]) -> None:
    name = in_both(ddb2)
    arn = ddb2.describe_table(TableName=name)["Table"]["TableArn"]
    assert ddb2.describe_table(TableName=arn)["Table"]["TableName"] == name
    ddb2.put_item(TableName=arn, Item={"pk": {"S": "a"}})
    assert ddb2.get_item(TableName=arn, Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}
    got = ddb2.batch_get_item(RequestItems={arn: {"Keys": [{"pk": {"S": "a"}}]}})
    assert got["Responses"] == {name: [{"pk": {"S": "a"}}]}  # by name, as DynamoDB Local answers
    ddb2.batch_write_item(RequestItems={arn: [{"DeleteRequest": {"Key": {"pk": {"S": "a"}}}}]})
    assert "Item" not in ddb2.get_item(TableName=name, Key={"pk": {"S": "a"}})


@ARN_REGION_IGNORED
def test_a_table_arn_of_another_region_is_refused(ddb: Any, ddb2: Any, in_both: Callable[..., str]) -> None:
    """AWS's text, as users have met it ("ValidationException: 1 validation error detected: Invalid AWS
    region in 'arn:aws:dynamodb:us-east-2:...:table/...'", hashicorp/terraform-provider-aws#42792)."""
    name = in_both(ddb, ddb2)
    arn = ddb2.describe_table(TableName=name)["Table"]["TableArn"]
    expected = ("ValidationException", f"1 validation error detected: Invalid AWS region in '{arn}'")
    assert error(ddb.get_item, TableName=arn, Key={"pk": {"S": "a"}}) == expected
    assert error(ddb.describe_table, TableName=arn) == expected
    assert error(ddb.put_item, TableName=arn, Item={"pk": {"S": "a"}}) == expected
    assert error(ddb.delete_table, TableName=arn) == expected
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("arn:aws:dynamodb:us-east-1:000000000000:table/{name}/index/byv", "Invalid table/index name."),
        ("arn:aws:dynamodb:us-east-1:000000000000:table/ab", "Invalid table/index name."),
        ("arn:aws:dynamodb:us-east-1:000000000000:table/{name}/stream/2026-01-01T00:00:00.000", "Valid ARN"),
        ("arn:aws:kinesis:us-east-1:000000000000:stream/{name}", "Valid ARN"),
        ("arn:aws-cn:dynamodb:us-east-1:000000000000:table/{name}", "Valid ARN"),
        ("arn:aws:dynamodb:us-east-1:000000000000:tables/{name}", "Valid ARN"),
    ],
)
def test_a_malformed_table_arn_is_refused(
    ddb: Any, make_table: Callable[..., str], arn: str, message: str
) -> None:
    """DynamoDB Local's texts (the API reference says nothing of them)."""
    name = make_table()
    code, text = error(ddb.get_item, TableName=arn.format(name=name), Key={"pk": {"S": "a"}})
    assert (code, text[: len(message)]) == ("ValidationException", message)


@ARN_REGION_IGNORED
def test_a_table_arn_of_another_account_is_looked_up_there(ddb: Any, make_table: Callable[..., str]) -> None:
    """Whether the caller may use another account's table is for its resource policy (the authorization
    layer); the name is resolved in the ARN's account, not the caller's."""
    name = make_table()
    ddb.put_item(TableName=name, Item={"pk": {"S": "mine"}})
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"].replace(":000000000000:", ":111122223333:")
    assert error(ddb.get_item, TableName=arn, Key={"pk": {"S": "mine"}})[0] == "ResourceNotFoundException"
    created = ddb.create_table(TableName=arn, BillingMode="PAY_PER_REQUEST", **KEY, **DEFINITIONS)
    assert created["TableDescription"]["TableArn"] == arn
    try:
        ddb.put_item(TableName=arn, Item={"pk": {"S": "theirs"}})
        assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "theirs"}})
        assert ddb.get_item(TableName=arn, Key={"pk": {"S": "theirs"}})["Item"] == {"pk": {"S": "theirs"}}
        assert table_names(ddb).count(name) == 1
    finally:
        ddb.delete_table(TableName=arn)
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "mine"}})["Item"] == {"pk": {"S": "mine"}}


@pytest.mark.differs_from_dynamodb_local("CreateTable refuses an ARN as 'Invalid table/index name'")
def test_create_table_takes_the_new_tables_arn(ddb2: Any, in_both: Callable[..., str]) -> None:
    """The API reference: "You can also provide the Amazon Resource Name (ARN) of the table in this
    parameter" (CreateTable's TableName)."""
    name = in_both()
    arn = f"arn:aws:dynamodb:{OTHER}:000000000000:table/{name}"
    ddb2.create_table(TableName=arn, BillingMode="PAY_PER_REQUEST", **KEY, **DEFINITIONS)
    try:
        assert ddb2.describe_table(TableName=name)["Table"]["TableArn"] == arn
    finally:
        ddb2.delete_table(TableName=name)


def test_list_tables_lists_the_regions_tables(ddb: Any, ddb2: Any, in_both: Callable[..., str]) -> None:
    name = in_both(ddb2)
    names: list[str] = []
    for page in ddb2.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1}):
        names.extend(page["TableNames"])
    assert name in names
    assert name not in table_names(ddb)


def test_ttl_is_the_regions_table_setting(ddb: Any, ddb2: Any, in_both: Callable[..., str]) -> None:
    name = in_both(ddb, ddb2)
    ddb2.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    assert ddb2.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] in (
        "ENABLED",
        "ENABLING",
    )
    assert (
        ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    )


@NO_TAGGING
def test_tags_are_the_regions_table_tags(ddb: Any, ddb2: Any, in_both: Callable[..., str]) -> None:
    name = in_both(ddb, ddb2)
    here = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    there = ddb2.describe_table(TableName=name)["Table"]["TableArn"]
    ddb2.tag_resource(ResourceArn=there, Tags=[{"Key": "region", "Value": OTHER}])
    assert ddb2.list_tags_of_resource(ResourceArn=there)["Tags"] == [{"Key": "region", "Value": OTHER}]
    assert ddb.list_tags_of_resource(ResourceArn=here)["Tags"] == []


@NO_TAGGING
def test_tagging_a_table_of_another_region_or_account_is_refused(
    ddb: Any, ddb2: Any, in_both: Callable[..., str]
) -> None:
    """AWS answers ValidationException for another region's table ARN and AccessDeniedException for another
    account's (checked first), as ExtendDB's comparison with DynamoDB recorded (ExtendDB/extenddb#227)."""
    name = in_both(ddb2)
    there = ddb2.describe_table(TableName=name)["Table"]["TableArn"]
    assert error(ddb.tag_resource, ResourceArn=there, Tags=[{"Key": "k", "Value": "v"}]) == (
        "ValidationException",
        f"Invalid TableArn: Invalid ResourceArn provided as input {there}",
    )
    assert error(ddb.list_tags_of_resource, ResourceArn=there)[0] == "ValidationException"
    theirs = there.replace(":000000000000:", ":111122223333:")
    code, message = error(ddb2.tag_resource, ResourceArn=theirs, Tags=[{"Key": "k", "Value": "v"}])
    assert code == "AccessDeniedException"
    assert theirs in message


@REGION
def test_streams_are_the_regions(
    ddb: Any, ddb2: Any, streams: Any, streams2: Any, in_both: Callable[..., str]
) -> None:
    name = in_both(ddb, ddb2, **STREAM)
    here = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    there = ddb2.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    assert here.startswith("arn:aws:dynamodb:us-east-1:")
    assert there.startswith(f"arn:aws:dynamodb:{OTHER}:")
    assert [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]] == [here]
    assert [s["StreamArn"] for s in streams2.list_streams(TableName=name)["Streams"]] == [there]
    listed = {s["StreamArn"] for s in streams2.list_streams(Limit=100)["Streams"]}
    assert there in listed
    assert here not in listed
    ddb.put_item(TableName=name, Item={"pk": {"S": "here"}})
    ddb2.put_item(TableName=name, Item={"pk": {"S": "there"}})
    for client, arn, pk, region in ((streams, here, "here", "us-east-1"), (streams2, there, "there", OTHER)):
        shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        (record,) = client.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
        assert record["awsRegion"] == region
        assert record["dynamodb"]["Keys"] == {"pk": {"S": pk}}


def test_a_stream_of_another_region_is_not_found(
    ddb2: Any, streams: Any, streams2: Any, in_both: Callable[..., str]
) -> None:
    """DynamoDB Local's answers (each region its own database): the API reference says nothing."""
    name = in_both(ddb2, **STREAM)
    arn = ddb2.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    ddb2.put_item(TableName=name, Item={"pk": {"S": "a"}})
    shard = streams2.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams2.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert error(streams.describe_stream, StreamArn=arn) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Stream: {arn} not found",
    )
    assert error(
        streams.get_shard_iterator, StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    ) == ("ResourceNotFoundException", "Stream does not exist")
    assert error(streams.get_records, ShardIterator=iterator["ShardIterator"]) == (
        "ResourceNotFoundException",
        "Invalid ShardId in ShardIterator",
    )
    assert name not in [s["TableName"] for s in streams.list_streams()["Streams"]]


def test_regions_are_namespaces_through_front_processes(tmp_server: Callable[..., Server]) -> None:
    """With --workers 2 the fronts read, the core writes: both answer in the caller's region."""
    srv = tmp_server("--workers", "2").start()
    ddb, ddb2 = srv.client("dynamodb"), srv.client("dynamodb", region=OTHER)
    lam, lam2 = srv.client("lambda"), srv.client("lambda", region=OTHER)
    ddb2.create_table(TableName="fronted", BillingMode="PAY_PER_REQUEST", **KEY, **DEFINITIONS)
    ddb2.put_item(TableName="fronted", Item={"pk": {"S": "a"}})
    for _ in range(8):  # new connections: the kernel hands them to either front
        assert (
            error(ddb.get_item, TableName="fronted", Key={"pk": {"S": "a"}})[0] == "ResourceNotFoundException"
        )
        assert ddb2.get_item(TableName="fronted", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}
        srv.close_clients()
        ddb, ddb2 = srv.client("dynamodb"), srv.client("dynamodb", region=OTHER)
    assert ddb.list_tables()["TableNames"] == []
    assert ddb2.list_tables()["TableNames"] == ["fronted"]
    lam2.create_function(
        FunctionName="fronted",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/test",
        Handler="app.handler",
        Code={"ZipFile": _zip("def handler(event, context):\n    return 1\n")},
    )
    assert [f["FunctionName"] for f in lam2.list_functions()["Functions"]] == ["fronted"]
    assert lam.list_functions()["Functions"] == []


def _zip(code: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", code)
    return buffer.getvalue()


def test_a_client_request_token_is_the_regions(ddb: Any, ddb2: Any, in_both: Callable[..., str]) -> None:
    """Idempotency tokens are their caller's: the same token in another region is another transaction."""
    name = in_both(ddb, ddb2)
    token = uuid.uuid4().hex
    for client, value in ((ddb, "east-1"), (ddb2, "east-2")):
        client.transact_write_items(
            ClientRequestToken=token,
            TransactItems=[{"Put": {"TableName": name, "Item": {"pk": {"S": "a"}, "v": {"S": value}}}}],
        )
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "east-1"}
    assert ddb2.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "east-2"}

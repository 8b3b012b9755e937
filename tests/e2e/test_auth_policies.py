"""Authorization by IAM policies, through boto3 and the AWS CLI: the stream-reader policy, fine-grained
access to one's own partition (dynamodb:LeadingKeys), explicit Deny over Allow, indexes, Kinesis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.auth_support import (
    ACCOUNT,
    ADMIN,
    REGION,
    AuthServer,
    Identity,
    allow,
    create_table,
    denied,
    error_of,
    policy,
    table_arn,
    user_arn,
)

ORDERS = "Orders"
STREAM_READER = allow(
    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{ORDERS}/stream/*",
)
OWN_PARTITION = allow(
    [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
        "dynamodb:TransactWriteItems",
        "dynamodb:UpdateItem",
    ],
    table_arn("Notes"),
    Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}},
)
OWN_PARTITION_PARTIQL = allow(
    ["dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert"],
    table_arn("Notes"),
    Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}},
)
NO_DELETE = policy(
    {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
    {"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"},
)
INDEX_ONLY = allow("dynamodb:Query", table_arn("Orders") + "/index/*")
KINESIS_WRITER = allow("kinesis:PutRecord", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks")


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    identities = [
        Identity("alice", policies=[ADMIN]),
        Identity("reader", policies=[STREAM_READER]),
        Identity("bob", policies=[OWN_PARTITION]),
        Identity("dave", policies=[OWN_PARTITION_PARTIQL]),
        Identity("carol", policies=[NO_DELETE]),
        Identity("indexer", policies=[INDEX_ONLY]),
        Identity("producer", policies=[KINESIS_WRITER]),
    ]
    server = AuthServer(tmp_path_factory.mktemp("policies"), identities).start()
    admin = server.client("dynamodb", "alice")
    orders = create_table(admin, ORDERS, stream=True)
    admin.update_table(
        TableName=ORDERS,
        AttributeDefinitions=[{"AttributeName": "status", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "ByStatus",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )
    assert orders["LatestStreamArn"]
    create_table(admin, "Notes", range_key="sk")
    server.client("kinesis", "alice").create_stream(StreamName="clicks", ShardCount=1)
    yield server
    server.stop()


def s(value: str) -> dict[str, str]:
    return {"S": value}


def test_the_stream_reader_policy_reads_the_stream_and_nothing_else(auth: AuthServer) -> None:
    admin = auth.client("dynamodb", "alice")
    admin.put_item(TableName=ORDERS, Item={"pk": s("o-1"), "status": s("new")})
    streams = auth.client("dynamodbstreams", "reader")
    (listed,) = streams.list_streams(TableName=ORDERS)["Streams"]
    arn = listed["StreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"] for r in records][:1] == [{"pk": s("o-1")}]

    ddb = auth.client("dynamodb", "reader")
    arn_of = table_arn(ORDERS)
    code, message = error_of(ddb.put_item, TableName=ORDERS, Item={"pk": s("o-2")})
    assert (code, message) == (
        "AccessDeniedException",
        denied(user_arn("reader"), "dynamodb:PutItem", arn_of),
    )
    code, message = error_of(ddb.get_item, TableName=ORDERS, Key={"pk": s("o-1")})
    assert (code, message) == (
        "AccessDeniedException",
        denied(user_arn("reader"), "dynamodb:GetItem", arn_of),
    )
    assert error_of(ddb.list_tables)[0] == "AccessDeniedException"
    # a stream of another table is not the policy's
    other = create_table(admin, "Invoices", stream=True)["LatestStreamArn"]
    code, message = error_of(streams.describe_stream, StreamArn=other)
    assert (code, message) == (
        "AccessDeniedException",
        denied(user_arn("reader"), "dynamodb:DescribeStream", other),
    )


def test_the_stream_reader_through_the_aws_cli(auth: AuthServer) -> None:
    listed = auth.cli("reader", "dynamodbstreams", "list-streams", "--table-name", ORDERS)
    assert listed.returncode == 0, listed.stderr
    (stream,) = json.loads(listed.stdout)["Streams"]
    described = auth.cli("reader", "dynamodbstreams", "describe-stream", "--stream-arn", stream["StreamArn"])
    assert described.returncode == 0, described.stderr
    refused = auth.cli("reader", "dynamodb", "scan", "--table-name", ORDERS)
    assert refused.returncode != 0
    message = denied(user_arn("reader"), "dynamodb:Scan", table_arn(ORDERS))
    assert (
        f"An error occurred (AccessDeniedException) when calling the Scan operation: {message}"
        in refused.stderr
    )


def test_leading_keys_keep_a_user_in_their_own_partition(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "bob")
    notes = table_arn("Notes")
    ddb.put_item(TableName="Notes", Item={"pk": s("bob"), "sk": s("1"), "text": s("mine")})
    assert ddb.get_item(TableName="Notes", Key={"pk": s("bob"), "sk": s("1")})["Item"]["text"] == s("mine")
    page = ddb.query(
        TableName="Notes", KeyConditionExpression="pk = :me", ExpressionAttributeValues={":me": s("bob")}
    )
    assert page["Count"] == 1
    ddb.batch_write_item(RequestItems={"Notes": [{"PutRequest": {"Item": {"pk": s("bob"), "sk": s("2")}}}]})
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "Notes", "Item": {"pk": s("bob"), "sk": s("3")}}},
            {
                "Update": {
                    "TableName": "Notes",
                    "Key": {"pk": s("bob"), "sk": s("1")},
                    "UpdateExpression": "SET n = :n",
                    "ExpressionAttributeValues": {":n": {"N": "1"}},
                }
            },
        ]
    )

    bob = user_arn("bob")
    assert error_of(ddb.put_item, TableName="Notes", Item={"pk": s("alice"), "sk": s("1")}) == (
        "AccessDeniedException",
        denied(bob, "dynamodb:PutItem", notes),
    )
    assert error_of(ddb.get_item, TableName="Notes", Key={"pk": s("alice"), "sk": s("1")}) == (
        "AccessDeniedException",
        denied(bob, "dynamodb:GetItem", notes),
    )
    assert error_of(
        ddb.query,
        TableName="Notes",
        KeyConditionExpression="pk = :them",
        ExpressionAttributeValues={":them": s("alice")},
    ) == ("AccessDeniedException", denied(bob, "dynamodb:Query", notes))
    mixed = [
        {"PutRequest": {"Item": {"pk": s("bob"), "sk": s("4")}}},
        {"PutRequest": {"Item": {"pk": s("alice"), "sk": s("4")}}},
    ]
    assert error_of(ddb.batch_write_item, RequestItems={"Notes": mixed}) == (
        "AccessDeniedException",
        denied(bob, "dynamodb:BatchWriteItem", notes),
    )
    assert error_of(
        ddb.transact_write_items,
        TransactItems=[
            {"Put": {"TableName": "Notes", "Item": {"pk": s("bob"), "sk": s("5")}}},
            {"Delete": {"TableName": "Notes", "Key": {"pk": s("alice"), "sk": s("1")}}},
        ],
    ) == ("AccessDeniedException", denied(bob, "dynamodb:DeleteItem", notes))
    # nothing of a refused batch or transaction was written
    admin = auth.client("dynamodb", "alice")
    assert "Item" not in admin.get_item(TableName="Notes", Key={"pk": s("bob"), "sk": s("4")})
    assert "Item" not in admin.get_item(TableName="Notes", Key={"pk": s("bob"), "sk": s("5")})


def test_an_explicit_deny_beats_an_allow(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "carol")
    create_table(ddb, "Scratch")
    ddb.put_item(TableName="Scratch", Item={"pk": s("x")})
    assert error_of(ddb.delete_table, TableName="Scratch") == (
        "AccessDeniedException",
        denied(user_arn("carol"), "dynamodb:DeleteTable", table_arn("Scratch"), "identity deny"),
    )
    auth.client("dynamodb", "alice").delete_table(TableName="Scratch")


def test_a_query_on_an_index_is_checked_against_the_index_arn(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "indexer")
    page = ddb.query(
        TableName=ORDERS,
        IndexName="ByStatus",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": s("new")},
    )
    assert page["Count"] >= 0
    assert error_of(
        ddb.query,
        TableName=ORDERS,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": s("o")},
    ) == ("AccessDeniedException", denied(user_arn("indexer"), "dynamodb:Query", table_arn(ORDERS)))


def test_kinesis_actions_on_the_stream_arn(auth: AuthServer) -> None:
    kinesis = auth.client("kinesis", "producer")
    put = kinesis.put_record(StreamName="clicks", Data=b"1", PartitionKey="a")
    assert put["ShardId"]
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks"
    code, message = error_of(kinesis.describe_stream, StreamName="clicks")
    assert (code, message) == (
        "AccessDeniedException",
        denied(user_arn("producer"), "kinesis:DescribeStream", arn),
    )


def test_an_admin_may_do_anything(auth: AuthServer) -> Any:
    ddb = auth.client("dynamodb", "alice")
    assert ORDERS in ddb.list_tables()["TableNames"]


def test_partiql_statements_need_their_own_actions_and_keep_leading_keys(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "dave")
    ddb.execute_statement(Statement="INSERT INTO Notes VALUE {'pk': 'dave', 'sk': '1', 'text': 'hi'}")
    found = ddb.execute_statement(Statement="SELECT * FROM Notes WHERE pk = ?", Parameters=[s("dave")])
    assert [item["text"] for item in found["Items"]] == [s("hi")]
    notes, dave = table_arn("Notes"), user_arn("dave")
    assert error_of(ddb.execute_statement, Statement="INSERT INTO Notes VALUE {'pk': 'eve', 'sk': '1'}") == (
        "AccessDeniedException",
        denied(dave, "dynamodb:PartiQLInsert", notes),
    )
    assert error_of(ddb.execute_statement, Statement="SELECT * FROM Notes WHERE pk = 'eve'") == (
        "AccessDeniedException",
        denied(dave, "dynamodb:PartiQLSelect", notes),
    )
    assert error_of(ddb.execute_statement, Statement="DELETE FROM Notes WHERE pk = 'dave' AND sk = '1'") == (
        "AccessDeniedException",
        denied(dave, "dynamodb:PartiQLDelete", notes),
    )
    assert error_of(
        ddb.execute_transaction,
        TransactStatements=[{"Statement": "SELECT * FROM Notes WHERE pk = 'eve' AND sk = '1'"}],
    ) == ("AccessDeniedException", denied(dave, "dynamodb:PartiQLSelect", notes))
    # the item API's actions are other actions: PartiQL grants none of them
    assert error_of(ddb.get_item, TableName="Notes", Key={"pk": s("dave"), "sk": s("1")}) == (
        "AccessDeniedException",
        denied(dave, "dynamodb:GetItem", notes),
    )

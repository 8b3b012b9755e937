"""The checks each DynamoDB/Streams request needs, and policies evaluated against them end to end."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from headwater.auth.credentials import Principal
from headwater.auth.policy import Reason, ResourcePolicy, evaluate, parse_policy
from headwater.auth.requests import Caller, Check, TableKeys, authorize, checks
from headwater.errors import AccessDeniedException

from .signing import ALICE, WORKER

REGION = "us-east-1"
ACCOUNT = "111122223333"
ORDERS = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Orders"
STREAM = ORDERS + "/stream/2024-02-12T18:57:26.492"
NOW = 1_700_000_000.0
KEYS = {"Orders": TableKeys("customer", {"ByStatus": "status"}), "Audit": TableKeys("id")}


def caller(principal: Principal = ALICE, **extra: Any) -> Caller:
    return Caller(principal, REGION, NOW, **extra)


def only(operation: str, request: dict[str, Any], **kw: Any) -> Check:
    (check,) = checks(operation, request, caller(), KEYS, **kw)
    return check


def s(value: str) -> dict[str, str]:
    return {"S": value}


def test_global_keys() -> None:
    context = only("ListTables", {}).context
    assert context["aws:PrincipalArn"] == ALICE.principal_arn
    assert context["aws:PrincipalAccount"] == ACCOUNT and context["aws:PrincipalType"] == "User"
    assert context["aws:username"] == "alice" and context["aws:userid"] == ALICE.user_id
    assert context["aws:CurrentTime"] == "2023-11-14T22:13:20Z" and context["aws:EpochTime"] == "1700000000"
    assert context["aws:SecureTransport"] == "false" and context["aws:RequestedRegion"] == REGION
    assert "aws:SourceIp" not in context
    role = checks("ListTables", {}, caller(WORKER, source_ip="10.0.0.7", secure_transport=True), KEYS)[
        0
    ].context
    assert "aws:username" not in role and role["aws:PrincipalType"] == "AssumedRole"
    assert role["aws:SourceIp"] == "10.0.0.7" and role["aws:SecureTransport"] == "true"
    assert role["aws:PrincipalArn"] == f"arn:aws:iam::{ACCOUNT}:role/worker"


@pytest.mark.parametrize(
    ("operation", "request_body", "resource"),
    [
        ("ListTables", {}, "*"),
        ("DescribeLimits", {}, "*"),
        ("DescribeTable", {"TableName": "Orders"}, ORDERS),
        ("CreateTable", {"TableName": "Orders"}, ORDERS),
        ("UpdateTimeToLive", {"TableName": "Orders"}, ORDERS),
        ("TagResource", {"ResourceArn": ORDERS, "Tags": []}, ORDERS),
        ("DescribeStream", {"StreamArn": STREAM}, STREAM),
        ("GetShardIterator", {"StreamArn": STREAM, "ShardId": "x", "ShardIteratorType": "LATEST"}, STREAM),
        ("ListStreams", {"TableName": "Orders"}, ORDERS + "/stream/*"),
        ("ListStreams", {}, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*/stream/*"),
        ("Scan", {"TableName": "Orders"}, ORDERS),
        ("Query", {"TableName": "Orders", "IndexName": "ByStatus"}, ORDERS + "/index/ByStatus"),
    ],
)
def test_resources(operation: str, request_body: dict[str, Any], resource: str) -> None:
    check = only(operation, request_body)
    assert (check.action, check.resource) == (f"dynamodb:{operation}", resource)


def test_get_records_checks_the_iterators_stream() -> None:
    assert only("GetRecords", {"ShardIterator": "opaque"}, stream_arn=STREAM).resource == STREAM


def test_item_operations_carry_leading_keys_attributes_and_return_values() -> None:
    put = only(
        "PutItem",
        {
            "TableName": "Orders",
            "Item": {"customer": s("c1"), "total": {"N": "5"}},
            "ConditionExpression": "attribute_not_exists(#c.nested) AND size(notes) < :n",
            "ExpressionAttributeNames": {"#c": "coupon"},
            "ExpressionAttributeValues": {":n": {"N": "3"}},
            "ReturnValues": "ALL_OLD",
            "ReturnConsumedCapacity": "TOTAL",
        },
    )
    assert put.context["dynamodb:LeadingKeys"] == ("c1",)
    assert put.context["dynamodb:Attributes"] == ("coupon", "customer", "notes", "total")
    assert put.context["dynamodb:ReturnValues"] == "ALL_OLD"
    assert put.context["dynamodb:ReturnConsumedCapacity"] == "TOTAL"
    assert "dynamodb:Select" not in put.context


def test_update_item_names_every_attribute_it_touches() -> None:
    update = only(
        "UpdateItem",
        {
            "TableName": "Orders",
            "Key": {"customer": {"N": "42"}},
            "UpdateExpression": "SET a.b[1] = :v, #x = if_not_exists(c, :v) REMOVE d ADD e :v",
            "ExpressionAttributeNames": {"#x": "x y"},
            "ExpressionAttributeValues": {":v": {"N": "1"}},
        },
    )
    assert update.context["dynamodb:LeadingKeys"] == ("42",)
    assert update.context["dynamodb:Attributes"] == ("a", "c", "customer", "d", "e", "x y")
    assert "dynamodb:ReturnValues" not in update.context


def test_legacy_parameters_name_their_attributes_too() -> None:
    get = only("GetItem", {"TableName": "Orders", "Key": {"customer": s("c")}, "AttributesToGet": ["p", "q"]})
    assert get.context["dynamodb:Attributes"] == ("customer", "p", "q")


def test_query_leading_keys_come_from_the_key_condition() -> None:
    query = only(
        "Query",
        {
            "TableName": "Orders",
            "KeyConditionExpression": "customer = :c AND begins_with(created, :p)",
            "ExpressionAttributeValues": {":c": s("c7"), ":p": s("2024")},
            "ProjectionExpression": "amount",
            "Select": "SPECIFIC_ATTRIBUTES",
        },
    )
    assert query.context["dynamodb:LeadingKeys"] == ("c7",)
    assert query.context["dynamodb:Select"] == "SPECIFIC_ATTRIBUTES"
    assert query.context["dynamodb:Attributes"] == ("amount", "created", "customer")
    on_index = only(
        "Query",
        {
            "TableName": "Orders",
            "IndexName": "ByStatus",
            "KeyConditions": {"status": {"ComparisonOperator": "EQ", "AttributeValueList": [s("open")]}},
        },
    )
    assert on_index.context["dynamodb:LeadingKeys"] == ("open",)


def test_a_table_without_known_keys_gets_no_leading_keys() -> None:
    check = only("GetItem", {"TableName": "Unknown", "Key": {"id": s("x")}})
    assert "dynamodb:LeadingKeys" not in check.context


def test_batch_requests_check_every_table() -> None:
    batch = checks(
        "BatchWriteItem",
        {
            "RequestItems": {
                "Orders": [
                    {"PutRequest": {"Item": {"customer": s("a"), "v": s("1")}}},
                    {"DeleteRequest": {"Key": {"customer": s("b")}}},
                ],
                "Audit": [{"PutRequest": {"Item": {"id": s("z")}}}],
            }
        },
        caller(),
        KEYS,
    )
    assert [(c.action, c.resource) for c in batch] == [
        ("dynamodb:BatchWriteItem", ORDERS),
        ("dynamodb:BatchWriteItem", ORDERS.replace("Orders", "Audit")),
    ]
    assert batch[0].context["dynamodb:LeadingKeys"] == ("a", "b")
    assert batch[0].context["dynamodb:Attributes"] == ("customer", "v")
    gets = checks(
        "BatchGetItem",
        {
            "RequestItems": {
                "Orders": {"Keys": [{"customer": s("a")}, {"customer": s("a")}], "ProjectionExpression": "v"}
            }
        },
        caller(),
        KEYS,
    )
    assert gets[0].context["dynamodb:LeadingKeys"] == ("a",) and gets[0].context["dynamodb:Attributes"] == (
        "customer",
        "v",
    )


def test_transactions_check_each_item_as_its_own_action() -> None:
    writes = checks(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "Orders", "Item": {"customer": s("a")}}},
                {
                    "Update": {
                        "TableName": "Audit",
                        "Key": {"id": s("b")},
                        "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": "Orders", "Key": {"customer": s("c")}}},
                {
                    "ConditionCheck": {
                        "TableName": "Orders",
                        "Key": {"customer": s("d")},
                        "ConditionExpression": "attribute_exists(customer)",
                    }
                },
            ]
        },
        caller(),
        KEYS,
    )
    assert [c.action for c in writes] == [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    ]
    assert all(c.context["dynamodb:EnclosingOperation"] == "TransactWriteItems" for c in writes)
    assert [c.context["dynamodb:LeadingKeys"] for c in writes] == [("a",), ("b",), ("c",), ("d",)]
    gets = checks(
        "TransactGetItems",
        {"TransactItems": [{"Get": {"TableName": "Orders", "Key": {"customer": s("e")}}}]},
        caller(),
        KEYS,
    )
    assert (
        gets[0].action == "dynamodb:GetItem"
        and gets[0].context["dynamodb:EnclosingOperation"] == "TransactGetItems"
    )


# --- policies end to end

STREAM_READER = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Orders/stream/*",
        }
    ],
}
OWN_PARTITION = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
            ],
            "Resource": ["arn:aws:dynamodb:*:*:table/Orders"],
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}},
        }
    ],
}


def holding(document: dict[str, Any], principal: Principal = ALICE) -> Principal:
    return dataclasses.replace(principal, policies=(parse_policy(document),))


def allowed(principal: Principal, operation: str, request: dict[str, Any], **kw: Any) -> bool:
    found = checks(operation, request, caller(principal), KEYS, **kw)
    return all(evaluate(principal, c.action, c.resource, c.context).allowed for c in found)


def test_the_stream_reader_policy_reads_the_stream_and_nothing_else() -> None:
    reader = holding(STREAM_READER)
    assert allowed(reader, "ListStreams", {"TableName": "Orders"})
    assert allowed(reader, "DescribeStream", {"StreamArn": STREAM})
    assert allowed(
        reader, "GetShardIterator", {"StreamArn": STREAM, "ShardId": "s", "ShardIteratorType": "TRIM_HORIZON"}
    )
    assert allowed(reader, "GetRecords", {"ShardIterator": "i"}, stream_arn=STREAM)
    assert not allowed(reader, "ListStreams", {})
    assert not allowed(reader, "DescribeStream", {"StreamArn": STREAM.replace("Orders", "Audit")})
    assert not allowed(reader, "GetItem", {"TableName": "Orders", "Key": {"customer": s("a")}})
    assert not allowed(reader, "Scan", {"TableName": "Orders"})
    assert not allowed(reader, "ListTables", {})
    (denied,) = checks("Scan", {"TableName": "Orders"}, caller(reader), KEYS)
    decision = evaluate(reader, denied.action, denied.resource, denied.context)
    assert decision.reason is Reason.NO_IDENTITY_ALLOW
    assert decision.message == (
        f"User: {ALICE.arn} is not authorized to perform: dynamodb:Scan on resource: {ORDERS} "
        "because no identity-based policy allows the dynamodb:Scan action"
    )


def test_leading_keys_keep_a_user_in_their_own_partition() -> None:
    alice = holding(OWN_PARTITION)
    mine, theirs = {"customer": s("alice")}, {"customer": s("bob")}
    assert allowed(alice, "GetItem", {"TableName": "Orders", "Key": mine})
    assert not allowed(alice, "GetItem", {"TableName": "Orders", "Key": theirs})
    assert allowed(alice, "PutItem", {"TableName": "Orders", "Item": {**mine, "v": s("1")}})
    assert not allowed(alice, "PutItem", {"TableName": "Orders", "Item": {**theirs, "v": s("1")}})
    query = {
        "TableName": "Orders",
        "KeyConditionExpression": "customer = :c",
        "ExpressionAttributeValues": {":c": s("alice")},
    }
    assert allowed(alice, "Query", query)
    assert not allowed(alice, "Query", {**query, "ExpressionAttributeValues": {":c": s("bob")}})
    batch_mine = {
        "RequestItems": {"Orders": [{"PutRequest": {"Item": mine}}, {"DeleteRequest": {"Key": mine}}]}
    }
    batch_mixed = {
        "RequestItems": {"Orders": [{"PutRequest": {"Item": mine}}, {"DeleteRequest": {"Key": theirs}}]}
    }
    assert allowed(alice, "BatchWriteItem", batch_mine)
    assert not allowed(alice, "BatchWriteItem", batch_mixed)
    transact = {
        "TransactItems": [
            {"Put": {"TableName": "Orders", "Item": mine}},
            {"Delete": {"TableName": "Orders", "Key": theirs}},
        ]
    }
    assert not allowed(alice, "TransactWriteItems", transact)
    assert allowed(alice, "TransactWriteItems", {"TransactItems": transact["TransactItems"][:1]})
    assert not allowed(alice, "Scan", {"TableName": "Orders"})  # Scan has no leading keys: not granted


def test_authorize_raises_the_first_denial_and_consults_resource_policies() -> None:
    reader = holding(STREAM_READER)
    found = checks(
        "BatchGetItem", {"RequestItems": {"Orders": {"Keys": [{"customer": s("a")}]}}}, caller(reader), KEYS
    )
    with pytest.raises(AccessDeniedException) as caught:
        authorize(reader, found)
    assert str(caught.value.message).endswith(
        "because no identity-based policy allows the dynamodb:BatchGetItem action"
    )
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ALICE.arn},
                "Action": "dynamodb:BatchGetItem",
                "Resource": ORDERS,
            }
        ],
    }
    table_policy = ResourcePolicy(parse_policy(grant, "resource"), ACCOUNT)
    authorize(reader, found, lambda arn: table_policy if arn.startswith(ORDERS) else None)


def test_partiql_statements_are_checked_as_their_kind_on_their_table_or_index() -> None:
    select = only(
        "ExecuteStatement", {"Statement": "SELECT * FROM Orders WHERE customer = ?", "Parameters": [s("c1")]}
    )
    assert (select.action, select.resource) == ("dynamodb:PartiQLSelect", ORDERS)
    assert select.context["dynamodb:LeadingKeys"] == ("c1",)
    assert select.context["dynamodb:FullTableScan"] == "false"
    scan = only("ExecuteStatement", {"Statement": 'SELECT * FROM "Orders"."ByStatus" WHERE total > 3'})
    assert scan.resource == ORDERS + "/index/ByStatus" and scan.context["dynamodb:FullTableScan"] == "true"
    batch = checks(
        "BatchExecuteStatement",
        {
            "Statements": [
                {"Statement": "INSERT INTO Audit VALUE {'id': 'a1'}"},
                {"Statement": "UPDATE Orders SET n = 1 WHERE customer = 'c2'"},
                {"Statement": "DELETE FROM Orders WHERE customer = 'c3'"},
                {"Statement": "NOT PARTIQL"},  # refused by the operation, which reads nothing
            ]
        },
        caller(),
        KEYS,
    )
    assert [c.action for c in batch] == [
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
    ]
    assert [c.context["dynamodb:LeadingKeys"] for c in batch] == [("a1",), ("c2",), ("c3",)]
    assert "dynamodb:FullTableScan" not in batch[0].context
    transaction = checks(
        "ExecuteTransaction",
        {"TransactStatements": [{"Statement": "EXISTS(SELECT * FROM Orders WHERE customer = 'c4')"}]},
        caller(),
        KEYS,
    )
    assert [c.action for c in transaction] == ["dynamodb:PartiQLSelect"]


def test_leading_keys_hold_for_partiql() -> None:
    own = holding(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert"],
                    "Resource": ORDERS,
                    "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}},
                }
            ],
        }
    )
    assert allowed(own, "ExecuteStatement", {"Statement": "SELECT * FROM Orders WHERE customer = 'alice'"})
    assert not allowed(own, "ExecuteStatement", {"Statement": "SELECT * FROM Orders WHERE customer = 'bob'"})
    assert allowed(own, "ExecuteStatement", {"Statement": "INSERT INTO Orders VALUE {'customer': 'alice'}"})
    assert not allowed(own, "ExecuteStatement", {"Statement": "INSERT INTO Orders VALUE {'customer': 'eve'}"})
    assert not allowed(own, "ExecuteStatement", {"Statement": "DELETE FROM Orders WHERE customer = 'alice'"})
    assert not allowed(own, "GetItem", {"TableName": "Orders", "Key": {"customer": s("bob")}})


def test_the_replication_stamps_member_needs_a_peers_permission() -> None:
    """Headwater's HeadwaterReplicationStamps (Scan, GetRecords) is one more check on the table:
    headwater:ReadReplicationStamps, which only the peers replicating a global table are granted."""
    member = {"HeadwaterReplicationStamps": True}
    scan = checks("Scan", {"TableName": "Orders", **member}, caller(), KEYS)
    assert [(c.action, c.resource) for c in scan] == [
        ("dynamodb:Scan", ORDERS),
        ("headwater:ReadReplicationStamps", ORDERS),
    ]
    records = checks("GetRecords", {"ShardIterator": "x", **member}, caller(), KEYS, stream_arn=STREAM)
    assert [(c.action, c.resource) for c in records] == [
        ("dynamodb:GetRecords", STREAM),
        ("headwater:ReadReplicationStamps", ORDERS),
    ]
    assert len(checks("Scan", {"TableName": "Orders"}, caller(), KEYS)) == 1

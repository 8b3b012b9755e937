"""Sets come back in one order everywhere (libraries compare them as lists): DynamoDB Local's order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.test_streams import all_records, stream_table

KEY = {"pk": {"S": "a"}}
GIVEN = {
    "ss": {"SS": ["b", "a", "B", "aa", "\u00e9", "z", "\U0001f600", "\ufffd", "10", "9"]},
    "ns": {"NS": ["10", "9", "-1", "1.5", "100", "2", "0", "-10", "0.001", "3e2"]},
    "bs": {"BS": [b"\x01", b"\x80", b"\xff", b"a", b"\x00", b"\x01\x00", b"A", b"\x7f"]},
}
# Numbers by value, strings by UTF-16 code unit, binaries by signed bytes (as DynamoDB Local orders them).
ORDERED = {
    "ss": {"SS": ["10", "9", "B", "a", "aa", "b", "z", "\u00e9", "\U0001f600", "\ufffd"]},
    "ns": {"NS": ["-10", "-1", "0", "0.001", "1.5", "2", "9", "10", "100", "300"]},
    "bs": {"BS": [b"\x80", b"\xff", b"\x00", b"\x01", b"\x01\x00", b"A", b"a", b"\x7f"]},
}
NESTED_GIVEN = {"m": {"M": {"ns": {"NS": ["3", "1", "2"]}}}, "l": {"L": [{"SS": ["z", "y"]}]}}
NESTED_ORDERED = {"m": {"M": {"ns": {"NS": ["1", "2", "3"]}}}, "l": {"L": [{"SS": ["y", "z"]}]}}
ITEM = {**KEY, **GIVEN, **NESTED_GIVEN}
EXPECTED = {**KEY, **ORDERED, **NESTED_ORDERED}


def test_every_read_returns_sets_in_order(ddb: Any, streams: Any, make_table: Callable[..., str]) -> None:
    name, arn = stream_table(ddb, make_table)
    ddb.put_item(TableName=name, Item=ITEM)
    assert ddb.get_item(TableName=name, Key=KEY)["Item"] == EXPECTED
    assert ddb.get_item(TableName=name, Key=KEY, ProjectionExpression="ss, m")["Item"] == {
        "ss": ORDERED["ss"],
        "m": NESTED_ORDERED["m"],
    }
    assert ddb.scan(TableName=name)["Items"] == [EXPECTED]
    assert ddb.query(
        TableName=name, KeyConditionExpression="pk = :k", ExpressionAttributeValues={":k": KEY["pk"]}
    )["Items"] == [EXPECTED]
    assert ddb.batch_get_item(RequestItems={name: {"Keys": [KEY]}})["Responses"][name] == [EXPECTED]
    got = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": name, "Key": KEY}}])
    assert got["Responses"] == [{"Item": EXPECTED}]
    old = ddb.put_item(TableName=name, Item=ITEM, ReturnValues="ALL_OLD")["Attributes"]
    assert old == EXPECTED
    images = [r["dynamodb"]["NewImage"] for r in all_records(streams, arn)]
    assert images == [EXPECTED]  # the second put changed nothing: no record


def test_updates_keep_sets_in_order(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    ddb.put_item(TableName=name, Item={**KEY, "ss": {"SS": ["m", "c"]}})
    out = ddb.update_item(
        TableName=name,
        Key=KEY,
        UpdateExpression="ADD ss :add SET ns = :ns",
        ExpressionAttributeValues={":add": {"SS": ["z", "a"]}, ":ns": {"NS": ["2", "-3", "10"]}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {**KEY, "ss": {"SS": ["a", "c", "m", "z"]}, "ns": {"NS": ["-3", "2", "10"]}}
    out = ddb.update_item(
        TableName=name,
        Key=KEY,
        AttributeUpdates={"bs": {"Action": "ADD", "Value": {"BS": [b"\x02", b"\xf0"]}}},
        ReturnValues="UPDATED_NEW",
    )
    assert out["Attributes"] == {"bs": {"BS": [b"\xf0", b"\x02"]}}
    out = ddb.update_item(
        TableName=name,
        Key=KEY,
        UpdateExpression="DELETE ss :d",
        ExpressionAttributeValues={":d": {"SS": ["c"]}},
        ReturnValues="UPDATED_NEW",
    )
    assert out["Attributes"] == {"ss": {"SS": ["a", "m", "z"]}}

"""UpdateItem semantics through boto3: what an update creates, and what ReturnValues answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_streams import all_records, stream_table
from tests.api.test_tables import error_of

KEY = {"pk": {"S": "a"}}

# Updates whose every action takes something away. On a missing item DynamoDB creates nothing (the API
# reference: AttributeUpdates "DELETE - Nothing happens; there is no attribute to delete"); DynamoDB Local
# creates an item holding only its key.
ONLY_REMOVES: list[dict[str, Any]] = [
    {"UpdateExpression": "REMOVE a"},
    {"UpdateExpression": "REMOVE a, b"},
    {"UpdateExpression": "DELETE s :v", "ExpressionAttributeValues": {":v": {"SS": ["x"]}}},
    {"UpdateExpression": "REMOVE a DELETE s :v", "ExpressionAttributeValues": {":v": {"NS": ["1"]}}},
    {"AttributeUpdates": {"a": {"Action": "DELETE"}}},
    {"AttributeUpdates": {"s": {"Action": "DELETE", "Value": {"SS": ["x"]}}}},
    {"AttributeUpdates": {"a": {"Action": "DELETE"}, "s": {"Action": "DELETE", "Value": {"BS": [b"x"]}}}},
]


CREATES_THE_KEY = pytest.mark.differs_from_dynamodb_local("an item holding only its key is created")


@pytest.fixture
def table(make_table: Callable[..., str]) -> str:
    return make_table()


@pytest.mark.parametrize("update", ONLY_REMOVES)
@pytest.mark.parametrize("return_values", ["NONE", "ALL_NEW", "UPDATED_NEW", "ALL_OLD", "UPDATED_OLD"])
@CREATES_THE_KEY
def test_removing_from_a_missing_item_creates_nothing(
    ddb: Any, table: str, update: dict[str, Any], return_values: str
) -> None:
    out = ddb.update_item(TableName=table, Key=KEY, ReturnValues=return_values, **update)
    assert "Attributes" not in out
    assert "Item" not in ddb.get_item(TableName=table, Key=KEY)
    assert ddb.describe_table(TableName=table)["Table"]["ItemCount"] == 0


@pytest.mark.parametrize(
    "update",
    [
        {},
        {"AttributeUpdates": {}},
        {"UpdateExpression": "ADD n :v", "ExpressionAttributeValues": {":v": {"N": "1"}}},
        {"UpdateExpression": "SET a = :v REMOVE b", "ExpressionAttributeValues": {":v": {"N": "1"}}},
        {"AttributeUpdates": {"s": {"Action": "ADD", "Value": {"SS": ["x"]}}}},
    ],
)
def test_any_other_update_creates_the_missing_item(ddb: Any, table: str, update: dict[str, Any]) -> None:
    new = ddb.update_item(TableName=table, Key=KEY, ReturnValues="ALL_NEW", **update)["Attributes"]
    assert ddb.get_item(TableName=table, Key=KEY)["Item"] == new
    assert new["pk"] == KEY["pk"]


def test_removing_from_a_missing_item_keeps_its_errors(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as info:
        ddb.update_item(TableName=table, Key=KEY, UpdateExpression="REMOVE a.b")
    assert error_of(info) == (
        "ValidationException",
        "The document path provided in the update expression is invalid for update",
    )
    with pytest.raises(ClientError) as info:
        ddb.update_item(TableName=table, Key=KEY, UpdateExpression="REMOVE pk")
    assert error_of(info) == (
        "ValidationException",
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of "
        "the key",
    )


def test_removing_from_an_existing_item_still_updates_it(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**KEY, "a": {"N": "1"}, "s": {"SS": ["x", "y"]}})
    out = ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="REMOVE a DELETE s :v",
        ExpressionAttributeValues={":v": {"SS": ["x"]}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {**KEY, "s": {"SS": ["y"]}}


@CREATES_THE_KEY
def test_removing_from_a_missing_item_writes_no_stream_record(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    name, arn = stream_table(ddb, make_table)
    ddb.update_item(TableName=name, Key=KEY, UpdateExpression="REMOVE a")
    ddb.update_item(TableName=name, Key=KEY, AttributeUpdates={"a": {"Action": "DELETE"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "marker"}})
    records = all_records(streams, arn)
    assert [(r["eventName"], r["dynamodb"]["Keys"]) for r in records] == [("INSERT", {"pk": {"S": "marker"}})]


@CREATES_THE_KEY
def test_transaction_removing_from_a_missing_item_creates_nothing(ddb: Any, table: str) -> None:
    ddb.transact_write_items(
        TransactItems=[
            {"Update": {"TableName": table, "Key": KEY, "UpdateExpression": "REMOVE a"}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "b"}}}},
        ]
    )
    assert "Item" not in ddb.get_item(TableName=table, Key=KEY)
    assert ddb.scan(TableName=table)["Items"] == [{"pk": {"S": "b"}}]


NESTED = {
    **KEY,
    "a": {"M": {"b": {"M": {"c": {"N": "1"}, "d": {"N": "2"}}}, "e": {"N": "3"}}},
    "x": {"M": {"y": {"M": {"z": {"N": "1"}}}}},
    "l": {"L": [{"N": "1"}, {"N": "5"}]},
    "s": {"N": "9"},
}


@pytest.mark.parametrize(
    ("expression", "updated_new", "updated_old"),
    [
        # A removed path is not in the new item: no emptied parent maps come back.
        ("REMOVE a.b.c", None, {"a": NESTED["a"]}),
        ("REMOVE x.y.z", None, {"x": NESTED["x"]}),
        ("REMOVE x.y", None, {"x": NESTED["x"]}),
        ("REMOVE a.b.c, s", None, {"a": NESTED["a"], "s": NESTED["s"]}),
        ("REMOVE l[0], l[1]", None, {"l": NESTED["l"]}),
        # Paths that were never there are in neither item.
        ("REMOVE a.b.nope", None, None),
        ("REMOVE a.nope, l[7]", None, None),
        ("SET l[10] = :v", None, None),
        # REMOVE l[0] shifts the list, so l[0] exists again afterwards.
        ("REMOVE l[0]", {"l": {"L": [{"N": "5"}]}}, {"l": NESTED["l"]}),
        ("SET x.y.w = :v", {"x": {"M": {"y": {"M": {"z": {"N": "1"}, "w": {"N": "7"}}}}}}, None),
        (
            "REMOVE a.b.c SET a.e = :v",
            {"a": {"M": {"b": {"M": {"d": {"N": "2"}}}, "e": {"N": "7"}}}},
            {"a": NESTED["a"]},
        ),
    ],
)
def test_updated_new_and_old_name_only_paths_present_in_that_item(
    ddb: Any, table: str, expression: str, updated_new: Any, updated_old: Any
) -> None:
    values = {"ExpressionAttributeValues": {":v": {"N": "7"}}} if ":v" in expression else {}
    for return_values, expected in (("UPDATED_NEW", updated_new), ("UPDATED_OLD", updated_old)):
        ddb.put_item(TableName=table, Item=NESTED)
        out = ddb.update_item(
            TableName=table, Key=KEY, UpdateExpression=expression, ReturnValues=return_values, **values
        )
        assert out.get("Attributes") == expected, return_values

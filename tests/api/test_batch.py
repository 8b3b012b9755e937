"""BatchGetItem and BatchWriteItem through boto3."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.local_differences import KEY_TEXTS, MISSING_TABLE


def _error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def _key(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"k{i}"}}


def test_batch_write_then_get(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(f"h_{uuid.uuid4().hex}")
    response = ddb.batch_write_item(
        RequestItems={name: [{"PutRequest": {"Item": {**_key(i), "v": {"N": str(i)}}}} for i in range(25)]},
        ReturnConsumedCapacity="TOTAL",
    )
    assert response["UnprocessedItems"] == {}
    assert response["ConsumedCapacity"][0]["CapacityUnits"] == 25.0
    got = ddb.batch_get_item(
        RequestItems={name: {"Keys": [_key(i) for i in range(0, 30, 3)], "ProjectionExpression": "v"}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert sorted(int(item["v"]["N"]) for item in got["Responses"][name]) == list(range(0, 25, 3))
    assert got["UnprocessedKeys"] == {}
    assert got["ConsumedCapacity"] == [
        {"TableName": name, "CapacityUnits": 4.5}
    ]  # 9 found items, 0.5 each; missing keys cost nothing
    ddb.batch_write_item(RequestItems={name: [{"DeleteRequest": {"Key": _key(i)}} for i in range(10)]})
    assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 15


# What the service answers for a key that does not fit the schema, in every request shape (recorded from
# the real service by dynalite and by cross-region conformance captures); DynamoDB Local has texts of its own.
MISMATCH = "The provided key element does not match the schema"


@pytest.mark.parametrize(
    ("writes", "message"),
    [
        (
            [{"PutRequest": {"Item": _key(1)}}, {"DeleteRequest": {"Key": _key(1)}}],
            "Provided list of item keys contains duplicates",
        ),
        pytest.param(
            [{"DeleteRequest": {"Key": {"pk": {"S": "a"}, "x": {"S": "b"}}}}], MISMATCH, marks=KEY_TEXTS
        ),
        pytest.param([{"DeleteRequest": {"Key": {"x": {"S": "a"}}}}], MISMATCH, marks=KEY_TEXTS),
        pytest.param([{"PutRequest": {"Item": {"x": {"S": "a"}}}}], MISMATCH, marks=KEY_TEXTS),
        pytest.param([{"PutRequest": {"Item": {"pk": {"N": "1"}}}}], MISMATCH, marks=KEY_TEXTS),
        pytest.param([{"DeleteRequest": {"Key": {"pk": {"N": "1"}}}}], MISMATCH, marks=KEY_TEXTS),
        (
            [{"PutRequest": {"Item": _key(1)}, "DeleteRequest": {"Key": _key(1)}}],
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
            "supported datatypes",
        ),
    ],
)
def test_batch_write_errors(
    ddb: Any, make_table: Callable[..., str], writes: list[Any], message: str
) -> None:
    name = make_table(f"h_{uuid.uuid4().hex}")
    assert _error(ddb.batch_write_item, RequestItems={name: writes}) == ("ValidationException", message)


def test_batch_limits(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(f"h_{uuid.uuid4().hex}")
    other = make_table(name + "_b")
    too_many = {name: [{"PutRequest": {"Item": _key(i)}} for i in range(13)]}
    too_many[other] = [{"PutRequest": {"Item": _key(i)}} for i in range(13)]
    assert _error(ddb.batch_write_item, RequestItems=too_many) == (
        "ValidationException",
        "Too many items requested for the BatchWriteItem call",
    )
    keys = {name: {"Keys": [_key(i) for i in range(60)]}, other: {"Keys": [_key(i) for i in range(41)]}}
    assert _error(ddb.batch_get_item, RequestItems=keys) == (
        "ValidationException",
        "Too many items requested for the BatchGetItem call",
    )
    assert _error(ddb.batch_get_item, RequestItems={name: {"Keys": [_key(1), _key(1)]}}) == (
        "ValidationException",
        "Provided list of item keys contains duplicates",
    )


@MISSING_TABLE
def test_batch_missing_table(ddb: Any) -> None:
    """The real service's text (user reports, dynalite)."""
    assert _error(ddb.batch_get_item, RequestItems={"missing_table": {"Keys": [_key(1)]}}) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    assert _error(
        ddb.batch_write_item, RequestItems={"missing_table": [{"PutRequest": {"Item": _key(1)}}]}
    ) == ("ResourceNotFoundException", "Requested resource not found")


@KEY_TEXTS
@pytest.mark.parametrize(
    "key", [{"pk": {"N": "1"}}, {"x": {"S": "a"}}, {"pk": {"S": "a"}, "x": {"S": "b"}}, {}]
)
def test_batch_get_key_that_does_not_match_the_schema(
    ddb: Any, make_table: Callable[..., str], key: dict[str, Any]
) -> None:
    name = make_table(f"h_{uuid.uuid4().hex}")
    assert _error(ddb.batch_get_item, RequestItems={name: {"Keys": [key]}}) == (
        "ValidationException",
        MISMATCH,
    )


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ["b", "a", "a", "b"],
            "One or more parameter values were invalid: Duplicate value in attribute name: a",
        ),
        (
            ["x", "b", "a", "b", "a"],
            "One or more parameter values were invalid: Duplicate value in attribute name: b",
        ),
        (["a", "a", ""], "One or more parameter values were invalid: Duplicate value in attribute name: a"),
        (["", "a", "a"], "Empty attribute name"),
    ],
)
def test_batch_get_attributes_to_get_errors(
    ddb: Any, make_table: Any, names: list[str], message: str
) -> None:
    name = make_table()
    with pytest.raises(ClientError) as info:
        ddb.batch_get_item(RequestItems={name: {"Keys": [{"pk": {"S": "a"}}], "AttributesToGet": names}})
    assert info.value.response["Error"] == {"Code": "ValidationException", "Message": message}

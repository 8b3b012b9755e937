"""Query through boto3 against a live server: key conditions, order, pages, Select rules, errors."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.local_differences import MISSED_KEY_ELEMENT


def _error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


TYPE_MISMATCH = (
    "One or more parameter values were invalid: Condition parameter type does not match schema type"
)


def _kc(pk: str = "a", **more: Any) -> dict[str, Any]:
    return {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": pk}}, **more}


@pytest.fixture
def ranged(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table(f"q_{uuid.uuid4().hex}", range_key=("sk", "N"))
    for i in range(10):
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": str(i)}, "v": {"S": f"v{i % 2}"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "sk": {"N": "1"}})
    return name


def _sks(response: dict[str, Any]) -> list[int]:
    return [int(item["sk"]["N"]) for item in response["Items"]]


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("sk = :a", {":a": "3"}, [3]),
        ("sk < :a", {":a": "3"}, [0, 1, 2]),
        ("sk <= :a", {":a": "3"}, [0, 1, 2, 3]),
        ("sk > :a", {":a": "7"}, [8, 9]),
        ("sk >= :a", {":a": "7"}, [7, 8, 9]),
        ("sk BETWEEN :a AND :b", {":a": "2", ":b": "4"}, [2, 3, 4]),
        (":a < sk", {":a": "7"}, [8, 9]),
    ],
)
def test_sort_key_conditions(
    ddb: Any, ranged: str, condition: str, values: dict[str, str], expected: list[int]
) -> None:
    attr_values = {":p": {"S": "a"}, **{k: {"N": v} for k, v in values.items()}}
    response = ddb.query(
        TableName=ranged,
        KeyConditionExpression=f"pk = :p AND {condition}",
        ExpressionAttributeValues=attr_values,
    )
    assert _sks(response) == expected
    assert response["Count"] == response["ScannedCount"] == len(expected)


def test_begins_with_and_backwards(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(range_key=("sk", "S"))
    for sk in ("a", "ab", "abc", "abd", "b", "a\xff"):
        ddb.put_item(TableName=name, Item={"pk": {"S": "x"}, "sk": {"S": sk}})
    response = ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
        ExpressionAttributeValues={":p": {"S": "x"}, ":s": {"S": "ab"}},
        ScanIndexForward=False,
    )
    assert [i["sk"]["S"] for i in response["Items"]] == ["abd", "abc", "ab"]


def test_pagination_with_limit_and_filter_that_drops_everything(ddb: Any, ranged: str) -> None:
    seen = 0
    pages = 0
    start: dict[str, Any] | None = None
    while True:
        kwargs = _kc(Limit=3, FilterExpression="v = :none")
        kwargs["ExpressionAttributeValues"][":none"] = {"S": "nothing"}
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = ddb.query(TableName=ranged, **kwargs)
        pages += 1
        assert response["Items"] == [] and response["Count"] == 0
        seen += response["ScannedCount"]
        start = response.get("LastEvaluatedKey")
        if not start:
            break
    # Limit counts rows read before the filter: 10 rows -> pages of 3, 3, 3, 1.
    assert seen == 10 and pages == 4


def test_limit_reached_exactly_still_returns_last_key(ddb: Any, ranged: str) -> None:
    response = ddb.query(TableName=ranged, Limit=10, **_kc())
    assert response["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "9"}}
    rest = ddb.query(TableName=ranged, ExclusiveStartKey=response["LastEvaluatedKey"], **_kc())
    assert rest["Items"] == [] and "LastEvaluatedKey" not in rest


def test_one_megabyte_pages(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(range_key=("sk", "N"))
    blob = "x" * 300_000
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": str(i)}, "b": {"S": blob}})
    first = ddb.query(TableName=name, **_kc(), ReturnConsumedCapacity="TOTAL")
    assert first["Count"] == 4  # the fourth item takes the page past 1 MB
    assert "LastEvaluatedKey" in first
    assert first["ConsumedCapacity"]["CapacityUnits"] == 146.5  # ceil(4 * 300_008 / 4096) / 2
    second = ddb.query(TableName=name, **_kc(), ExclusiveStartKey=first["LastEvaluatedKey"])
    assert _sks(second) == [4]


def test_select_count_and_projection(ddb: Any, ranged: str) -> None:
    response = ddb.query(TableName=ranged, Select="COUNT", **_kc())
    assert "Items" not in response and response["Count"] == 10
    projected = ddb.query(TableName=ranged, ProjectionExpression="v", Limit=1, **_kc())
    assert projected["Items"] == [{"v": {"S": "v0"}}]


def test_consumed_capacity(ddb: Any, ranged: str) -> None:
    eventual = ddb.query(TableName=ranged, ReturnConsumedCapacity="TOTAL", **_kc())
    assert eventual["ConsumedCapacity"]["CapacityUnits"] == 0.5
    strong = ddb.query(TableName=ranged, ReturnConsumedCapacity="INDEXES", ConsistentRead=True, **_kc())
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert strong["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {},
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        ),
        ({**_kc(), "IndexName": "nope"}, "The table does not have the specified index: nope"),
        (
            {**_kc(), "Select": "ALL_PROJECTED_ATTRIBUTES"},
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        ),
        (
            {**_kc(), "Select": "SPECIFIC_ATTRIBUTES"},
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES",
        ),
        (
            {**_kc(), "Select": "ALL_ATTRIBUTES", "ProjectionExpression": "v"},
            "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
        ),
        (
            {**_kc(), "Select": "COUNT", "ProjectionExpression": "v"},
            "Cannot specify the ProjectionExpression when choosing to get only the Count",
        ),
        (
            {
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"N": "1"}},
            },
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ),
        pytest.param(
            {"KeyConditionExpression": "sk = :p", "ExpressionAttributeValues": {":p": {"N": "1"}}},
            "Query condition missed key schema element: pk",
            marks=MISSED_KEY_ELEMENT,
        ),
        (
            {
                "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
                "ExpressionAttributeValues": {":p": {"S": "a"}, ":s": {"N": "1"}},
            },
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or "
            "function: begins_with, operand type: N",
        ),
        (
            {
                "KeyConditionExpression": "pk = :p",
                "FilterExpression": "sk = :s",
                "ExpressionAttributeValues": {":p": {"S": "a"}, ":s": {"N": "1"}},
            },
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk",
        ),
        (
            {**_kc(), "ExclusiveStartKey": {"pk": {"S": "a"}}},
            "Exclusive Start Key must have same size as table's key schema",
        ),
        pytest.param(  # the service's text as dynalite recorded it
            {**_kc(), "ExclusiveStartKey": {"pk": {"S": "a"}, "sk": {"S": "1"}}},
            "The provided starting key is invalid: The provided key element does not match the schema",
            marks=pytest.mark.differs_from_dynamodb_local("'Type mismatch for attribute to update'"),
        ),
        (
            {**_kc(), "ExclusiveStartKey": {"pk": {"S": "b"}, "sk": {"N": "1"}}},
            "The provided starting key does not match the range key predicate",
        ),
    ],
)
def test_validation_errors(ddb: Any, ranged: str, kwargs: dict[str, Any], message: str) -> None:
    assert _error(ddb.query, TableName=ranged, **kwargs) == ("ValidationException", message)


def _kce(expression: str, **values: dict[str, str]) -> dict[str, Any]:
    return {
        "KeyConditionExpression": expression,
        "ExpressionAttributeValues": {f":{k}": v for k, v in values.items()},
    }


EMPTY_KEY = (
    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
    "empty string value. Key: "
)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # no condition on the partition key
        pytest.param(
            _kce("sk = :n", n={"N": "1"}),
            "Query condition missed key schema element: pk",
            marks=MISSED_KEY_ELEMENT,
        ),
        pytest.param(
            _kce("sk > :n AND v = :s", n={"N": "1"}, s={"S": "a"}),
            "Query condition missed key schema element: pk",
            marks=MISSED_KEY_ELEMENT,
        ),
        pytest.param(
            _kce("v = :s", s={"S": "a"}),
            "Query condition missed key schema element: pk",
            marks=MISSED_KEY_ELEMENT,
        ),
        (_kce("pk > :s", s={"S": "a"}), "Query key condition not supported"),
        (_kce("pk > :s AND v = :s", s={"S": "a"}), "Query key condition not supported"),
        # a table key has at most two conditions
        (
            _kce("pk = :s AND sk = :n AND v = :s", s={"S": "a"}, n={"N": "1"}),
            "Conditions can be of length 1 or 2 only",
        ),
        # value types and empty values are checked before a condition on a non-key attribute
        (_kce("pk = :n AND v = :s", n={"N": "1"}, s={"S": "a"}), TYPE_MISMATCH),
        (_kce("pk = :e", e={"S": ""}), EMPTY_KEY + "pk"),
        (_kce("pk = :e AND v = :s", e={"S": ""}, s={"S": "a"}), EMPTY_KEY + "pk"),
        (
            {
                "KeyConditions": {
                    "pk": {"ComparisonOperator": "NULL"},
                }
            },
            "Only scalar types can be used as Hash Key values",
        ),
        ({"KeyConditions": {}}, "Conditions must be at least length 1"),
    ],
)
def test_key_condition_errors(ddb: Any, ranged: str, kwargs: dict[str, Any], message: str) -> None:
    assert _error(ddb.query, TableName=ranged, **kwargs) == ("ValidationException", message)


def test_two_conditions_on_a_hash_only_table_are_not_supported(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    name = make_table()
    assert _error(ddb.query, TableName=name, **_kce("pk = :s AND v = :s", s={"S": "a"})) == (
        "ValidationException",
        "Query key condition not supported",
    )


@MISSED_KEY_ELEMENT
def test_a_condition_without_the_partition_key_on_a_hash_only_table(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    """The service names the attribute (user reports of the real service)."""
    name = make_table()
    assert _error(ddb.query, TableName=name, **_kce("v = :s", s={"S": "a"})) == (
        "ValidationException",
        "Query condition missed key schema element: pk",
    )


def test_empty_sort_key_value_in_an_index_condition(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(
        range_key=("sk", "S"),
        attribute_definitions=[("l", "S")],
        LocalSecondaryIndexes=[
            {
                "IndexName": "lsi",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    assert _error(
        ddb.query, TableName=name, **_kce("pk = :s AND begins_with(sk, :e)", s={"S": "a"}, e={"S": ""})
    ) == (
        "ValidationException",
        EMPTY_KEY + "sk",
    )
    assert _error(
        ddb.query, TableName=name, IndexName="lsi", **_kce("pk = :s AND l > :e", s={"S": "a"}, e={"S": ""})
    ) == (
        "ValidationException",
        "One or more parameter values are not valid. A value specified for a secondary index key is not "
        "supported. The AttributeValue for a key attribute cannot contain an empty string value. "
        "IndexName: lsi, IndexKey: l",
    )


def test_legacy_key_conditions_and_query_filter(ddb: Any, ranged: str) -> None:
    response = ddb.query(
        TableName=ranged,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
            "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "6"}]},
        },
        QueryFilter={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "v1"}]}},
    )
    assert _sks(response) == [7, 9]
    assert response["ScannedCount"] == 4
    _code, message = _error(
        ddb.query,
        TableName=ranged,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}},
        QueryFilter={"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}},
    )
    assert message == "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk"


_numbers = st.decimals(
    min_value=Decimal("-1e20"), max_value=Decimal("1e20"), allow_nan=False, allow_infinity=False, places=4
).map(lambda d: format(d.normalize(), "f"))
_strings = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8)
_binaries = st.binary(min_size=1, max_size=8)


@pytest.mark.parametrize("key_type", ["S", "N", "B"])
def test_query_order_matches_sorted_decoded_keys(
    ddb: Any, make_table: Callable[..., str], key_type: str
) -> None:
    name = make_table(range_key=("sk", key_type))
    strategy = {"S": _strings, "N": _numbers, "B": _binaries}[key_type]
    counter = iter(range(10_000))

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(strategy, min_size=1, max_size=25, unique=True))
    def check(values: list[Any]) -> None:
        pk = f"p{next(counter)}"
        with_keys = []
        for value in values:
            av = {key_type: value}
            with_keys.append(value)
            ddb.put_item(TableName=name, Item={"pk": {"S": pk}, "sk": av})
        got: list[Any] = []
        start = None
        while True:
            kwargs: dict[str, Any] = {"Limit": 7}
            if start:
                kwargs["ExclusiveStartKey"] = start
            response = ddb.query(TableName=name, **_kc(pk), **kwargs)
            got.extend(item["sk"][key_type] for item in response["Items"])
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        if key_type == "S":
            expected = sorted(with_keys, key=lambda s: s.encode("utf-8"))
            assert got == expected
        elif key_type == "N":
            assert [Decimal(g) for g in got] == sorted(Decimal(v) for v in with_keys)
        else:
            assert got == sorted(with_keys)

    check()


def test_binary_keys_round_trip_in_last_evaluated_key(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(range_key=("sk", "B"))
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"B": b"\x00\x01"}})
    response = ddb.query(TableName=name, Limit=1, **_kc())
    assert response["LastEvaluatedKey"]["sk"]["B"] == b"\x00\x01"
    assert base64.b64encode(b"\x00\x01")

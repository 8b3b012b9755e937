"""Multi-attribute GSI keys (DynamoDB, November 2025) through boto3 against a live server.

A GSI's KeySchema names up to four HASH attributes, then up to four RANGE attributes. An item is in the
index only when it has every key attribute with its declared type; a Query gives equality on every HASH
attribute, then conditions on the RANGE attributes from the first one on, equality on all but the last.
Error texts were checked against DynamoDB Local 3.3 (the AWS documentation does not give them). Where
DynamoDB Local differs on purpose: an undefined key attribute, a mistyped or oversized index key value
keep the service's longer texts (as for single-attribute keys); a mistyped ExclusiveStartKey value is
"The provided starting key is invalid"; and the backfill leaves out items that break the new key, as the
AWS documentation says (DynamoDB Local indexes them).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.local_differences import MISSED_KEY_ELEMENT
from tests.server import Server

Item = dict[str, dict[str, Any]]
INVALID = "One or more parameter values were invalid: "
NOT_VALID = "One or more parameter values are not valid. "
TYPE_MISMATCH = INVALID + "Condition parameter type does not match schema type"


def _error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def _keys(*elements: str) -> list[dict[str, str]]:
    """ "h1 HASH", "r1 RANGE", ... as KeySchema elements."""
    return [{"AttributeName": e.split()[0], "KeyType": e.split()[1]} for e in elements]


def _defs(**types: str) -> list[dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


def _b(raw: bytes) -> dict[str, bytes]:
    return {"B": raw}  # boto3 takes and returns binary values as bytes


GSI_KEY = _keys("h1 HASH", "h2 HASH", "r1 RANGE", "r2 RANGE", "r3 RANGE")
TABLE_DEFS = {"pk": "S", "h1": "S", "h2": "N", "r1": "S", "r2": "N", "r3": "B"}
HASH_VALUES = {":h1": {"S": "A"}, ":h2": {"N": "1"}}
BOTH_HASHES = "h1 = :h1 AND h2 = :h2"


def _create(ddb: Any, name: str, **extra: Any) -> None:
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": _keys("pk HASH"),
        "AttributeDefinitions": _defs(**TABLE_DEFS),
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {"IndexName": "gsi", "KeySchema": GSI_KEY, "Projection": {"ProjectionType": "ALL"}},
            {
                "IndexName": "pair",
                "KeySchema": _keys("h1 HASH", "h2 HASH"),
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": "incl",
                "KeySchema": _keys("h1 HASH", "r1 RANGE", "r2 RANGE"),
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
            },
        ],
    }
    request.update(extra)
    ddb.create_table(**request)


# Sort values chosen so that byte order of a naive concatenation would differ from tuple order.
R1 = ["a", "ab", "b"]
R2 = ["-10", "-1.5", "0", "2", "10"]
R3 = [b"\x00", b"\x00\xff", b"\x01", b"\xff"]


def _dataset() -> list[Item]:
    items: list[Item] = []
    n = 0
    for h1, h2 in (("A", "1"), ("A", "2"), ("B", "1")):
        for r1 in R1:
            for r2 in R2:
                for r3 in R3[:2] if r2 != "0" else R3:
                    n += 1
                    items.append(
                        {
                            "pk": {"S": f"p{n:03d}"},
                            "h1": {"S": h1},
                            "h2": {"N": h2},
                            "r1": {"S": r1},
                            "r2": {"N": r2},
                            "r3": _b(r3),
                            "v": {"S": f"v{n}"},
                            "w": {"S": "unprojected"},
                        }
                    )
    return items


def _sort_key(item: Item) -> tuple[bytes, Decimal, bytes]:
    return (
        item["r1"]["S"].encode(),
        Decimal(item["r2"]["N"]),
        item["r3"]["B"],
    )


@pytest.fixture(scope="module")
def loaded(ddb: Any) -> Iterator[tuple[str, list[Item]]]:
    name = f"multi_{uuid.uuid4().hex}"
    _create(ddb, name)
    items = _dataset()
    for item in items:
        ddb.put_item(TableName=name, Item=item)
    yield name, items
    ddb.delete_table(TableName=name)


def _query_all(ddb: Any, table: str, **kwargs: Any) -> tuple[list[Item], int]:
    items: list[Item] = []
    pages = 0
    while True:
        page = ddb.query(TableName=table, **kwargs)
        pages += 1
        items.extend(i for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return items, pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _partition(items: list[Item], h1: str = "A", h2: str = "1") -> list[Item]:
    chosen = [i for i in items if i["h1"]["S"] == h1 and i["h2"]["N"] == h2]
    return sorted(chosen, key=_sort_key)


# --- table definition ----------------------------------------------------------------------------------


def test_describe_table_echoes_the_full_key_schema(ddb: Any, loaded: tuple[str, list[Item]]) -> None:
    table = ddb.describe_table(TableName=loaded[0])["Table"]
    indexes = {g["IndexName"]: g for g in table["GlobalSecondaryIndexes"]}
    assert indexes["gsi"]["KeySchema"] == GSI_KEY
    assert indexes["pair"]["KeySchema"] == _keys("h1 HASH", "h2 HASH")
    assert indexes["gsi"]["ItemCount"] == len(loaded[1])
    assert {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]} == TABLE_DEFS


def test_four_hash_and_four_range_attributes(ddb: Any, table_name: str) -> None:
    names = [f"k{i}" for i in range(8)]
    key = _keys(*(f"{n} HASH" for n in names[:4]), *(f"{n} RANGE" for n in names[4:]))
    ddb.create_table(
        TableName=table_name,
        KeySchema=_keys("pk HASH"),
        AttributeDefinitions=_defs(pk="S", **dict.fromkeys(names, "S")),
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {"IndexName": "gsi", "KeySchema": key, "Projection": {"ProjectionType": "ALL"}}
        ],
    )
    item = {"pk": {"S": "p"}, **{n: {"S": n} for n in names}}
    ddb.put_item(TableName=table_name, Item=item)
    condition = " AND ".join(f"{n} = :{n}" for n in names)
    response = ddb.query(
        TableName=table_name,
        IndexName="gsi",
        KeyConditionExpression=condition,
        ExpressionAttributeValues={f":{n}": {"S": n} for n in names},
    )
    assert response["Items"] == [item]
    ddb.delete_table(TableName=table_name)


KEY_SCHEMA_TOO_BIG = (
    "Key Schema too big.  Key Schema must at most consist of the hash and range key of a table"
)
KEY_ORDER = (
    "Invalid key order. Hash Key must be specified first in key schema, Range Key must be specifed second"
)
SCHEMA_ERRORS = [
    (
        _keys(*(f"a{i} HASH" for i in range(5))),
        "Too many partition keys. GSI can have at most 4 partition keys",
    ),
    (
        _keys("a0 HASH", *(f"a{i} RANGE" for i in range(1, 6))),
        "Too many sort keys. GSI can have at most 4 sort keys",
    ),
    (_keys(*(f"a{i} HASH" for i in range(4)), *(f"a{i} RANGE" for i in range(4, 9))), KEY_SCHEMA_TOO_BIG),
    (_keys("a0 HASH", "a1 RANGE", "a2 HASH"), KEY_ORDER),
    (
        _keys("a0 RANGE", "a1 RANGE", "a2 RANGE"),
        "No Hash Key specified in schema.  All Dynamo DB tables must have exactly one hash key",
    ),
    (_keys("a0 HASH", "a1 HASH", "a0 RANGE"), "Two keys can not have the same name"),
    pytest.param(  # the service's text for GSI keys, as dynalite recorded it
        _keys("a0 HASH", "a1 HASH", "zz RANGE"),
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. Keys: [a0, a1, zz], "
        "AttributeDefinitions: [pk, a0, a1, a2, a3, a4, a5, a6, a7, a8]",
        marks=pytest.mark.differs_from_dynamodb_local(
            "'Attribute zz is not defined in AttributeDefinitions'"
        ),
    ),
]


@pytest.mark.parametrize(("key_schema", "message"), SCHEMA_ERRORS)
def test_create_table_refuses_bad_multi_attribute_key_schemas(
    ddb: Any, table_name: str, key_schema: list[dict[str, str]], message: str
) -> None:
    assert _error(
        ddb.create_table,
        TableName=table_name,
        KeySchema=_keys("pk HASH"),
        AttributeDefinitions=_defs(pk="S", **{f"a{i}": "S" for i in range(9)}),
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {"IndexName": "gsi", "KeySchema": key_schema, "Projection": {"ProjectionType": "ALL"}}
        ],
    ) == ("ValidationException", message)


@pytest.mark.parametrize(
    ("table_key", "lsi_key"),
    [
        (_keys("pk HASH", "a0 RANGE", "a1 RANGE"), None),
        (_keys("pk HASH", "a0 HASH", "a1 RANGE"), None),
        (_keys("pk HASH", "a0 RANGE"), _keys("pk HASH", "a1 RANGE", "a2 RANGE")),
    ],
)
def test_tables_and_lsis_keep_single_attribute_keys(
    ddb: Any, table_name: str, table_key: list[dict[str, str]], lsi_key: list[dict[str, str]] | None
) -> None:
    extra: dict[str, Any] = {}
    if lsi_key is not None:
        extra["LocalSecondaryIndexes"] = [
            {"IndexName": "lsi", "KeySchema": lsi_key, "Projection": {"ProjectionType": "ALL"}}
        ]
    names = {e["AttributeName"] for e in table_key + (lsi_key or [])}
    assert _error(
        ddb.create_table,
        TableName=table_name,
        KeySchema=table_key,
        AttributeDefinitions=_defs(**dict.fromkeys(sorted(names), "S")),
        BillingMode="PAY_PER_REQUEST",
        **extra,
    ) == ("ValidationException", KEY_SCHEMA_TOO_BIG)


@pytest.mark.parametrize(("key_schema", "message"), SCHEMA_ERRORS[:-1])
def test_update_table_refuses_bad_multi_attribute_key_schemas(
    ddb: Any, make_table: Callable[..., str], key_schema: list[dict[str, str]], message: str
) -> None:
    name = make_table()
    assert _error(
        ddb.update_table,
        TableName=name,
        AttributeDefinitions=_defs(**{f"a{i}": "S" for i in range(9)}),
        GlobalSecondaryIndexUpdates=[
            {"Create": {"IndexName": "gsi", "KeySchema": key_schema, "Projection": {"ProjectionType": "ALL"}}}
        ],
    ) == ("ValidationException", message)


# --- index maintenance ---------------------------------------------------------------------------------


def _in_index(ddb: Any, table: str, pk: str, index: str = "gsi") -> bool:
    items = ddb.scan(TableName=table, IndexName=index)["Items"]
    return any(i["pk"]["S"] == pk for i in items)


def test_an_item_is_in_the_index_only_with_every_key_attribute(ddb: Any, table_name: str) -> None:
    _create(ddb, table_name)
    full: Item = {"pk": {"S": "x"}, "h1": {"S": "A"}, "h2": {"N": "1"}, "r1": {"S": "a"}, "r2": {"N": "1"}}
    ddb.put_item(TableName=table_name, Item=full)  # r3 missing
    assert not _in_index(ddb, table_name, "x") and _in_index(ddb, table_name, "x", "pair")
    ddb.update_item(
        TableName=table_name,
        Key={"pk": {"S": "x"}},
        UpdateExpression="SET r3 = :b",
        ExpressionAttributeValues={":b": _b(b"\x01")},
    )
    assert _in_index(ddb, table_name, "x")
    ddb.update_item(TableName=table_name, Key={"pk": {"S": "x"}}, UpdateExpression="REMOVE h2")
    assert not _in_index(ddb, table_name, "x") and not _in_index(ddb, table_name, "x", "pair")
    assert _in_index(ddb, table_name, "x", "incl")
    ddb.delete_item(TableName=table_name, Key={"pk": {"S": "x"}})
    assert ddb.scan(TableName=table_name, IndexName="incl")["Count"] == 0
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert all(g["ItemCount"] == 0 for g in table["GlobalSecondaryIndexes"])
    ddb.delete_table(TableName=table_name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"h2": {"S": "1"}},
            INVALID + "Type mismatch for Index Key h2 Expected: N Actual: S IndexName: gsi",
            marks=pytest.mark.differs_from_dynamodb_local("'Type mismatch for Index Key', without the names"),
        ),
        (
            {"r3": {"B": ""}},
            NOT_VALID
            + "A value specified for a secondary index key is not supported. The AttributeValue for "
            "a key attribute cannot contain an empty binary value. IndexName: gsi, IndexKey: r3",
        ),
        pytest.param(
            {"r1": {"S": "x" * 1025}},
            INVALID + "Size limit exceeded for Index Key r1 Actual Size: 1025 bytes Max Size: 1024 bytes "
            "IndexName: gsi",
            marks=pytest.mark.differs_from_dynamodb_local("'Size limit exceeded', without the details"),
        ),
        (
            {"h1": {"S": "x" * 2047}},
            "Aggregate size for HASH key attributes h1, h2 of index gsi has exceeded limit 2048 bytes, with "
            "actual size 2049 bytes",
        ),
        (
            {"r1": {"S": "x" * 1000}, "r3": _b(b"y" * 30)},
            "Aggregate size for RANGE key attributes r1, r2, r3 of index gsi has exceeded limit 1024 bytes, "
            "with actual size 1033 bytes",
        ),
    ],
)
def test_writes_that_break_a_multi_attribute_key_are_refused(
    ddb: Any, loaded: tuple[str, list[Item]], change: Item, message: str
) -> None:
    item = {**loaded[1][0], "pk": {"S": "refused"}, **change}
    assert _error(ddb.put_item, TableName=loaded[0], Item=item) == ("ValidationException", message)


# --- Query ---------------------------------------------------------------------------------------------


def test_results_are_ordered_by_the_sort_attributes_in_order(
    ddb: Any, loaded: tuple[str, list[Item]]
) -> None:
    table, items = loaded
    expected = _partition(items)
    forward, _ = _query_all(
        ddb, table, IndexName="gsi", KeyConditionExpression=BOTH_HASHES, ExpressionAttributeValues=HASH_VALUES
    )
    assert forward == expected
    backward, _ = _query_all(
        ddb,
        table,
        IndexName="gsi",
        KeyConditionExpression=BOTH_HASHES,
        ExpressionAttributeValues=HASH_VALUES,
        ScanIndexForward=False,
    )
    assert backward == expected[::-1]


SORT_CONDITIONS: list[tuple[str, dict[str, Any], Callable[[Item], bool]]] = [
    ("r1 = :a", {":a": {"S": "a"}}, lambda i: i["r1"]["S"] == "a"),
    ("r1 < :a", {":a": {"S": "ab"}}, lambda i: i["r1"]["S"] < "ab"),
    ("r1 >= :a", {":a": {"S": "ab"}}, lambda i: i["r1"]["S"] >= "ab"),
    ("begins_with(r1, :a)", {":a": {"S": "a"}}, lambda i: i["r1"]["S"].startswith("a")),
    ("r1 BETWEEN :a AND :b", {":a": {"S": "a"}, ":b": {"S": "ab"}}, lambda i: "a" <= i["r1"]["S"] <= "ab"),
    (
        "r1 = :a AND r2 = :n",
        {":a": {"S": "ab"}, ":n": {"N": "0"}},
        lambda i: i["r1"]["S"] == "ab" and i["r2"]["N"] == "0",
    ),
    (
        "r1 = :a AND r2 < :n",
        {":a": {"S": "a"}, ":n": {"N": "0"}},
        lambda i: i["r1"]["S"] == "a" and Decimal(i["r2"]["N"]) < 0,
    ),
    (
        "r1 = :a AND r2 <= :n",
        {":a": {"S": "a"}, ":n": {"N": "-1.5"}},
        lambda i: i["r1"]["S"] == "a" and Decimal(i["r2"]["N"]) <= Decimal("-1.5"),
    ),
    (
        "r1 = :a AND r2 > :n",
        {":a": {"S": "b"}, ":n": {"N": "0"}},
        lambda i: i["r1"]["S"] == "b" and Decimal(i["r2"]["N"]) > 0,
    ),
    (
        "r1 = :a AND r2 BETWEEN :n AND :m",
        {":a": {"S": "ab"}, ":n": {"N": "-1.5"}, ":m": {"N": "2"}},
        lambda i: i["r1"]["S"] == "ab" and Decimal("-1.5") <= Decimal(i["r2"]["N"]) <= 2,
    ),
    (
        "r1 = :a AND r2 = :n AND begins_with(r3, :b)",
        {":a": {"S": "a"}, ":n": {"N": "0"}, ":b": _b(b"\x00")},
        lambda i: i["r1"]["S"] == "a" and i["r2"]["N"] == "0" and i["r3"]["B"].startswith(b"\x00"),
    ),
    (
        "r1 = :a AND r2 = :n AND r3 > :b",
        {":a": {"S": "a"}, ":n": {"N": "0"}, ":b": _b(b"\x00")},
        lambda i: i["r1"]["S"] == "a" and i["r2"]["N"] == "0" and i["r3"]["B"] > b"\x00",
    ),
    (
        "r1 = :a AND r2 = :n AND r3 = :b",
        {":a": {"S": "b"}, ":n": {"N": "10"}, ":b": _b(b"\x00\xff")},
        lambda i: i["r1"]["S"] == "b" and i["r2"]["N"] == "10" and i["r3"]["B"] == b"\x00\xff",
    ),
]


@pytest.mark.parametrize(("condition", "values", "holds"), SORT_CONDITIONS)
def test_sort_conditions_select_what_they_say(
    ddb: Any,
    loaded: tuple[str, list[Item]],
    condition: str,
    values: dict[str, Any],
    holds: Callable[[Item], bool],
) -> None:
    table, items = loaded
    expected = [i for i in _partition(items) if holds(i)]
    assert expected, "the condition should select something"
    found, _ = _query_all(
        ddb,
        table,
        IndexName="gsi",
        KeyConditionExpression=f"{BOTH_HASHES} AND {condition}",
        ExpressionAttributeValues={**HASH_VALUES, **values},
    )
    assert found == expected


def _hash_message(names: str) -> str:
    return f"HASH key attributes {names} must have equality conditions specified in the query"


def _range_message(names: str, present: str) -> str:
    return (
        f"RANGE key attributes {names} must have equality conditions specified in the query because a "
        f"condition is present on key attribute {present}"
    )


@pytest.mark.parametrize(
    ("condition", "values", "message"),
    [
        ("h1 = :h1", {}, _hash_message("h2")),
        ("r1 = :s", {":s": {"S": "a"}}, _hash_message("h1, h2")),
        ("h1 = :h1 AND h2 > :h2", {}, _hash_message("h2")),
        ("begins_with(h1, :h1) AND h2 = :h2", {}, _hash_message("h1")),
        (f"{BOTH_HASHES} AND r2 = :n", {":n": {"N": "1"}}, _range_message("r1", "r2")),
        (f"{BOTH_HASHES} AND r3 = :b", {":b": _b(b"x")}, _range_message("r1, r2", "r3")),
        (
            f"{BOTH_HASHES} AND r1 = :s AND r3 = :b",
            {":s": {"S": "a"}, ":b": _b(b"x")},
            _range_message("r2", "r3"),
        ),
        (
            f"{BOTH_HASHES} AND r1 > :s AND r2 = :n",
            {":s": {"S": "a"}, ":n": {"N": "1"}},
            _range_message("r1", "r2"),
        ),
        (
            f"{BOTH_HASHES} AND begins_with(r1, :s) AND r2 = :n",
            {":s": {"S": "a"}, ":n": {"N": "1"}},
            _range_message("r1", "r2"),
        ),
        (
            f"{BOTH_HASHES} AND r1 = :s AND begins_with(r2, :n)",
            {":s": {"S": "a"}, ":n": {"N": "1"}},
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or "
            "function: begins_with, operand type: N",
        ),
        pytest.param(
            f"{BOTH_HASHES} AND x = :s",
            {":s": {"S": "a"}},
            "Query condition missed key schema element: r1",
            marks=MISSED_KEY_ELEMENT,
        ),
        (
            f"{BOTH_HASHES} AND r1 = :s AND r2 = :n AND r3 = :b AND x = :s",
            {":s": {"S": "a"}, ":n": {"N": "1"}, ":b": _b(b"x")},
            "Query key condition not supported",
        ),
        (
            f"{BOTH_HASHES} AND h1 = :h1",
            {},
            "KeyConditionExpressions must only contain one condition per key",
        ),
        ("h1 = :h1 AND h2 = :s", {":s": {"S": "1"}}, TYPE_MISMATCH),
        (f"{BOTH_HASHES} AND r1 = :s AND r2 > :s", {":s": {"S": "a"}}, TYPE_MISMATCH),
        (
            f"{BOTH_HASHES} AND r1 = :e",
            {":e": {"S": ""}},
            NOT_VALID
            + "A value specified for a secondary index key is not supported. The AttributeValue for "
            "a key attribute cannot contain an empty string value. IndexName: gsi, IndexKey: r1",
        ),
        (
            "h1 = :h1 AND h2.x = :h2",
            {},
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: "
            "IndexKey: h2",
        ),
        (
            f"{BOTH_HASHES} OR r1 = :s",
            {":s": {"S": "a"}},
            "Invalid operator used in KeyConditionExpression: OR",
        ),
    ],
)
def test_query_errors_for_every_wrong_combination(
    ddb: Any, loaded: tuple[str, list[Item]], condition: str, values: dict[str, Any], message: str
) -> None:
    used = {k: v for k, v in {**HASH_VALUES, **values}.items() if k in condition}
    assert _error(
        ddb.query,
        TableName=loaded[0],
        IndexName="gsi",
        KeyConditionExpression=condition,
        ExpressionAttributeValues=used,
    ) == ("ValidationException", message)


def test_a_filter_may_not_name_a_key_attribute_of_the_index(ddb: Any, loaded: tuple[str, list[Item]]) -> None:
    assert _error(
        ddb.query,
        TableName=loaded[0],
        IndexName="gsi",
        KeyConditionExpression=BOTH_HASHES,
        FilterExpression="r2 = :n",
        ExpressionAttributeValues={**HASH_VALUES, ":n": {"N": "1"}},
    ) == (
        "ValidationException",
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: r2",
    )


def test_legacy_key_conditions(ddb: Any, loaded: tuple[str, list[Item]]) -> None:
    table, items = loaded

    def eq(value: dict[str, str]) -> dict[str, Any]:
        return {"ComparisonOperator": "EQ", "AttributeValueList": [value]}

    found, _ = _query_all(
        ddb,
        table,
        IndexName="gsi",
        KeyConditions={
            "h1": eq({"S": "A"}),
            "h2": eq({"N": "1"}),
            "r1": eq({"S": "b"}),
            "r2": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "0"}]},
        },
    )
    assert found == [i for i in _partition(items) if i["r1"]["S"] == "b" and Decimal(i["r2"]["N"]) > 0]
    assert _error(ddb.query, TableName=table, IndexName="gsi", KeyConditions={"h1": eq({"S": "A"})}) == (
        "ValidationException",
        _hash_message("h2"),
    )


# --- pages, Scan, projections, capacity ----------------------------------------------------------------


def test_pages_carry_every_key_attribute(ddb: Any, loaded: tuple[str, list[Item]]) -> None:
    table, items = loaded
    page = ddb.query(
        TableName=table,
        IndexName="gsi",
        KeyConditionExpression=BOTH_HASHES,
        ExpressionAttributeValues=HASH_VALUES,
        Limit=3,
    )
    last = page["LastEvaluatedKey"]
    third = _partition(items)[2]
    assert last == {name: third[name] for name in ("pk", "h1", "h2", "r1", "r2", "r3")}
    for forward in (True, False):
        found, pages = _query_all(
            ddb,
            table,
            IndexName="gsi",
            KeyConditionExpression=f"{BOTH_HASHES} AND r1 = :a AND r2 >= :n",
            ExpressionAttributeValues={**HASH_VALUES, ":a": {"S": "a"}, ":n": {"N": "-1.5"}},
            ScanIndexForward=forward,
            Limit=2,
        )
        expected = [
            i for i in _partition(items) if i["r1"]["S"] == "a" and Decimal(i["r2"]["N"]) >= Decimal("-1.5")
        ]
        assert found == (expected if forward else expected[::-1])
        assert pages == len(expected) // 2 + 1


@pytest.mark.differs_from_dynamodb_local(
    "'Type mismatch for attribute to update' for a starting key of another type"
)
def test_exclusive_start_key_errors(ddb: Any, loaded: tuple[str, list[Item]]) -> None:
    table, items = loaded
    start = {name: items[0][name] for name in ("pk", "h1", "h2", "r1", "r2", "r3")}
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": "gsi",
        "KeyConditionExpression": BOTH_HASHES,
        "ExpressionAttributeValues": HASH_VALUES,
    }
    invalid = ("ValidationException", "The provided starting key is invalid")
    missing = {k: v for k, v in start.items() if k != "r3"}
    assert _error(ddb.query, **kwargs, ExclusiveStartKey=missing) == invalid
    assert _error(ddb.query, **kwargs, ExclusiveStartKey={**start, "r2": {"S": "1"}}) == invalid
    assert _error(ddb.scan, TableName=table, IndexName="gsi", ExclusiveStartKey=missing) == invalid
    assert _error(ddb.query, **kwargs, ExclusiveStartKey={**start, "r1": {"S": ""}}) == (
        "ValidationException",
        "The provided starting key is invalid: "
        + NOT_VALID
        + "A value specified for a secondary index key is not supported. The AttributeValue for a key "
        "attribute cannot contain an empty string value. IndexName: gsi, IndexKey: r1",
    )
    assert _error(ddb.query, **kwargs, ExclusiveStartKey={**start, "h2": {"N": "2"}}) == (
        "ValidationException",
        "The provided starting key does not match the range key predicate",
    )


def test_scan_of_the_index_in_pages(ddb: Any, loaded: tuple[str, list[Item]]) -> None:
    table, items = loaded
    seen: list[Item] = []
    kwargs: dict[str, Any] = {"TableName": table, "IndexName": "gsi", "Limit": 7}
    while True:
        page = ddb.scan(**kwargs)
        seen.extend(i for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        assert set(page["LastEvaluatedKey"]) == {"pk", "h1", "h2", "r1", "r2", "r3"}
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen, key=lambda i: i["pk"]["S"]) == items
    # within one partition a Scan returns the index order too
    partition = [i for i in seen if i["h1"]["S"] == "A" and i["h2"]["N"] == "1"]
    assert partition == _partition(items)


def test_projections(ddb: Any, loaded: tuple[str, list[Item]]) -> None:
    table, items = loaded
    keys_only = ddb.query(
        TableName=table,
        IndexName="pair",
        KeyConditionExpression=BOTH_HASHES,
        ExpressionAttributeValues=HASH_VALUES,
    )
    assert keys_only["Count"] == len(_partition(items))
    assert all(set(i) == {"pk", "h1", "h2"} for i in keys_only["Items"])
    included = ddb.query(
        TableName=table,
        IndexName="incl",
        KeyConditionExpression="h1 = :h1 AND r1 = :a AND r2 = :n",
        ExpressionAttributeValues={":h1": {"S": "B"}, ":a": {"S": "b"}, ":n": {"N": "0"}},
    )
    assert included["Count"] == len(R3)
    assert all(set(i) == {"pk", "h1", "r1", "r2", "v"} for i in included["Items"])
    assert _error(
        ddb.query,
        TableName=table,
        IndexName="incl",
        KeyConditionExpression="h1 = :h1",
        ExpressionAttributeValues={":h1": {"S": "B"}},
        ProjectionExpression="w",
    ) == ("ValidationException", INVALID + "Global secondary index incl does not project [w]")


def test_capacity_is_counted_per_index(ddb: Any, loaded: tuple[str, list[Item]]) -> None:
    table, items = loaded
    read = ddb.query(
        TableName=table,
        IndexName="gsi",
        KeyConditionExpression=BOTH_HASHES,
        ExpressionAttributeValues=HASH_VALUES,
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert read["GlobalSecondaryIndexes"]["gsi"]["CapacityUnits"] > 0
    assert read["Table"]["CapacityUnits"] == 0
    written = ddb.put_item(
        TableName=table,
        Item={**items[0], "pk": {"S": "capacity"}},
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert set(written["GlobalSecondaryIndexes"]) == {"gsi", "pair", "incl"}
    ddb.delete_item(TableName=table, Key={"pk": {"S": "capacity"}})


# --- online creation, streams, restart -----------------------------------------------------------------


def _wait_active(ddb: Any, table: str, index: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for gsi in ddb.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", []):
            if gsi["IndexName"] == index and gsi["IndexStatus"] == "ACTIVE":
                return dict(gsi)
        time.sleep(0.05)
    raise AssertionError(f"index {index} never became ACTIVE")


@pytest.mark.differs_from_dynamodb_local("its backfill indexes values of another type or too long")
def test_update_table_creates_one_and_backfills_skipping_items_that_break_the_key(
    ddb: Any, table_name: str
) -> None:
    """The table has an LSI too; items whose values break the new key stay out of the index."""
    ddb.create_table(
        TableName=table_name,
        KeySchema=_keys("pk HASH", "sk RANGE"),
        AttributeDefinitions=_defs(pk="S", sk="S", l="S"),
        BillingMode="PAY_PER_REQUEST",
        LocalSecondaryIndexes=[
            {
                "IndexName": "lsi",
                "KeySchema": _keys("pk HASH", "l RANGE"),
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    good = [
        {
            "pk": {"S": f"p{i % 2}"},
            "sk": {"S": f"s{i}"},
            "l": {"S": "l"},
            "a": {"S": "A"},
            "b": {"N": "1"},
            "c": {"S": f"c{9 - i}"},
        }
        for i in range(6)
    ]
    bad = [
        {**good[0], "sk": {"S": "empty"}, "a": {"S": ""}},
        {**good[0], "sk": {"S": "type"}, "b": {"S": "1"}},
        {**good[0], "sk": {"S": "long"}, "c": {"S": "c" * 1025}},
        {**good[0], "sk": {"S": "total"}, "a": {"S": "a" * 2047}},
        {k: v for k, v in good[0].items() if k != "c"} | {"sk": {"S": "missing"}},
    ]
    for item in good + bad:
        ddb.put_item(TableName=table_name, Item=item)
    ddb.update_table(
        TableName=table_name,
        AttributeDefinitions=_defs(a="S", b="N", c="S"),
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "gsi",
                    "KeySchema": _keys("a HASH", "b HASH", "c RANGE"),
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )
    gsi = _wait_active(ddb, table_name, "gsi")
    assert gsi["KeySchema"] == _keys("a HASH", "b HASH", "c RANGE")
    assert gsi["ItemCount"] == len(good)
    found, _ = _query_all(
        ddb,
        table_name,
        IndexName="gsi",
        KeyConditionExpression="a = :a AND b = :b",
        ExpressionAttributeValues={":a": {"S": "A"}, ":b": {"N": "1"}},
    )
    assert [i["c"]["S"] for i in found] == sorted(i["c"]["S"] for i in good)
    assert ddb.query(
        TableName=table_name,
        IndexName="lsi",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p0"}},
    )["Count"] == 3 + len(bad)
    # after the backfill, writes that break the key are refused
    assert _error(ddb.put_item, TableName=table_name, Item=bad[0])[0] == "ValidationException"
    ddb.delete_table(TableName=table_name)


def test_stream_records_are_unchanged(ddb: Any, streams: Any, table_name: str) -> None:
    _create(ddb, table_name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    arn = ddb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    ddb.put_item(TableName=table_name, Item=_dataset()[0])
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=it["ShardIterator"])["Records"]
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert records[0]["dynamodb"]["Keys"] == {"pk": {"S": "p001"}}
    ddb.delete_table(TableName=table_name)


def test_a_restarted_server_keeps_multi_attribute_indexes(tmp_server: Callable[..., Server]) -> None:
    server = tmp_server().start()
    ddb: Any = server.client("dynamodb")
    _create(ddb, "kept")
    items = _dataset()[:12]
    for item in items:
        ddb.put_item(TableName="kept", Item=item)
    server.stop()
    ddb = server.start().client("dynamodb")
    gsis = ddb.describe_table(TableName="kept")["Table"]["GlobalSecondaryIndexes"]
    assert next(g for g in gsis if g["IndexName"] == "gsi")["KeySchema"] == GSI_KEY
    found, _ = _query_all(
        ddb,
        "kept",
        IndexName="gsi",
        KeyConditionExpression=BOTH_HASHES,
        ExpressionAttributeValues=HASH_VALUES,
    )
    assert found == _partition(items)


def test_postgresql_orders_and_pages_the_same(
    postgres_server: Any, tmp_server: Callable[..., Server]
) -> None:
    """PostgreSQL compares the key bytes (with their 0x00 and 0xFF bytes) as SQLite does."""
    pytest.importorskip("psycopg")
    server = tmp_server("--storage-url", postgres_server.create_database()).start()
    ddb: Any = server.client("dynamodb")
    _create(ddb, "on_pg")
    items = _dataset()
    for item in items:
        ddb.put_item(TableName="on_pg", Item=item)
    found, pages = _query_all(
        ddb,
        "on_pg",
        IndexName="gsi",
        KeyConditionExpression=f"{BOTH_HASHES} AND r1 = :a AND r2 BETWEEN :n AND :m",
        ExpressionAttributeValues={**HASH_VALUES, ":a": {"S": "ab"}, ":n": {"N": "-1.5"}, ":m": {"N": "2"}},
        Limit=3,
    )
    assert found == [
        i for i in _partition(items) if i["r1"]["S"] == "ab" and Decimal("-1.5") <= Decimal(i["r2"]["N"]) <= 2
    ]
    assert pages > 1

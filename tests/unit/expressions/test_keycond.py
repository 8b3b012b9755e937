"""Query key conditions: expression and legacy forms, and the schema check (messages from DynamoDB)."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.errors import ValidationException
from headwater.expressions import compile_request, key_condition_for_schema
from headwater.expressions.ast import KeyCondition, KeyTerm
from headwater.expressions.keycond import TYPE_MISMATCH, KeyMatch
from headwater.model.schema import KeyAttribute, KeySchema

from .helpers import N1, S1, compile_error

VALUES = {":v": S1, ":n": N1, ":m": {"N": "5"}}
ID_SK = KeySchema.single(KeyAttribute("id", "S"), KeyAttribute("sk", "N"))


def key_condition(expression: str) -> KeyCondition:
    values = {k: v for k, v in VALUES.items() if k in expression}
    compiled = compile_request(
        {"KeyConditionExpression": expression, "ExpressionAttributeValues": values}, operation="Query"
    )
    assert compiled.key_condition is not None
    return compiled.key_condition


def schema_error(condition: KeyCondition) -> str:
    with pytest.raises(ValidationException) as info:
        key_condition_for_schema(condition, ID_SK)
    return str(info.value.message)


def test_hash_and_range_terms() -> None:
    condition = key_condition("id = :v AND sk BETWEEN :n AND :m")
    assert condition.terms == (KeyTerm("id", "EQ", (S1,)), KeyTerm("sk", "BETWEEN", (N1, {"N": "5"})))
    assert key_condition_for_schema(condition, ID_SK) == KeyMatch((S1,), (condition.terms[1],))


def test_value_first_comparisons_are_flipped() -> None:
    assert key_condition(":n < sk AND id = :v").terms[0] == KeyTerm("sk", "GT", (N1,))


def test_parentheses_and_begins_with() -> None:
    condition = key_condition("(id = :v) AND (begins_with(sk, :v))")
    assert condition.terms[1] == KeyTerm("sk", "BEGINS_WITH", (S1,))
    assert key_condition_for_schema(key_condition("id = :v"), ID_SK) == KeyMatch((S1,), ())


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("id = :v OR sk = :n", "Invalid operator used in KeyConditionExpression: OR"),
        ("id = :v AND sk <> :n", "Invalid operator used in KeyConditionExpression: <>"),
        ("id = :v AND sk IN (:n)", "Invalid operator used in KeyConditionExpression: IN"),
        ("NOT id = :v", "Invalid operator used in KeyConditionExpression: NOT"),
        (
            "id = :v AND attribute_exists(sk)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        ("id = :v AND contains(sk, :n)", "Invalid operator used in KeyConditionExpression: contains"),
        ("id = :v AND (sk = :n OR sk = :m)", "Invalid operator used in KeyConditionExpression: OR"),
        ("id = :v AND size(sk) = :n", "KeyConditionExpressions cannot contain nested operations"),
        ("id = :v AND id = :v", "KeyConditionExpressions must only contain one condition per key"),
        (
            "id = :v AND sk = :n AND sk = :n",
            "KeyConditionExpressions must only contain one condition per key",
        ),
        (":v = :v", "Invalid condition in KeyConditionExpression: No key attribute specified"),
        (
            "id = id",
            "Invalid KeyConditionExpression: The first operand must be "
            "distinct from the remaining operands for "
            "this operator or function; operator: =, first operand: [id]",
        ),
        (
            "id = :v AND begins_with(sk, :n)",
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N",
        ),
        (
            "id = :v AND sk BETWEEN :m AND :n",
            "Invalid KeyConditionExpression: The BETWEEN operator "
            "requires upper bound to be greater than or equal "
            "to lower bound; lower bound operand: AttributeValue: {N:5}, "
            "upper bound operand: AttributeValue: {N:1}",
        ),
    ],
)
def test_expression_errors(expression: str, expected: str) -> None:
    values = {k: v for k, v in VALUES.items() if k in expression}
    assert compile_error("Query", KeyConditionExpression=expression, values=values or None) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("id < :v", "Query key condition not supported"),
        ("sk = :n", "Query condition missed key schema element: id"),
        ("x = :v", "Query condition missed key schema element: id"),
        ("id = :v AND x = :n", "Query condition missed key schema element: sk"),
        ("id = :v AND a.b = :n", "KeyConditionExpressions cannot have conditions on nested attributes"),
        (
            "id.x = :v",
            "Key attributes must be scalars; list random access '[]' "
            "and map lookup '.' are not allowed: Key: id",
        ),
        (
            "id[0] = :v",
            "Key attributes must be scalars; list random access '[]' "
            "and map lookup '.' are not allowed: Key: id",
        ),
    ],
)
def test_schema_errors(expression: str, expected: str) -> None:
    assert schema_error(key_condition(expression)) == expected


def legacy(conditions: dict[str, Any]) -> KeyCondition:
    compiled = compile_request({"KeyConditions": conditions}, operation="Query")
    assert compiled.key_condition is not None
    return compiled.key_condition


def eq(value: dict[str, Any]) -> dict[str, Any]:
    return {"ComparisonOperator": "EQ", "AttributeValueList": [value]}


def test_legacy_key_conditions() -> None:
    condition = legacy({"id": eq(S1), "sk": {"ComparisonOperator": "GE", "AttributeValueList": [N1]}})
    assert condition.terms == (KeyTerm("id", "EQ", (S1,)), KeyTerm("sk", "GE", (N1,)))


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (
            {"id": {"ComparisonOperator": "NE", "AttributeValueList": [S1]}},
            "Query key condition not supported",
        ),
        (
            {"id": eq(S1), "sk": {"ComparisonOperator": "IN", "AttributeValueList": [N1]}},
            "Attempted conditional constraint is not an indexable operation",
        ),
        (
            {"id": eq(S1), "sk": {"ComparisonOperator": "NULL"}},
            "Only scalar types can be used as Range Key values",
        ),
        ({"sk": eq(N1)}, "Query condition missed key schema element: id"),
    ],
)
def test_legacy_schema_errors(conditions: dict[str, Any], expected: str) -> None:
    assert schema_error(legacy(conditions)) == expected


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (
            {"id": {"ComparisonOperator": "EQ", "AttributeValueList": [S1, S1]}},
            "One or more parameter values were invalid: Invalid number of "
            "argument(s) for the EQ ComparisonOperator",
        ),
        (
            {"id": eq(S1), "sk": {"ComparisonOperator": "EQ"}},
            "One or more parameter values were invalid: Invalid number of "
            "argument(s) for the EQ ComparisonOperator",
        ),
        (
            {"id": eq(S1), "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "5"}, N1]}},
            "The BETWEEN condition was provided a range where the "
            "lower bound is greater than the upper bound",
        ),
    ],
)
def test_legacy_compile_errors(conditions: dict[str, Any], expected: str) -> None:
    assert compile_error("Query", KeyConditions=conditions) == expected


# Multi-attribute GSI keys: h1 (S), h2 (N) HASH; r1 (S), r2 (N), r3 (S) RANGE.
MULTI = KeySchema(
    (KeyAttribute("h1", "S"), KeyAttribute("h2", "N")),
    (KeyAttribute("r1", "S"), KeyAttribute("r2", "N"), KeyAttribute("r3", "S")),
)
MULTI_VALUES = {":s": S1, ":n": N1, ":e": {"S": ""}}
HASHES = "h1 = :s AND h2 = :n"


def multi(expression: str) -> KeyMatch:
    values = {k: v for k, v in MULTI_VALUES.items() if k in expression}
    compiled = compile_request(
        {"KeyConditionExpression": expression, "ExpressionAttributeValues": values}, operation="Query"
    )
    assert compiled.key_condition is not None
    return key_condition_for_schema(compiled.key_condition, MULTI, "gsi")


def test_multi_attribute_partition_and_sort_terms_in_schema_order() -> None:
    match = multi("r2 < :n AND h2 = :n AND r1 = :s AND h1 = :s")
    assert match.partition == (S1, N1)
    assert match.sort == (KeyTerm("r1", "EQ", (S1,)), KeyTerm("r2", "LT", (N1,)))
    assert multi(HASHES) == KeyMatch((S1, N1), ())
    assert multi(f"{HASHES} AND begins_with(r1, :s)").sort == (KeyTerm("r1", "BEGINS_WITH", (S1,)),)


def _hash_message(names: str) -> str:
    return f"HASH key attributes {names} must have equality conditions specified in the query"


def _range_message(names: str, present: str) -> str:
    return (
        f"RANGE key attributes {names} must have equality conditions specified in the query because a "
        f"condition is present on key attribute {present}"
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("h1 = :s", _hash_message("h2")),
        ("r1 = :s", _hash_message("h1, h2")),
        ("h1 = :s AND h2 > :n", _hash_message("h2")),
        ("h1 = :s AND h2 BETWEEN :n AND :n", _hash_message("h2")),
        ("begins_with(h1, :s) AND h2 = :n", _hash_message("h1")),
        (f"{HASHES} AND r2 = :n", _range_message("r1", "r2")),
        (f"{HASHES} AND r3 = :s", _range_message("r1, r2", "r3")),
        (f"{HASHES} AND r1 = :s AND r3 = :s", _range_message("r2", "r3")),
        (f"{HASHES} AND r1 > :s AND r2 = :n", _range_message("r1", "r2")),
        (f"{HASHES} AND begins_with(r1, :s) AND r2 = :n", _range_message("r1", "r2")),
        # a gap is reported before an inequality further left
        (f"{HASHES} AND r1 > :s AND r3 = :s", _range_message("r2", "r3")),
        (f"{HASHES} AND r1 = :s AND r2 = :n AND r3 = :s AND x = :s", "Query key condition not supported"),
        (f"{HASHES} AND x = :s", "Query condition missed key schema element: r1"),
        (f"{HASHES} AND r1 = :s AND x = :s", "Query condition missed key schema element: r2"),
        ("h1 = :n AND h2 = :n", TYPE_MISMATCH),
        (f"{HASHES} AND r1 = :s AND r2 > :s", TYPE_MISMATCH),
        # types and empty values come before a condition on a non-key attribute
        (f"{HASHES} AND x = :s AND r1 = :n", TYPE_MISMATCH),
        (
            f"{HASHES} AND r1 = :e",
            "One or more parameter values are not valid. A value specified for a secondary index key is not "
            "supported. The AttributeValue for a key attribute cannot contain an empty string value. "
            "IndexName: gsi, IndexKey: r1",
        ),
        (
            "h1 = :s AND h2.x = :n",
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: "
            "IndexKey: h2",
        ),
        (
            "h1 = :s AND h2 = :n AND a.b = :n",
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
    ],
)
def test_multi_attribute_errors(expression: str, expected: str) -> None:
    with pytest.raises(ValidationException) as info:
        multi(expression)
    assert info.value.message == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("id = :v AND sk = :n AND x = :v", "Conditions can be of length 1 or 2 only"),
        ("id = :n", TYPE_MISMATCH),
        ("id = :v AND sk = :v", TYPE_MISMATCH),
        # a type mismatch is reported before a condition on a non-key attribute
        ("id = :n AND x = :v", TYPE_MISMATCH),
        ("id < :v AND x = :v", "Query key condition not supported"),
        (
            "id = :e",
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
            "contain an empty string value. Key: id",
        ),
    ],
)
def test_single_attribute_errors_in_dynamodb_order(expression: str, expected: str) -> None:
    values = {k: v for k, v in {**VALUES, ":e": {"S": ""}}.items() if k in expression}
    compiled = compile_request(
        {"KeyConditionExpression": expression, "ExpressionAttributeValues": values}, operation="Query"
    )
    assert compiled.key_condition is not None
    with pytest.raises(ValidationException) as info:
        key_condition_for_schema(compiled.key_condition, ID_SK)
    assert info.value.message == expected


def test_two_conditions_on_a_hash_only_key_are_not_supported() -> None:
    hash_only = KeySchema.single(KeyAttribute("id", "S"))
    with pytest.raises(ValidationException) as info:
        key_condition_for_schema(key_condition("id = :v AND x = :n"), hash_only)
    assert info.value.message == "Query key condition not supported"


def test_legacy_null_on_the_hash_key() -> None:
    assert schema_error(legacy({"id": {"ComparisonOperator": "NULL"}})) == (
        "Only scalar types can be used as Hash Key values"
    )
    assert schema_error(legacy({})) == "Conditions must be at least length 1"


def test_legacy_key_conditions_on_a_multi_attribute_key() -> None:
    match = key_condition_for_schema(legacy({"h1": eq(S1), "h2": eq(N1), "r1": eq(S1)}), MULTI, "gsi")
    assert match == KeyMatch((S1, N1), (KeyTerm("r1", "EQ", (S1,)),))
    with pytest.raises(ValidationException) as info:
        key_condition_for_schema(legacy({"h1": eq(S1), "h2": eq(N1), "r2": eq(N1)}), MULTI, "gsi")
    assert info.value.message == _range_message("r1", "r2")

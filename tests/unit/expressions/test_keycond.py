"""Query key conditions: expression and legacy forms, and the schema check (messages from DynamoDB)."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.errors import ValidationException
from headwater.expressions import compile_request, key_condition_for_schema
from headwater.expressions.ast import KeyCondition, KeyTerm
from headwater.expressions.keycond import KeyMatch
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
        ("sk = :n", "Query condition missed key schema element"),
        ("x = :v", "Query condition missed key schema element"),
        ("id = :v AND x = :n", "Query condition missed key schema element"),
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
        ({"sk": eq(N1)}, "Query condition missed key schema element"),
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

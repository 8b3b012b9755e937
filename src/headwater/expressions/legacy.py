"""Legacy request parameters compiled to the same AST as expressions.

Expected / QueryFilter / ScanFilter (+ ConditionalOperator) -> Condition, AttributeUpdates -> Update,
AttributesToGet -> Projection, KeyConditions -> KeyCondition.
"""

from __future__ import annotations

from typing import Any

from headwater.errors import ValidationException
from headwater.expressions.ast import (
    Action,
    AddAction,
    And,
    AttributeValue,
    Between,
    Call,
    Compare,
    Condition,
    DeleteAction,
    In,
    KeyCondition,
    KeyTerm,
    Not,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    Update,
    Value,
)
from headwater.expressions.compare import order
from headwater.model.values import EMPTY_ATTRIBUTE_NAME, validate_value, value_type

INVALID = "One or more parameter values were invalid: "
_COMPARE = {"EQ": "=", "NE": "<>", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}
_ARITY = {
    "EQ": 1, "NE": 1, "LT": 1, "LE": 1, "GT": 1, "GE": 1,
    "CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1,
    "NULL": 0, "NOT_NULL": 0, "BETWEEN": 2,
}  # fmt: skip
_ALLOWED_TYPES = {
    "LT": ("S", "N", "B"),
    "LE": ("S", "N", "B"),
    "GT": ("S", "N", "B"),
    "GE": ("S", "N", "B"),
    "BETWEEN": ("S", "N", "B"),
    "IN": ("S", "N", "B"),
    "BEGINS_WITH": ("S", "B"),
    "CONTAINS": ("S", "N", "B"),
    "NOT_CONTAINS": ("S", "N", "B"),
}
_LONG_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "M": "MAP",
    "L": "LIST",
}


def _spec(raw: Any) -> dict[str, Any]:
    """One per-attribute entry; the protocol layer has shape-checked it, this only keeps bad input typed."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationException(INVALID + "Invalid attribute condition or update")
    return raw


def _entries(raw: Any) -> list[tuple[str, Any]]:
    if not isinstance(raw, dict):
        raise ValidationException(INVALID + "Expected a map of attribute names")
    return list(raw.items())


def _values(raw: Any) -> list[AttributeValue]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationException(INVALID + "AttributeValueList must be a list")
    return [validate_value(v) for v in raw]


def _operator_condition(name: str, operator: str, values: list[AttributeValue]) -> Condition:
    """One `ComparisonOperator` + `AttributeValueList` check on a top-level attribute."""
    expected = _ARITY.get(operator)
    if operator == "IN":
        if not values:
            raise ValidationException(INVALID + "Invalid number of argument(s) for the IN ComparisonOperator")
    elif expected is None:
        raise ValidationException("Comparison type does not exist in DynamoDB")
    elif len(values) != expected:
        raise ValidationException(
            INVALID + f"Invalid number of argument(s) for the {operator} ComparisonOperator"
        )
    allowed = _ALLOWED_TYPES.get(operator)
    for value in values:
        kind = value_type(value)
        if allowed is not None and kind not in allowed:
            raise ValidationException(
                INVALID + f"ComparisonOperator {operator} is not valid for {kind} AttributeValue type"
            )
    if operator in ("IN", "BETWEEN") and len({value_type(v) for v in values}) > 1:
        raise ValidationException(INVALID + "AttributeValues inside AttributeValueList must be of same type")
    if operator == "BETWEEN" and order(values[0], values[1]) > 0:
        raise ValidationException(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
        )
    path = Path((name,))
    if operator in _COMPARE:
        return Compare(_COMPARE[operator], path, Value(values[0]))
    if operator == "NULL":
        return Call("attribute_not_exists", (path,))
    if operator == "NOT_NULL":
        return Call("attribute_exists", (path,))
    if operator == "CONTAINS":
        return Call("contains", (path, Value(values[0])))
    if operator == "NOT_CONTAINS":
        return And(Call("attribute_exists", (path,)), Not(Call("contains", (path, Value(values[0])))))
    if operator == "BEGINS_WITH":
        return Call("begins_with", (path, Value(values[0])))
    if operator == "BETWEEN":
        return Between(path, Value(values[0]), Value(values[1]))
    return In(path, tuple(Value(v) for v in values))


def _combine(conditions: list[Condition], conditional_operator: str | None) -> Condition | None:
    if not conditions:
        return None
    result = conditions[0]
    for condition in conditions[1:]:
        result = Or(result, condition) if conditional_operator == "OR" else And(result, condition)
    return result


def expected_condition(expected: dict[str, Any], conditional_operator: str | None) -> Condition | None:
    """Expected (PutItem/UpdateItem/DeleteItem) -> condition."""
    conditions: list[Condition] = []
    for name, spec in _entries(expected):
        spec = _spec(spec)
        has_value = spec.get("Value") is not None
        has_list = spec.get("AttributeValueList") is not None
        exists = spec.get("Exists")
        operator = spec.get("ComparisonOperator")
        if has_value and has_list:
            raise ValidationException(
                INVALID + f"Value and AttributeValueList cannot be used together for Attribute: {name}"
            )
        if exists is not None and operator is not None:
            raise ValidationException(
                INVALID + f"Exists and ComparisonOperator cannot be used together for Attribute: {name}"
            )
        if operator is not None:
            if not has_value and not has_list and operator not in ("NULL", "NOT_NULL"):
                raise ValidationException(
                    INVALID + f"Value or AttributeValueList must be used with ComparisonOperator: {operator} "
                    f"for Attribute: {name}"
                )
            values = [validate_value(spec["Value"])] if has_value else _values(spec.get("AttributeValueList"))
            conditions.append(_operator_condition(name, operator, values))
        elif exists is False:
            if has_value:
                raise ValidationException(
                    INVALID + f"Value cannot be used when Exists is false for Attribute: {name}"
                )
            conditions.append(Call("attribute_not_exists", (Path((name,)),)))
        else:
            if not has_value:
                state = "null" if exists is None else "true"
                raise ValidationException(
                    INVALID + f"Value must be provided when Exists is {state} for Attribute: {name}"
                )
            conditions.append(Compare("=", Path((name,)), Value(validate_value(spec["Value"]))))
    return _combine(conditions, conditional_operator)


def filter_condition(filters: dict[str, Any], conditional_operator: str | None) -> Condition | None:
    """QueryFilter / ScanFilter -> condition."""
    conditions: list[Condition] = []
    for name, spec in _entries(filters):
        spec = _spec(spec)
        operator = spec.get("ComparisonOperator")
        if operator is None:
            raise ValidationException(INVALID + f"ComparisonOperator must be specified for Attribute: {name}")
        conditions.append(_operator_condition(name, operator, _values(spec.get("AttributeValueList"))))
    return _combine(conditions, conditional_operator)


def attribute_updates(updates: dict[str, Any]) -> Update:
    actions: list[Action] = []
    for name, spec in _entries(updates):
        spec = _spec(spec)
        action = spec.get("Action") or "PUT"
        path = Path((name,))
        if spec.get("Value") is None:
            if action != "DELETE":
                raise ValidationException(
                    INVALID + "Only DELETE action is allowed when no attribute value is specified"
                )
            actions.append(RemoveAction(path))
            continue
        value = validate_value(spec["Value"])
        kind = value_type(value)
        if action == "PUT":
            actions.append(SetAction(path, Value(value)))
        elif action == "ADD":
            if kind not in ("N", "SS", "NS", "BS", "L"):
                raise ValidationException(
                    INVALID + f"ADD action is not supported for the type {_LONG_NAMES.get(kind, kind)}"
                )
            actions.append(AddAction(path, Value(value)))
        else:
            if kind not in ("SS", "NS", "BS"):
                raise ValidationException(
                    INVALID
                    + f"DELETE action with value is not supported for the type {_LONG_NAMES.get(kind, kind)}"
                )
            actions.append(DeleteAction(path, Value(value)))
    return Update(tuple(actions), legacy=True)


def attributes_to_get(names: list[str], *, batch: bool = False) -> Projection:
    """AttributesToGet; BatchGetItem names the first repeated name where the other reads do not."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValidationException(INVALID + "AttributesToGet must be a list of attribute names")
    seen: set[str] = set()
    for name in names:
        if not name:
            raise ValidationException(EMPTY_ATTRIBUTE_NAME)
        if name in seen:
            if batch:
                raise ValidationException(INVALID + f"Duplicate value in attribute name: {name}")
            raise ValidationException("Cannot have two attributes with the same name")
        seen.add(name)
    return Projection(tuple(Path((name,)) for name in names))


def key_conditions(conditions: dict[str, Any]) -> KeyCondition:
    terms: list[KeyTerm] = []
    for name, spec in _entries(conditions):
        spec = _spec(spec)
        operator = str(spec.get("ComparisonOperator") or "")
        values = _values(spec.get("AttributeValueList"))
        _operator_condition(name, operator, values)  # arity and type checks; for_schema checks the operator
        terms.append(KeyTerm(name, operator, tuple(values)))
    return KeyCondition(tuple(terms))

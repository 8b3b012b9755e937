"""Query key conditions: a resolved condition reduced to one or two `KeyTerm`s, and the schema check."""

from __future__ import annotations

from headwater.errors import ValidationException
from headwater.expressions.ast import (
    And,
    AttributeValue,
    Between,
    Call,
    Compare,
    Condition,
    In,
    KeyCondition,
    KeyTerm,
    Not,
    Operand,
    Or,
    Path,
    Value,
)

_OPS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
KEY_OPS = frozenset({"EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH"})
NESTED = "KeyConditionExpressions cannot have conditions on nested attributes"
MISSED = "Query condition missed key schema element"
NOT_SUPPORTED = "Query key condition not supported"
ONE_PER_KEY = "KeyConditionExpressions must only contain one condition per key"
NO_KEY = "Invalid condition in KeyConditionExpression: No key attribute specified"


def _invalid_operator(name: str) -> ValidationException:
    return ValidationException(f"Invalid operator used in KeyConditionExpression: {name}")


def key_condition_from(condition: Condition) -> KeyCondition:
    """Reduce a resolved, validated KeyConditionExpression to its terms (schema not yet known)."""
    terms: list[KeyTerm] = []
    _collect(condition, terms)
    names = [term.name for term in terms]
    if len(set(names)) != len(names):
        raise ValidationException(ONE_PER_KEY)
    return KeyCondition(tuple(terms))


def _collect(node: Condition, terms: list[KeyTerm]) -> None:
    if isinstance(node, And):
        _collect(node.left, terms)
        _collect(node.right, terms)
    elif isinstance(node, Or):
        raise _invalid_operator("OR")
    elif isinstance(node, Not):
        raise _invalid_operator("NOT")
    elif isinstance(node, In):
        raise _invalid_operator("IN")
    elif isinstance(node, Compare):
        if node.op == "<>":
            raise _invalid_operator("<>")
        left, right, op = node.left, node.right, node.op
        if isinstance(left, Value) and not isinstance(right, Value):
            left, right, op = right, left, _FLIPPED[op]
        terms.append(_term(left, _OPS[op], (right,)))
    elif isinstance(node, Between):
        terms.append(_term(node.operand, "BETWEEN", (node.low, node.high)))
    elif isinstance(node, Call):
        if node.name != "begins_with":
            raise _invalid_operator(node.name)
        terms.append(_term(node.args[0], "BEGINS_WITH", node.args[1:]))


def _term(subject: Operand, op: str, operands: tuple[Operand, ...]) -> KeyTerm:
    if isinstance(subject, Call) or any(isinstance(o, Call) for o in operands):
        raise ValidationException("KeyConditionExpressions cannot contain nested operations")
    if not isinstance(subject, Path):
        raise ValidationException(NO_KEY)
    values: list[AttributeValue] = []
    for operand in operands:
        if not isinstance(operand, Value):
            raise ValidationException(NO_KEY)
        values.append(operand.value)
    first = subject.elements[0]
    name = first if isinstance(first, str) else str(first)
    return KeyTerm(name, op, tuple(values), nested=len(subject.elements) > 1)


def for_schema(
    condition: KeyCondition, hash_key: str, range_key: str | None
) -> tuple[AttributeValue, KeyTerm | None]:
    """The partition key value and the optional sort key term, or DynamoDB's error for this schema."""
    keys = (hash_key, range_key)
    for term in condition.terms:
        if term.nested:
            if term.name in keys:
                raise ValidationException(
                    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
                    f"allowed: Key: {term.name}"
                )
            raise ValidationException(NESTED)
    by_name = {term.name: term for term in condition.terms}
    hash_term = by_name.get(hash_key)
    if hash_term is None or any(name not in keys for name in by_name):
        raise ValidationException(MISSED)
    if hash_term.op != "EQ":
        raise ValidationException(NOT_SUPPORTED)
    range_term = by_name.get(range_key) if range_key is not None else None
    if range_term is not None and range_term.op not in KEY_OPS:
        # Only legacy KeyConditions can get here.
        if range_term.op in ("NULL", "NOT_NULL"):
            raise ValidationException("Only scalar types can be used as Range Key values")
        raise ValidationException("Attempted conditional constraint is not an indexable operation")
    return hash_term.values[0], range_term

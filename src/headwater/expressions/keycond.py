"""Query key conditions: a resolved condition reduced to `KeyTerm`s, and the check against the key schema."""

from __future__ import annotations

from dataclasses import dataclass

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
from headwater.model.index_keys import empty_index_key_message, is_empty_key_value
from headwater.model.keys import empty_key_message
from headwater.model.schema import KeySchema

_OPS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
KEY_OPS = frozenset({"EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH"})
NESTED = "KeyConditionExpressions cannot have conditions on nested attributes"
MISSED = "Query condition missed key schema element"
NOT_SUPPORTED = "Query key condition not supported"
ONE_PER_KEY = "KeyConditionExpressions must only contain one condition per key"
NO_KEY = "Invalid condition in KeyConditionExpression: No key attribute specified"
TYPE_MISMATCH = (
    "One or more parameter values were invalid: Condition parameter type does not match schema type"
)


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


@dataclass(frozen=True, slots=True)
class KeyMatch:
    """A key condition checked against the key schema of the table or index queried."""

    partition: tuple[AttributeValue, ...]  # the value of each HASH attribute, in schema order
    sort: tuple[KeyTerm, ...]  # terms on the leading RANGE attributes, in order; all but the last are EQ


def for_schema(condition: KeyCondition, key: KeySchema, index_name: str | None = None) -> KeyMatch:
    """The partition values and sort terms of a key condition, or DynamoDB's error for this key schema.

    The checks run in DynamoDB's order: nested paths, the shape of the conditions (a multi-attribute key
    has its own rules and messages), value types and empty values attribute by attribute, and last any
    condition on an attribute that is not part of the key.
    """
    attrs = (*key.hashes, *key.ranges)
    _check_nested(condition, key.names, index_name)
    by_name = {term.name: term for term in condition.terms}
    if not by_name:
        raise ValidationException("Conditions must be at least length 1")
    if key.composite:
        _check_multi_attribute(by_name, key)
    else:
        _check_single_attribute(by_name, key)
    for attr in attrs:
        term = by_name.get(attr.name)
        for value in term.values if term is not None else ():
            if attr.type not in value:
                raise ValidationException(TYPE_MISMATCH)
            if is_empty_key_value(attr, value):
                raise ValidationException(
                    empty_key_message(attr.name, attr.type)
                    if index_name is None
                    else empty_index_key_message(index_name, attr)
                )
    if any(name not in key.names for name in by_name):
        raise ValidationException(missed(key, by_name))
    return KeyMatch(
        tuple(by_name[a.name].values[0] for a in key.hashes),
        tuple(by_name[a.name] for a in key.ranges if a.name in by_name),
    )


def missed(key: KeySchema, by_name: dict[str, KeyTerm]) -> str:
    """The service names the key element the condition missed: the first key attribute (partition
    attributes first) that no condition is on."""
    absent = next((attr.name for attr in (*key.hashes, *key.ranges) if attr.name not in by_name), None)
    return MISSED if absent is None else f"{MISSED}: {absent}"


def _check_nested(condition: KeyCondition, names: tuple[str, ...], index_name: str | None) -> None:
    for term in condition.terms:
        if term.nested:
            if term.name in names:
                label = "Key" if index_name is None else "IndexKey"
                raise ValidationException(
                    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
                    f"allowed: {label}: {term.name}"
                )
            raise ValidationException(NESTED)


def _check_single_attribute(by_name: dict[str, KeyTerm], key: KeySchema) -> None:
    if len(by_name) > 2:
        raise ValidationException("Conditions can be of length 1 or 2 only")
    if len(by_name) > len(key.names):
        raise ValidationException(NOT_SUPPORTED)
    hash_term = by_name.get(key.hash.name)
    if hash_term is None:
        raise ValidationException(missed(key, by_name))
    if hash_term.op in ("NULL", "NOT_NULL"):  # only legacy KeyConditions have these
        raise ValidationException("Only scalar types can be used as Hash Key values")
    if hash_term.op != "EQ":
        raise ValidationException(NOT_SUPPORTED)
    range_term = by_name.get(key.range.name) if key.range is not None else None
    if range_term is not None:
        _check_range_operator(range_term)


def _check_multi_attribute(by_name: dict[str, KeyTerm], key: KeySchema) -> None:
    """Equality on every HASH attribute; RANGE attributes from the first, with no gap, each but the last
    given with equality."""
    if len(by_name) > len(key.names):
        raise ValidationException(NOT_SUPPORTED)
    unequal = [a.name for a in key.hashes if a.name not in by_name or by_name[a.name].op != "EQ"]
    if unequal:
        raise ValidationException(
            f"HASH key attributes {', '.join(unequal)} must have equality conditions specified in the query"
        )
    # At each RANGE attribute with a condition, the attributes skipped since the previous condition are
    # reported; with none skipped, the previous condition must be an equality (DynamoDB's order).
    skipped: list[str] = []
    previous: KeyTerm | None = None
    for attr in key.ranges:
        term = by_name.get(attr.name)
        if term is None:
            skipped.append(attr.name)
            continue
        if not skipped and previous is not None and previous.op != "EQ":
            skipped.append(previous.name)
        if skipped:
            raise ValidationException(
                f"RANGE key attributes {', '.join(skipped)} must have equality conditions specified in "
                f"the query because a condition is present on key attribute {attr.name}"
            )
        _check_range_operator(term)
        previous = term


def _check_range_operator(term: KeyTerm) -> None:
    if term.op not in KEY_OPS:  # only legacy KeyConditions can get here
        if term.op in ("NULL", "NOT_NULL"):
            raise ValidationException("Only scalar types can be used as Range Key values")
        raise ValidationException("Attempted conditional constraint is not an indexable operation")

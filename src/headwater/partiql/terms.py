"""A parsed WHERE clause's top-level AND terms: split apart, joined again, and read as `name = value`
(how plan.py and access.py find the key a statement pins; api/dynamodb/_partiql.py joins conditions)."""

from __future__ import annotations

from collections.abc import Sequence

from ..expressions.ast import And, AttributeValue, Compare, Condition, Path, Value

_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def conjuncts(condition: Condition | None) -> list[Condition]:
    """The terms of a condition's top-level ANDs, in order."""
    if condition is None:
        return []
    if isinstance(condition, And):
        return [*conjuncts(condition.left), *conjuncts(condition.right)]
    return [condition]


def join(terms: Sequence[Condition]) -> Condition | None:
    """The AND of `terms` (None: no terms)."""
    result: Condition | None = None
    for term in terms:
        result = term if result is None else And(result, term)
    return result


def equality(term: Condition) -> tuple[str, AttributeValue] | None:
    """`name = value` (either way round) on a top-level attribute, else None."""
    if not isinstance(term, Compare) or term.op != "=":
        return None
    left, right = term.left, term.right
    if isinstance(right, Path) and isinstance(left, Value):
        left, right = right, left
    if isinstance(left, Path) and isinstance(right, Value) and len(left.elements) == 1:
        first = left.elements[0]
        if isinstance(first, str):
            return first, right.value
    return None


def flipped(op: str) -> str:
    return _FLIPPED[op]

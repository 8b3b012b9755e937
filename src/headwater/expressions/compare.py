"""Ordering and equality of attribute values as DynamoDB conditions see them."""

from __future__ import annotations

from headwater.expressions.ast import AttributeValue
from headwater.model import number
from headwater.model.values import decode_binary, values_equal

ORDERED = frozenset({"N", "S", "B"})


def order(a: AttributeValue, b: AttributeValue) -> int:
    """-1/0/1 for two values of the same ordered type (N, S, B); 0 when they are not comparable.

    Strings compare by code point (the same as UTF-8 byte order); binaries as unsigned bytes.
    """
    if "N" in a and "N" in b:
        return number.compare(a["N"], b["N"])
    if "S" in a and "S" in b:
        x: str = a["S"]
        y: str = b["S"]
        return (x > y) - (x < y)
    if "B" in a and "B" in b:
        p, q = decode_binary(a["B"]), decode_binary(b["B"])
        return (p > q) - (p < q)
    return 0


def comparable(a: AttributeValue, b: AttributeValue) -> bool:
    for kind in ORDERED:
        if kind in a:
            return kind in b
    return False


def equal(a: AttributeValue, b: AttributeValue) -> bool:
    return values_equal(a, b)

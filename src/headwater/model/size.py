"""Item size as DynamoDB counts it (the 400 KB limit, capacity units, stream record SizeBytes).

Attribute name UTF-8 bytes + value size. S: UTF-8 bytes; B: raw bytes; N: 1 byte + 1 per base-100 digit
pair of its significant digits, pairs aligned on the decimal point (so "110" is 3 bytes, "100" 2), + 1 if
negative; NULL/BOOL: 1; sets: sum of their members; M and L: 3 + per element 1 + (its name for M) + size.
The number rule is the measured one: it agrees with the documented "1 byte per two significant digits,
plus 1" on most values and with DynamoDB's 400 KB boundary on all the ones tried.
"""

from __future__ import annotations

from typing import Any

from headwater.errors import ValidationException
from headwater.model.limits import CONTAINER_ELEMENT_BYTES, CONTAINER_OVERHEAD_BYTES, MAX_ITEM_BYTES
from headwater.model.number import significant_digits

ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"


def number_size(text: str) -> int:
    """Stored size of a canonical number."""
    if text == "0":
        return 1
    negative, digits, adjusted = significant_digits(text)
    # Pad on the left so that pairs line up with the decimal point: the first digit is at 10**adjusted.
    lead = 1 if adjusted % 2 == 0 else 0
    pairs = (lead + len(digits) + 1) // 2
    return 1 + pairs + (1 if negative else 0)


def _binary_size(text: str) -> int:
    # decoded length from the base64 text without decoding it
    if not text:
        return 0
    return len(text) // 4 * 3 - text.count("=", len(text) - 2)


def _utf8_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def value_size(av: dict[str, Any]) -> int:
    """Size in bytes of one (validated, canonical) attribute value."""
    for kind, member in av.items():
        if kind == "S":
            return _utf8_length(member)
        if kind == "N":
            return number_size(member)
        if kind == "B":
            return _binary_size(member)
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "SS":
            return sum(_utf8_length(s) for s in member)
        if kind == "NS":
            return sum(number_size(n) for n in member)
        if kind == "BS":
            return sum(_binary_size(b) for b in member)
        if kind == "M":
            return CONTAINER_OVERHEAD_BYTES + sum(
                CONTAINER_ELEMENT_BYTES + _utf8_length(name) + value_size(v) for name, v in member.items()
            )
        if kind == "L":
            return CONTAINER_OVERHEAD_BYTES + sum(CONTAINER_ELEMENT_BYTES + value_size(v) for v in member)
    return 0


def item_size(item: dict[str, dict[str, Any]]) -> int:
    """Size in bytes of an item: sum over attributes of name UTF-8 length + value size."""
    total = 0
    for name, value in item.items():
        total += _utf8_length(name) + value_size(value)
    return total


def check_item_size(item: dict[str, dict[str, Any]]) -> int:
    """The item's size, or ValidationException when it exceeds 400 KB (exactly 409600 bytes pass)."""
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationException(ITEM_TOO_LARGE)
    return size


def binary_length(text: str) -> int:
    """Decoded length of base64 text (exposed for key size checks)."""
    return _binary_size(text)


__all__ = ["ITEM_TOO_LARGE", "binary_length", "check_item_size", "item_size", "number_size", "value_size"]

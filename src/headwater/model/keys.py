"""Primary keys: validation against the key schema and an order-preserving byte encoding.

Storage compares encoded keys with memcmp, so the encoding of each key type must sort like DynamoDB sorts:
S by UTF-8 bytes, B bytewise, N numerically.

Number layout (all valid DynamoDB numbers):
  zero      0x01
  positive  0x02, (adjusted exponent + 130) as one byte, significant digits as ASCII
  negative  0x00, (125 - adjusted exponent) as one byte, each digit d as ASCII (9 - d), then 0xFF
A larger exponent means a larger magnitude because digits carry no leading zero; with equal exponents the
digit strings (no trailing zeros) compare like the values. For negatives everything is inverted and the
0xFF terminator makes "-1" (digits 8, FF) sort after "-1.5" (digits 8, 4, FF).

Multi-attribute (GSI) keys: the values of a key's HASH attributes, or of its RANGE attributes, become one
byte string that sorts like the tuple of values (see `encode_key_values`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

from headwater.errors import ValidationException
from headwater.model import number
from headwater.model.limits import (
    MAX_PARTITION_KEY_BYTES,
    MAX_SORT_KEY_BYTES,
    NUMBER_MAX_EXPONENT,
    NUMBER_MIN_EXPONENT,
)
from headwater.model.schema import KeyAttribute, KeySchema
from headwater.model.values import AttributeValue, Item, decode_binary, validate_item, value_type

_INVALID = "One or more parameter values were invalid: "
_NOT_VALID = "One or more parameter values are not valid. "
KEY_SCHEMA_MISMATCH = "The provided key element does not match the schema"
HASH_KEY_TOO_LARGE = _INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"  # sic
RANGE_KEY_TOO_LARGE = _INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"


class KeyMismatch(ValidationException):
    """A key that does not fit the key schema, or a key attribute (of the table or an index) of another
    type. In a transaction it cancels with reason ValidationError, as DynamoDB answers it; a missing item
    key attribute, an empty or an oversized value make the request itself invalid."""

    @property
    def type_name(self) -> str:
        return "ValidationException"


_NEGATIVE, _ZERO, _POSITIVE = b"\x00", b"\x01", b"\x02"
_TERMINATOR = 0xFF
_DIGIT_COMPLEMENT = bytes.maketrans(b"0123456789", b"9876543210")


def missing_key_message(name: str) -> str:
    return f"{_INVALID}Missing the key {name} in the item"


def type_mismatch_message(name: str, expected: str, actual: str) -> str:
    return f"{_INVALID}Type mismatch for key {name} expected: {expected} actual: {actual}"


def empty_key_message(name: str, key_type: str) -> str:
    kind = "binary" if key_type == "B" else "string"
    return (
        f"{_NOT_VALID}The AttributeValue for a key attribute cannot contain an empty {kind} value. "
        f"Key: {name}"
    )


def _encode_number(text: str) -> bytes:
    if text == "0":
        return _ZERO
    negative, digits, adjusted = number.significant_digits(text)
    if negative:
        body = digits.encode("ascii").translate(_DIGIT_COMPLEMENT)
        return _NEGATIVE + bytes((NUMBER_MAX_EXPONENT - adjusted,)) + body + bytes((_TERMINATOR,))
    return _POSITIVE + bytes((adjusted - NUMBER_MIN_EXPONENT,)) + digits.encode("ascii")


def _decode_number(data: bytes) -> str:
    if data == _ZERO:
        return "0"
    if data[:1] == _POSITIVE:
        adjusted = data[1] + NUMBER_MIN_EXPONENT
        digits = data[2:].decode("ascii")
        sign = ""
    else:
        adjusted = NUMBER_MAX_EXPONENT - data[1]
        digits = data[2:-1].translate(_DIGIT_COMPLEMENT).decode("ascii")
        sign = "-"
    # digits d1 d2 ... with d1 at 10**adjusted: scientific form, then canonical plain text
    return number.canonical(f"{sign}{digits[0]}.{digits[1:]}E{adjusted}")


def encode_key_value(key_type: str, av: AttributeValue) -> bytes:
    """Order-preserving bytes of a validated key value of the given type ("S", "N" or "B")."""
    if key_type == "S":
        return str(av["S"]).encode("utf-8")
    if key_type == "N":
        return _encode_number(av["N"])
    return decode_binary(av["B"])


def decode_key_value(key_type: str, data: bytes) -> AttributeValue:
    """The canonical attribute value that `encode_key_value` turned into `data`."""
    if key_type == "S":
        return {"S": data.decode("utf-8")}
    if key_type == "N":
        return {"N": _decode_number(data)}
    return {"B": base64.b64encode(data).decode("ascii")}


# A multi-attribute key is the concatenation of its values' order-preserving bytes, each escaped
# (0x00 -> 0x00 0xFF) and terminated by 0x00 0x01. Memcmp order is then tuple order: two keys compare at
# their first differing value, and a value sorts before every longer value it is a prefix of, because the
# terminator 0x00 0x01 sorts below both what can follow inside a value (0x00 0xFF, or a byte >= 0x01). A
# prefix of the tuple (a query's equality conditions) is a byte prefix, so every query condition on the
# last attribute given is one contiguous range, and begins_with on it is a prefix of its escaped bytes.
# A single-attribute key keeps the plain encoding: the stored format of every existing table and index.
_ESCAPED_ZERO = b"\x00\xff"
_VALUE_END = b"\x00\x01"


def escape_key_bytes(raw: bytes) -> bytes:
    """A value's bytes inside a multi-attribute key, without its terminator (a begins_with prefix)."""
    return raw.replace(b"\x00", _ESCAPED_ZERO)


def key_component(raw: bytes) -> bytes:
    """One value of a multi-attribute key: escaped and terminated."""
    return raw.replace(b"\x00", _ESCAPED_ZERO) + _VALUE_END


def encode_key_values(attrs: Sequence[KeyAttribute], values: Sequence[AttributeValue]) -> bytes:
    """The key bytes of validated values, one per attribute (b"" for no attributes)."""
    if len(attrs) == 1:
        return encode_key_value(attrs[0].type, values[0])
    return b"".join(
        key_component(encode_key_value(attr.type, value)) for attr, value in zip(attrs, values, strict=True)
    )


def decode_key_values(attrs: Sequence[KeyAttribute], data: bytes) -> list[AttributeValue]:
    """The values `encode_key_values` turned into `data`."""
    if len(attrs) == 1:
        return [decode_key_value(attrs[0].type, data)]
    values: list[AttributeValue] = []
    raw = bytearray()
    position = 0
    while len(values) < len(attrs):
        zero = data.index(b"\x00", position)
        raw += data[position:zero]
        if data[zero + 1] == _VALUE_END[1]:
            values.append(decode_key_value(attrs[len(values)].type, bytes(raw)))
            raw.clear()
        else:
            raw.append(0)
        position = zero + 2
    return values


def partition_hash(encoded_pk: bytes) -> int:
    """A stable, well-distributed unsigned 32-bit hash of an encoded partition key."""
    return int.from_bytes(hashlib.blake2b(encoded_pk, digest_size=4).digest(), "big")


def _key_part(
    attr: KeyAttribute, av: AttributeValue, limit: int, too_large: str, mismatch: str | None
) -> bytes:
    actual = value_type(av)
    if actual != attr.type:
        raise KeyMismatch(mismatch or type_mismatch_message(attr.name, attr.type, actual))
    if attr.type != "N" and av[actual] == "":
        raise ValidationException(empty_key_message(attr.name, attr.type))
    encoded = encode_key_value(attr.type, av)
    if attr.type != "N" and len(encoded) > limit:
        raise ValidationException(too_large)
    return encoded


def item_key(item: Item, schema: KeySchema) -> tuple[bytes, bytes]:
    """(partition, sort) key bytes of a validated item being written; sort is b"" for hash-only tables."""
    for attr in (schema.hash, schema.range):
        if attr is not None and attr.name not in item:
            raise ValidationException(missing_key_message(attr.name))
    pk = _key_part(schema.hash, item[schema.hash.name], MAX_PARTITION_KEY_BYTES, HASH_KEY_TOO_LARGE, None)
    if schema.range is None:
        return pk, b""
    rk = _key_part(schema.range, item[schema.range.name], MAX_SORT_KEY_BYTES, RANGE_KEY_TOO_LARGE, None)
    return pk, rk


def request_key(key: object, schema: KeySchema) -> tuple[bytes, bytes]:
    """(partition, sort) key bytes of a `Key` request parameter: exactly the key attributes."""
    values: dict[str, Any] = validate_item(key)
    if len(values) != len(schema.names) or any(name not in values for name in schema.names):
        raise KeyMismatch(KEY_SCHEMA_MISMATCH)
    pk = _key_part(
        schema.hash,
        values[schema.hash.name],
        MAX_PARTITION_KEY_BYTES,
        HASH_KEY_TOO_LARGE,
        KEY_SCHEMA_MISMATCH,
    )
    if schema.range is None:
        return pk, b""
    rk = _key_part(
        schema.range, values[schema.range.name], MAX_SORT_KEY_BYTES, RANGE_KEY_TOO_LARGE, KEY_SCHEMA_MISMATCH
    )
    return pk, rk

"""DynamoDB values on the DAX wire: an attribute value is a CBOR item (S text, B bytes, N an integer or a
decimal fraction, BOOL and NULL simple values, L an array, M a map, SS/NS/BS arrays tagged 3321/3322/3323),
and Headwater's JSON form ({"S": ...}, B in base64) on this side. An item key is a byte string of its own:
a table with a partition key only sends the key's raw bytes (S: UTF-8, B: the bytes, N: a CBOR number); a
table with a sort key sends the partition key as a CBOR item followed by the sort key's raw bytes (N in
the order-preserving encoding of lexdecimal.py)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from . import lexdecimal
from .cbor import Malformed, Reader, Tagged, Writer

STRING_SET, NUMBER_SET, BINARY_SET = 3321, 3322, 3323
PATH_ORDINAL: Final = 3324
KeySchema = Sequence[tuple[str, str]]  # (attribute name, S | N | B), partition key first


def number_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
        raise Malformed("not a number")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def number_value(text: str) -> int | Decimal:
    if not any(c in text for c in ".eE"):
        return int(text)
    try:
        return Decimal(text)
    except InvalidOperation:
        raise Malformed(f"bad number {text!r}") from None


def to_av(value: Any) -> dict[str, Any]:
    """A decoded CBOR item as Headwater's attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": base64.b64encode(value).decode()}
    if isinstance(value, (int, Decimal, float)):
        return {"N": number_text(value)}
    if isinstance(value, list):
        return {"L": [to_av(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Malformed("map keys must be strings")
        return {"M": {k: to_av(v) for k, v in value.items()}}
    if isinstance(value, Tagged) and isinstance(value.value, list):
        if value.tag == STRING_SET:
            return {"SS": [_expect(v, str) for v in value.value]}
        if value.tag == NUMBER_SET:
            return {"NS": [number_text(v) for v in value.value]}
        if value.tag == BINARY_SET:
            return {"BS": [base64.b64encode(_expect(v, bytes)).decode() for v in value.value]}
    raise Malformed("not an attribute value")


def _expect(value: Any, kind: type) -> Any:
    if not isinstance(value, kind):
        raise Malformed(f"expected {kind.__name__}")
    return value


def _binary(text: str) -> bytes:
    try:
        return base64.b64decode(text)
    except binascii.Error:
        raise Malformed("bad base64") from None


def write_av(out: Writer, av: dict[str, Any]) -> None:
    """Headwater's attribute value as a CBOR item."""
    (kind, value), *_ = av.items()
    if kind == "S":
        out.text(value)
    elif kind == "N":
        _write_number(out, value)
    elif kind == "B":
        out.binary(_binary(value))
    elif kind == "BOOL":
        out.boolean(value)
    elif kind == "NULL":
        out.null()
    elif kind == "L":
        out.array(len(value))
        for item in value:
            write_av(out, item)
    elif kind == "M":
        out.map(len(value))
        for name in sorted(value):
            out.text(name)
            write_av(out, value[name])
    elif kind == "SS":
        out.tag(STRING_SET).array(len(value))
        for text in value:
            out.text(text)
    elif kind == "NS":
        out.tag(NUMBER_SET).array(len(value))
        for text in value:
            _write_number(out, text)
    elif kind == "BS":
        out.tag(BINARY_SET).array(len(value))
        for text in value:
            out.binary(_binary(text))
    else:
        raise ValueError(kind)


def _write_number(out: Writer, text: str) -> None:
    value = number_value(text)
    if isinstance(value, int):
        out.integer(value)
    else:
        out.decimal(value)


def av_bytes(av: dict[str, Any]) -> bytes:
    out = Writer()
    write_av(out, av)
    return out.done()


def decode_key(data: bytes, schema: KeySchema) -> dict[str, dict[str, Any]]:
    """An item key's bytes as {name: attribute value}."""
    (hash_name, hash_type), *rest = schema
    if not rest:
        if hash_type == "N":  # a partition key alone: a CBOR number
            return {hash_name: {"N": number_text(Reader(data).value())}}
        return {hash_name: _raw_key(data, hash_type)}
    reader = Reader(data)
    first = reader.value()
    key = {hash_name: _typed(first, hash_type)}
    range_name, range_type = rest[0]
    key[range_name] = _raw_key(bytes(data[reader.pos :]), range_type)
    return key


def _typed(value: Any, kind: str) -> dict[str, Any]:
    av = to_av(value)
    if kind not in av:
        raise Malformed("key attribute of the wrong type")
    return av


def _raw_key(data: bytes, kind: str) -> dict[str, Any]:
    if kind == "S":
        try:
            return {"S": data.decode("utf-8")}
        except UnicodeDecodeError:
            raise Malformed("key is not UTF-8") from None
    if kind == "B":
        return {"B": base64.b64encode(data).decode()}
    return {"N": str(lexdecimal.decode(data))}


def encode_key(item: dict[str, Any], schema: KeySchema) -> bytes:
    """The key bytes of `item` (an item or a key, Headwater's form)."""
    (hash_name, hash_type), *rest = schema
    hash_value = item[hash_name][hash_type]
    if not rest:
        if hash_type == "S":
            return bytes(hash_value.encode("utf-8"))
        if hash_type == "B":
            return _binary(hash_value)
        out = Writer()
        _write_number(out, hash_value)
        return out.done()
    out = Writer()
    write_av(out, {hash_type: hash_value})
    range_name, range_type = rest[0]
    range_value = item[range_name][range_type]
    if range_type == "S":
        out.raw(range_value.encode("utf-8"))
    elif range_type == "B":
        out.raw(_binary(range_value))
    else:
        out.raw(lexdecimal.encode(Decimal(range_value)))
    return out.done()


def decode_values(data: bytes) -> tuple[int, list[dict[str, Any]]]:
    """An item's other attributes: the attribute list's id, then its values one after another."""
    reader = Reader(data)
    list_id = reader.value()
    if not isinstance(list_id, int):
        raise Malformed("attribute list id")
    values = []
    while not reader.at_end():
        values.append(to_av(reader.value()))
    return list_id, values

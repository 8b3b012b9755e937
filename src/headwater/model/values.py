"""Attribute values in DynamoDB's wire JSON form: validation, canonical form, type and equality.

`validate_item` / `validate_value` take the decoded request JSON and return a NEW canonical structure:
numbers canonical, binaries re-encoded base64, JSON nulls (absent members) dropped. Errors follow
DynamoDB: a wrong JSON type is a SerializationException (raised while the request is deserialised, so it
wins over any validation error elsewhere in the value), everything else a ValidationException.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Any

from headwater.errors import SerializationException, ValidationException
from headwater.model import number
from headwater.model.limits import MAX_ATTRIBUTE_NAME_BYTES, MAX_NESTING_DEPTH

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
_TYPE_SET = frozenset(TYPES)

EMPTY_VALUE = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
MULTIPLE_TYPES = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
INVALID = "One or more parameter values were invalid: "
EMPTY_SS = INVALID + "An string set  may not be empty"
EMPTY_NS = INVALID + "An number set  may not be empty"
EMPTY_BS = INVALID + "Binary sets should not be empty"
NULL_IN_SS = INVALID + "An string set may not have a null string as a member"
NULL_IN_BS = INVALID + "Binary sets may not have a null binary as a member"
DUPLICATES_NS = "Input collection contains duplicates"
DUPLICATES_BS = INVALID + "Input collection of type BS contains duplicates."
NULL_NOT_TRUE = INVALID + "Null attribute value types must have the value of true"
NESTING_TOO_DEEP = (
    "Nesting Levels have exceeded supported limits: "
    "Attributes in the item have nested levels beyond supported limit"
)
EMPTY_ATTRIBUTE_NAME = "Empty attribute name"
# The real service's text (measured; DynamoDB Local fails with an internal error on such a name).
NAME_TOO_LONG = "1 validation error detected: Attribute name is too large, must be less than 65536 bytes"
NULL_IN_LIST = "The supplied Item contains a null AttributeValue"

# SerializationException texts (Coral's JSON deserialiser), by the shape that was expected.
START_OF_MAP = "Start of structure or map found where not expected"
UNEXPECTED_FIELD = "Unexpected field type"
UNEXPECTED_VALUE = "Unexpected value type in payload"
VALUE_AS_LIST = "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
MAP_AS_LIST = (
    "Unrecognized collection type "
    "java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"
)
BLOB_NOT_STRING = "only base-64-encoded strings are convertible to bytes"
BLOB_AS_LIST = "Unrecognized collection type class java.nio.ByteBuffer"
BLOB_BAD_LENGTH = "Base64 encoded length is expected a multiple of 4 bytes but found: {}"
BLOB_BAD_CHARACTER = "Invalid last non-pad Base64 character dectected"  # sic, DynamoDB's spelling


def duplicates_message(values: list[str]) -> str:
    return f"{INVALID}Input collection [{', '.join(values)}] contains duplicates"


def _token(raw: object) -> str:
    if raw is True:
        return "TRUE_VALUE"
    if raw is False:
        return "FALSE_VALUE"
    if isinstance(raw, int):
        return "NUMBER_VALUE"
    if isinstance(raw, float):
        return "DECIMAL_VALUE"
    return "STRING_VALUE"


def _expect_string(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        raise SerializationException(START_OF_MAP)
    if isinstance(raw, list):
        raise SerializationException("Unrecognized collection type class java.lang.String")
    raise SerializationException(f"{_token(raw)} cannot be converted to String")


def _expect_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        raise SerializationException("Unexpected token received from parser")
    if isinstance(raw, dict):
        raise SerializationException(START_OF_MAP)
    if isinstance(raw, list):
        raise SerializationException("Unrecognized collection type class java.lang.Boolean")
    raise SerializationException(f"{_token(raw)} cannot be converted to Boolean")


def _expect_list(raw: object) -> list[Any]:
    if isinstance(raw, list):
        return raw
    if isinstance(raw, dict):
        raise SerializationException(START_OF_MAP)
    raise SerializationException(UNEXPECTED_FIELD)


def _expect_map(raw: object) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):
        raise SerializationException(MAP_AS_LIST)
    raise SerializationException(UNEXPECTED_FIELD)


def _expect_value(raw: object) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):
        raise SerializationException(VALUE_AS_LIST)
    raise SerializationException(UNEXPECTED_VALUE)


def _canonical_binary(raw: object) -> str:
    """Check base64 text strictly (zero padding bits included) and return it in canonical form."""
    if isinstance(raw, dict):
        raise SerializationException(START_OF_MAP)
    if isinstance(raw, list):
        raise SerializationException(BLOB_AS_LIST)
    if not isinstance(raw, str):
        raise SerializationException(BLOB_NOT_STRING)
    if len(raw) % 4:
        raise SerializationException(BLOB_BAD_LENGTH.format(len(raw)))
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SerializationException(BLOB_BAD_CHARACTER) from None
    text = base64.b64encode(data).decode("ascii")
    if text != raw:
        raise SerializationException(BLOB_BAD_CHARACTER)
    return text


def decode_binary(text: str) -> bytes:
    """Raw bytes of a (canonical) base64 binary value."""
    return base64.b64decode(text)


def _type_of(raw: dict[str, Any]) -> tuple[str, Any]:
    found: tuple[str, Any] | None = None
    many = False
    for key, member in raw.items():
        # JSON null members are absent; unknown members are ignored, as DynamoDB's deserialiser does.
        if member is None or key not in _TYPE_SET:
            continue
        if found is not None:
            many = True
        else:
            found = (key, member)
    if many:
        raise ValidationException(MULTIPLE_TYPES)
    if found is None:
        raise ValidationException(EMPTY_VALUE)
    return found


def _value(raw: object, depth: int) -> AttributeValue:
    if depth > MAX_NESTING_DEPTH:
        raise ValidationException(NESTING_TOO_DEEP)
    if type(raw) is dict and len(raw) == 1:
        # fast path for the common scalars: a value already in canonical form is returned as it is
        # (nothing mutates attribute values, so sharing the request's dict is safe)
        for kind, member in raw.items():
            if kind == "S" and type(member) is str:
                return raw
            if kind == "N" and type(member) is str and number.canonical(member) == member:
                return raw
            if kind == "BOOL" and type(member) is bool:
                return raw
    kind, member = _type_of(_expect_value(raw))
    if kind == "S":
        return {"S": _expect_string(member)}
    if kind == "N":
        return {"N": number.canonical(_expect_string(member))}
    if kind == "B":
        return {"B": _canonical_binary(member)}
    if kind == "BOOL":
        return {"BOOL": _expect_bool(member)}
    if kind == "NULL":
        if not _expect_bool(member):
            raise ValidationException(NULL_NOT_TRUE)
        return {"NULL": True}
    if kind == "M":
        return {"M": _attributes(_expect_map(member), depth + 1)}
    if kind == "L":
        out: list[AttributeValue] = []
        for element in _expect_list(member):
            if element is None:
                raise ValidationException(NULL_IN_LIST)
            out.append(_value(element, depth + 1))
        return {"L": out}
    if kind == "SS":
        return {"SS": _string_set(_expect_list(member))}
    if kind == "NS":
        return {"NS": _number_set(_expect_list(member))}
    return {"BS": _binary_set(_expect_list(member))}


def _string_set(members: list[Any]) -> list[str]:
    out = [_expect_string(m) if m is not None else None for m in members]
    if not out:
        raise ValidationException(EMPTY_SS)
    strings: list[str] = []
    for m in out:
        if m is None:
            raise ValidationException(NULL_IN_SS)
        strings.append(m)
    if len(set(strings)) != len(strings):
        raise ValidationException(duplicates_message(strings))
    return sorted_set("SS", strings)


def _number_set(members: list[Any]) -> list[str]:
    texts = [_expect_string(m) if m is not None else "" for m in members]
    if not texts:
        raise ValidationException(EMPTY_NS)
    out = [number.canonical(t) for t in texts]
    # canonical text is unique per value, so duplicates compare numerically
    if len(set(out)) != len(out):
        raise ValidationException(DUPLICATES_NS)
    return sorted_set("NS", out)


def _binary_set(members: list[Any]) -> list[str]:
    out: list[str | None] = [_canonical_binary(m) if m is not None else None for m in members]
    if not out:
        raise ValidationException(EMPTY_BS)
    texts: list[str] = []
    for m in out:
        if m is None:
            raise ValidationException(NULL_IN_BS)
        texts.append(m)
    if len(set(texts)) != len(texts):
        raise ValidationException(DUPLICATES_BS)
    return sorted_set("BS", texts)


_FLIP_SIGN = bytes(i ^ 0x80 for i in range(256))


def sorted_set(kind: str, members: list[str]) -> list[str]:
    """A set's members in the one order Headwater stores and returns them, DynamoDB Local's: numbers by
    value, strings by UTF-16 code unit (Java's order: a character outside the BMP sorts before U+E000-U+FFFF),
    binaries by their bytes taken as signed (0x80-0xFF before 0x00). Clients that compare sets as lists see
    the same list from every read, stream record and ReturnValues."""
    if kind == "NS":
        return sorted(members, key=number.to_decimal)
    if kind == "BS":
        return sorted(members, key=lambda text: base64.b64decode(text).translate(_FLIP_SIGN))
    if all(member.isascii() for member in members):
        return sorted(members)
    return sorted(members, key=lambda text: text.encode("utf-16-be", "surrogatepass"))


def _attributes(raw: dict[str, Any], depth: int) -> dict[str, AttributeValue]:
    out: dict[str, AttributeValue] = {}
    for name, raw_value in raw.items():
        if raw_value is None:
            raise ValidationException(f"{NULL_IN_LIST}: {name} is null")
        if name == "":
            raise ValidationException(EMPTY_ATTRIBUTE_NAME)
        if name_too_long(name):
            raise ValidationException(NAME_TOO_LONG)
        out[name] = _value(raw_value, depth)
    return out


def name_too_long(name: str) -> bool:
    """Whether an attribute name exceeds 65535 bytes of UTF-8 (only long names are ever encoded)."""
    return len(name) * 4 > MAX_ATTRIBUTE_NAME_BYTES and len(name.encode("utf-8", "surrogatepass")) > (
        MAX_ATTRIBUTE_NAME_BYTES
    )


def _check_serialization(raw: object, expect: str) -> None:
    """Raise the SerializationException, if any, that the wire JSON of `raw` would cause."""
    if expect == "item":
        for member in _expect_map(raw).values():
            if member is not None:
                _check_serialization(member, "value")
        return
    for kind, member in _expect_value(raw).items():
        if member is None or kind not in _TYPE_SET:
            continue
        if kind in ("S", "N"):
            _expect_string(member)
        elif kind == "B":
            _canonical_binary(member)
        elif kind in ("BOOL", "NULL"):
            _expect_bool(member)
        elif kind == "M":
            for element in _expect_map(member).values():
                if element is not None:
                    _check_serialization(element, "value")
        elif kind == "L":
            for element in _expect_list(member):
                if element is not None:
                    _check_serialization(element, "value")
        else:
            check = _canonical_binary if kind == "BS" else _expect_string
            for element in _expect_list(member):
                if element is not None:
                    check(element)


def validate_value(raw: object) -> AttributeValue:
    """A canonical copy of one attribute value from a request (depth 1), or the DynamoDB error."""
    try:
        return _value(raw, 1)
    except ValidationException:
        _check_serialization(raw, "value")
        raise


def validate_item(raw: object) -> Item:
    """A canonical copy of an item (attribute name -> value) from a request, or the DynamoDB error."""
    try:
        return _attributes(_expect_map(raw), 1)
    except ValidationException:
        _check_serialization(raw, "item")
        raise


def value_type(av: AttributeValue) -> str:
    """The type key of a (validated) attribute value: "S", "N", ..."""
    for key in av:
        return key
    raise ValidationException(EMPTY_VALUE)


def values_equal(a: AttributeValue, b: AttributeValue) -> bool:
    """DynamoDB equality: same type; numbers numerically, sets as sets, maps and lists deeply."""
    ta, tb = value_type(a), value_type(b)
    if ta != tb:
        return False
    va, vb = a[ta], b[tb]
    if ta == "N":
        return bool(va == vb or Decimal(va) == Decimal(vb))
    if ta == "NS":
        return {Decimal(x) for x in va} == {Decimal(x) for x in vb}
    if ta in ("SS", "BS"):
        return set(va) == set(vb)
    if ta == "M":
        return va.keys() == vb.keys() and all(values_equal(va[k], vb[k]) for k in va)
    if ta == "L":
        return len(va) == len(vb) and all(values_equal(x, y) for x, y in zip(va, vb, strict=True))
    return bool(va == vb)

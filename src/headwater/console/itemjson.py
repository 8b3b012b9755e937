"""Items as the editor shows them: DynamoDB JSON (what the API takes) and plain JSON (what a person writes),
and keys carried in URLs."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import orjson

from .client import ApiError

MAX_KEY_CHARS = 4096  # a key in a URL: two attributes of at most 2 KB and 1 KB, with their names


def serialization_error(why: str) -> ApiError:
    """What DynamoDB answers a body it cannot read as JSON (SerializationException, no message); the
    console adds where the parser stopped, since it read the text the API would have refused."""
    return ApiError(400, "SerializationException", f"(not valid JSON: {why})")


def parse_object(text: str, what: str) -> dict[str, Any]:
    """A JSON object typed by a person; SerializationException as the API would answer otherwise."""
    try:
        doc = json.loads(text, parse_float=Decimal)
    except ValueError as err:
        raise serialization_error(f"{what}: {err}") from None
    if not isinstance(doc, dict):
        raise serialization_error(f"{what} must be a JSON object")
    return doc


def json_object(text: str, what: str) -> dict[str, Any]:
    """A JSON object typed by a person, ready to be sent on (numbers as JSON numbers again)."""
    doc: dict[str, Any] = _numbers_as_text(parse_object(text, what))
    return doc


def to_dynamodb(value: Any) -> dict[str, Any]:
    """Plain JSON -> an attribute value: numbers N (their text kept), strings S, lists L, objects M."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [to_dynamodb(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: to_dynamodb(v) for k, v in value.items()}}
    raise serialization_error(f"cannot store {type(value).__name__}")


def item_from_text(text: str, plain: bool) -> dict[str, Any]:
    doc = parse_object(text, "the item")
    if plain:
        return {name: to_dynamodb(value) for name, value in doc.items()}
    item: dict[str, Any] = _numbers_as_text(doc)
    return item


def _numbers_as_text(value: Any) -> Any:
    """DynamoDB JSON keeps numbers as strings; a Decimal the parser made goes back to its text (the API
    then refuses it as it refuses any number where a string belongs)."""
    if isinstance(value, dict):
        return {k: _numbers_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_text(v) for v in value]
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return value


def plain_text(value: dict[str, Any]) -> str:
    """An attribute value as compact plain JSON for a table cell (numbers as written, sets as lists)."""
    return orjson.dumps(plain_value(value)).decode()


def plain_value(value: dict[str, Any]) -> Any:
    if not isinstance(value, dict) or len(value) != 1:
        return value
    kind, inner = next(iter(value.items()))
    if kind == "N":
        try:
            number = Decimal(inner)
        except ArithmeticError:
            return inner
        return int(number) if number == number.to_integral_value() and abs(number) < 2**63 else float(number)
    if kind in ("S", "B", "BOOL"):
        return inner
    if kind == "NULL":
        return None
    if kind in ("SS", "NS", "BS"):
        return list(inner)
    if kind == "L":
        return [plain_value(v) for v in inner]
    if kind == "M":
        return {k: plain_value(v) for k, v in inner.items()}
    return value


def encode_key(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_key(text: str) -> dict[str, Any] | None:
    """A key from a URL or a form; None when it is not one the console wrote."""
    if not text or len(text) > MAX_KEY_CHARS:
        return None
    try:
        doc = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) else None

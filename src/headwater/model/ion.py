"""DynamoDB items in Amazon Ion text, as export and import use it: one item per line,
`$ion_1_0 {Item:{...}}`, with DynamoDB's mapping (S string, N decimal, B blob, BOOL bool, NULL null,
L list, M struct, SS/NS/BS lists annotated `$dynamodb_SS` / `$dynamodb_NS` / `$dynamodb_BS`).

The reader knows the part of Ion text that mapping needs (plus ints and floats as numbers, comments and
quoted field names); anything else (timestamps, clobs, s-expressions, other annotations) is an error
naming what it met. No I/O.
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Decimal, InvalidOperation
from typing import Any

VERSION_MARKER = "$ion_1_0"
SET_ANNOTATIONS = {"$dynamodb_SS": "SS", "$dynamodb_NS": "NS", "$dynamodb_BS": "BS"}
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_KEYWORDS = {"true", "false", "null", "nan"}
_NUMBER = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9_]+(?:\.[0-9_]*)?(?:[dDeE][-+]?[0-9]+)?)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
MAX_DEPTH = 64


class IonError(ValueError):
    """Text that is not an item in DynamoDB's Ion mapping."""


# -- writing


def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _field(name: str) -> str:
    if _IDENTIFIER.fullmatch(name) and name not in _KEYWORDS:
        return name
    return "'" + _string(name)[1:-1].replace("'", "\\'") + "'"


def _decimal(number: str) -> str:
    sign, digits, exponent = Decimal(number).as_tuple()
    return f"{'-' if sign else ''}{''.join(map(str, digits))}d{exponent}"


def _blob(data: str) -> str:
    return "{{" + data + "}}"


def _value(value: dict[str, Any]) -> str:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return _string(inner)
    if kind == "N":
        return _decimal(inner)
    if kind == "B":
        return _blob(inner)
    if kind == "BOOL":
        return "true" if inner else "false"
    if kind == "NULL":
        return "null"
    if kind == "L":
        return "[" + ",".join(_value(v) for v in inner) + "]"
    if kind == "M":
        return _struct(inner)
    write = {"SS": _string, "NS": _decimal, "BS": _blob}[kind]
    return f"$dynamodb_{kind}::[" + ",".join(write(v) for v in inner) + "]"


def _struct(attributes: dict[str, Any]) -> str:
    return "{" + ",".join(f"{_field(k)}:{_value(v)}" for k, v in attributes.items()) + "}"


def item_line(item: dict[str, Any]) -> str:
    """One export line: the version marker, then {Item:{...}} (no newline)."""
    return f"{VERSION_MARKER} {{Item:{_struct(item)}}}"


def struct_line(fields: dict[str, Any]) -> str:
    """One line of typed fields (an incremental export's {Metadata:{...},Keys:{...},...}): the version
    marker, then the struct, each value written as an item's attribute is (no newline)."""
    return f"{VERSION_MARKER} {_struct(fields)}"


# -- reading


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def fail(self, what: str) -> IonError:
        return IonError(f"{what} at offset {self.at}")

    def skip(self) -> None:
        text = self.text
        while self.at < len(text):
            ch = text[self.at]
            if ch.isspace():
                self.at += 1
            elif text.startswith("//", self.at):
                end = text.find("\n", self.at)
                self.at = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.at):
                end = text.find("*/", self.at + 2)
                if end < 0:
                    raise self.fail("an unterminated comment")
                self.at = end + 2
            else:
                return

    def peek(self) -> str:
        self.skip()
        return self.text[self.at] if self.at < len(self.text) else ""

    def expect(self, token: str) -> None:
        self.skip()
        if not self.text.startswith(token, self.at):
            raise self.fail(f"expected {token!r}")
        self.at += len(token)

    def symbol(self) -> str | None:
        """An identifier or a quoted symbol here, else None."""
        self.skip()
        if self.peek() == "'" and not self.text.startswith("'''", self.at):
            return self.quoted("'")
        found = _IDENTIFIER.match(self.text, self.at)
        if found is None:
            return None
        self.at = found.end()
        return found.group()

    def quoted(self, quote: str) -> str:
        self.at += 1
        out: list[str] = []
        text = self.text
        while True:
            if self.at >= len(text):
                raise self.fail("an unterminated string")
            ch = text[self.at]
            if ch == quote:
                self.at += 1
                return "".join(out)
            if ch == "\\":
                out.append(self.escape())
                continue
            if ch == "\n":
                raise self.fail("a newline in a string")
            out.append(ch)
            self.at += 1

    def escape(self) -> str:
        text = self.text
        code = text[self.at + 1 : self.at + 2]
        self.at += 2
        if code in _ESCAPES:
            return _ESCAPES[code]
        if code in ('"', "'", "\\", "/", "?"):
            return code
        width = {"x": 2, "u": 4, "U": 8}.get(code)
        if width is None:
            raise self.fail(f"an unknown escape \\{code}")
        digits = text[self.at : self.at + width]
        if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise self.fail("a bad escape")
        self.at += width
        return chr(int(digits, 16))

    def value(self, depth: int) -> dict[str, Any]:
        """One Ion value as a DynamoDB attribute value."""
        if depth > MAX_DEPTH:
            raise self.fail("values nested too deeply")
        start = self.at
        annotation = self.symbol()
        if annotation is not None:
            if self.text.startswith("::", self.at):
                self.at += 2
                kind = SET_ANNOTATIONS.get(annotation)
                if kind is None:
                    raise self.fail(f"an annotation {annotation} that is not a DynamoDB set")
                return self.set_of(kind, depth)
            if annotation in ("true", "false"):
                return {"BOOL": annotation == "true"}
            if annotation == "null":
                if self.text.startswith(".", self.at):  # a typed null: null.string...
                    self.at += 1
                    self.symbol()
                return {"NULL": True}
            self.at = start
            raise self.fail(f"a symbol value {annotation}")
        ch = self.peek()
        if ch == "{":
            if self.text.startswith("{{", self.at):
                return {"B": self.blob()}
            return {"M": self.struct(depth)}
        if ch == "[":
            return {"L": self.list_of(depth)}
        if ch == '"':
            return {"S": self.quoted('"')}
        if ch == "'":
            return {"S": self.long_string()}
        return {"N": self.number()}

    def long_string(self) -> str:
        parts: list[str] = []
        while self.text.startswith("'''", self.at):
            self.at += 3
            out: list[str] = []
            while not self.text.startswith("'''", self.at):
                if self.at >= len(self.text):
                    raise self.fail("an unterminated long string")
                if self.text[self.at] == "\\":
                    out.append(self.escape())
                else:
                    out.append(self.text[self.at])
                    self.at += 1
            self.at += 3
            parts.append("".join(out))
            self.skip()
        if not parts:
            raise self.fail("a quoted symbol where a value was expected")
        return "".join(parts)

    def blob(self) -> str:
        end = self.text.find("}}", self.at)
        if end < 0:
            raise self.fail("an unterminated blob")
        data = "".join(self.text[self.at + 2 : end].split())
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error:
            raise self.fail("a blob that is not base64") from None
        self.at = end + 2
        return data

    def number(self) -> str:
        self.skip()
        found = _NUMBER.match(self.text, self.at)
        if found is None or not found.group():
            raise self.fail("an unsupported value")
        token = found.group().replace("_", "")
        self.at = found.end()
        follows = self.text[self.at : self.at + 1]
        if follows and not (follows.isspace() or follows in ",]}/"):
            raise self.fail("an unsupported value (a timestamp, or a malformed number)")
        try:
            if token.lstrip("+-")[:2].lower() in ("0x", "0b"):
                return str(int(token, 0))
            value = Decimal(token.replace("d", "e").replace("D", "e"))
        except (InvalidOperation, ValueError):
            raise self.fail(f"a bad number {token}") from None
        if not value.is_finite():
            raise self.fail("a number that is not finite")
        return str(value)

    def set_of(self, kind: str, depth: int) -> dict[str, Any]:
        members = self.list_of(depth)
        member_kind = kind[0] if kind != "BS" else "B"
        if any(next(iter(m)) != member_kind for m in members):
            raise self.fail(f"a member of a ${kind} set of another type")
        return {kind: [next(iter(m.values())) for m in members]}

    def list_of(self, depth: int) -> list[dict[str, Any]]:
        self.expect("[")
        out: list[dict[str, Any]] = []
        while self.peek() != "]":
            out.append(self.value(depth + 1))
            if self.peek() == ",":
                self.at += 1
            elif self.peek() != "]":
                raise self.fail("expected ',' or ']'")
        self.at += 1
        return out

    def struct(self, depth: int) -> dict[str, Any]:
        self.expect("{")
        out: dict[str, Any] = {}
        while self.peek() != "}":
            name = self.quoted('"') if self.peek() == '"' else self.symbol()
            if name is None:
                raise self.fail("expected a field name")
            self.expect(":")
            out[name] = self.value(depth + 1)
            if self.peek() == ",":
                self.at += 1
            elif self.peek() != "}":
                raise self.fail("expected ',' or '}'")
        self.at += 1
        return out


def read_struct(line: str) -> dict[str, Any]:
    """The fields of one line holding a struct (the version marker optional), in DynamoDB's wire form."""
    reader = _Reader(line)
    reader.skip()
    if line.startswith(VERSION_MARKER, reader.at):
        reader.at += len(VERSION_MARKER)
    outer = reader.value(0)
    if reader.peek():
        raise reader.fail("more than one value on the line")
    if "M" not in outer:
        raise IonError("not a struct")
    fields: dict[str, Any] = outer["M"]
    return fields


def read_item(line: str) -> dict[str, Any]:
    """The item of one import line (`$ion_1_0 {Item:{...}}`, the marker optional), in DynamoDB's wire
    form (to be validated as any item is)."""
    reader = _Reader(line)
    reader.skip()
    if line.startswith(VERSION_MARKER, reader.at):
        reader.at += len(VERSION_MARKER)
    outer = reader.value(0)
    if reader.peek():
        raise reader.fail("more than one value on the line")
    top = outer.get("M")
    if not isinstance(top, dict) or set(top) != {"Item"} or "M" not in top["Item"]:
        raise IonError("not an {Item:{...}} struct")
    item: dict[str, Any] = top["Item"]["M"]
    return item

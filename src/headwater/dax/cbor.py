"""The part of CBOR (RFC 8949) the DAX protocol uses, written for it: definite and indefinite arrays and
maps, byte and text strings, integers (big ones as tags 2/3), decimal fractions (tag 4), floats, simple
values and DAX's own tags (sets, document path ordinals).

No library: the protocol needs what general CBOR libraries hide (an item's raw bytes, values concatenated
without a container, a reader that says "not enough bytes yet" so a connection can wait for more), and
every limit a client could abuse (length, nesting) is checked here, before anything is allocated.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

MAX_DEPTH: Final = 64  # nesting of arrays, maps and tags (DynamoDB documents nest 32 deep)

UINT, NEGINT, BYTES, TEXT, ARRAY, MAP, TAG, SIMPLE = range(8)
INDEFINITE: Final = 31
BREAK_BYTE: Final = 0xFF
TAG_POSITIVE_BIGNUM, TAG_NEGATIVE_BIGNUM, TAG_DECIMAL = 2, 3, 4


class Incomplete(Exception):
    """The buffer ends inside an item: read more bytes and try again."""


class Malformed(Exception):
    """Bytes that are no CBOR this protocol accepts."""


@dataclass(frozen=True, slots=True)
class Tagged:
    tag: int
    value: Any


class _Break:
    pass


BREAK: Final = _Break()


class Reader:
    """Reads items from `data` starting at `pos`."""

    def __init__(self, data: bytes | bytearray | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.data = memoryview(data)
        self.pos = pos
        self.end = len(self.data) if end is None else end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def peek_major(self) -> int:
        if self.pos >= self.end:
            raise Incomplete()
        return self.data[self.pos] >> 5

    def peek_byte(self) -> int:
        if self.pos >= self.end:
            raise Incomplete()
        return int(self.data[self.pos])

    def _take(self, n: int) -> memoryview:
        if n > self.end - self.pos:
            raise Incomplete()
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def head(self) -> tuple[int, int | None]:
        """(major type, argument); the argument is None for an indefinite length."""
        first = self._take(1)[0]
        major, info = first >> 5, first & 0x1F
        if info < 24:
            return major, info
        if info == 24:
            return major, self._take(1)[0]
        if info == 25:
            return major, int(struct.unpack(">H", self._take(2))[0])
        if info == 26:
            return major, int(struct.unpack(">I", self._take(4))[0])
        if info == 27:
            return major, int(struct.unpack(">Q", self._take(8))[0])
        if info == INDEFINITE and major in (BYTES, TEXT, ARRAY, MAP, SIMPLE):
            return major, None
        raise Malformed(f"reserved additional information {info}")

    def value(self, depth: int = 0) -> Any:
        """The next item as Python: int, bytes, str, list, dict, None, bool, float, Decimal or Tagged."""
        if depth > MAX_DEPTH:
            raise Malformed("nested too deeply")
        start = self.pos
        major, arg = self.head()
        if major == UINT:
            return arg
        if major == NEGINT:
            assert arg is not None
            return -1 - arg
        if major in (BYTES, TEXT):
            raw = self._string(major, arg)
            if major == BYTES:
                return raw
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Malformed("text is not UTF-8") from None
        if major == ARRAY:
            items = []
            if arg is None:
                while (item := self.value(depth + 1)) is not BREAK:
                    items.append(item)
                return items
            self._room(arg)
            return [self._item(depth) for _ in range(arg)]
        if major == MAP:
            found: dict[Any, Any] = {}
            if arg is None:
                while (key := self.value(depth + 1)) is not BREAK:
                    found[self._key(key)] = self._item(depth)
                return found
            self._room(2 * arg)
            for _ in range(arg):
                key = self._item(depth)
                found[self._key(key)] = self._item(depth)
            return found
        if major == TAG:
            assert arg is not None
            inner = self._item(depth)
            return _untag(arg, inner)
        return self._simple(arg, start)

    def _item(self, depth: int) -> Any:
        item = self.value(depth + 1)
        if item is BREAK:
            raise Malformed("unexpected break")
        return item

    @staticmethod
    def _key(key: Any) -> Any:
        if isinstance(key, (list, dict)):
            raise Malformed("map key must be a scalar")
        return key

    def _room(self, count: int) -> None:
        """A declared count no buffer could hold is refused before anything is allocated for it."""
        if count > self.end - self.pos:
            raise Incomplete()

    def _string(self, major: int, arg: int | None) -> bytes:
        if arg is not None:
            return bytes(self._take(arg))
        parts: list[bytes] = []
        while True:
            if self.peek_byte() == BREAK_BYTE:
                self.pos += 1
                return b"".join(parts)
            chunk_major, chunk_arg = self.head()
            if chunk_major != major or chunk_arg is None:
                raise Malformed("bad chunk in an indefinite string")
            parts.append(bytes(self._take(chunk_arg)))

    def _simple(self, arg: int | None, start: int) -> Any:
        info = self.data[start] & 0x1F
        if arg is None:
            return BREAK
        if info == 20:
            return False
        if info == 21:
            return True
        if info in (22, 23):
            return None
        if info == 25:
            return float(struct.unpack(">e", struct.pack(">H", arg))[0])
        if info == 26:
            return float(struct.unpack(">f", struct.pack(">I", arg))[0])
        if info == 27:
            return float(struct.unpack(">d", struct.pack(">Q", arg))[0])
        raise Malformed(f"unsupported simple value {info}")

    def raw_item(self) -> bytes:
        """The next item's own bytes, unparsed (checked by parsing it)."""
        start = self.pos
        self.value()
        return bytes(self.data[start : self.pos])

    def skip(self) -> None:
        self.value()


def _untag(tag: int, inner: Any) -> Any:
    if tag in (TAG_POSITIVE_BIGNUM, TAG_NEGATIVE_BIGNUM):
        if not isinstance(inner, bytes) or len(inner) > 64:
            raise Malformed("bad big number")
        number = int.from_bytes(inner, "big")
        return number if tag == TAG_POSITIVE_BIGNUM else -1 - number
    if tag == TAG_DECIMAL:
        if not (isinstance(inner, list) and len(inner) == 2 and all(isinstance(x, int) for x in inner)):
            raise Malformed("bad decimal fraction")
        exponent, mantissa = inner
        if abs(exponent) > 400 or abs(mantissa) >= 10**60:
            raise Malformed("decimal fraction out of range")
        return Decimal(mantissa).scaleb(exponent)
    return Tagged(tag, inner)


class Writer:
    """Builds CBOR into a bytearray."""

    def __init__(self) -> None:
        self.out = bytearray()

    def done(self) -> bytes:
        return bytes(self.out)

    def _head(self, major: int, value: int) -> None:
        top = major << 5
        if value < 24:
            self.out.append(top | value)
        elif value < 0x100:
            self.out += bytes((top | 24, value))
        elif value < 0x10000:
            self.out.append(top | 25)
            self.out += struct.pack(">H", value)
        elif value < 0x100000000:
            self.out.append(top | 26)
            self.out += struct.pack(">I", value)
        else:
            self.out.append(top | 27)
            self.out += struct.pack(">Q", value)

    def integer(self, value: int) -> Writer:
        if 0 <= value < 2**64:
            self._head(UINT, value)
        elif -(2**64) <= value < 0:
            self._head(NEGINT, -1 - value)
        else:
            tag = TAG_POSITIVE_BIGNUM if value >= 0 else TAG_NEGATIVE_BIGNUM
            magnitude = value if value >= 0 else -1 - value
            self._head(TAG, tag)
            self.binary(magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big"))
        return self

    def decimal(self, value: Decimal) -> Writer:
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        mantissa = int("".join(map(str, digits)) or "0")
        self._head(TAG, TAG_DECIMAL)
        self._head(ARRAY, 2)
        self.integer(exponent)
        self.integer(-mantissa if sign else mantissa)
        return self

    def binary(self, value: bytes) -> Writer:
        self._head(BYTES, len(value))
        self.out += value
        return self

    def text(self, value: str) -> Writer:
        raw = value.encode("utf-8")
        self._head(TEXT, len(raw))
        self.out += raw
        return self

    def array(self, count: int) -> Writer:
        self._head(ARRAY, count)
        return self

    def map(self, count: int) -> Writer:
        self._head(MAP, count)
        return self

    def map_stream(self) -> Writer:
        self.out.append((MAP << 5) | INDEFINITE)
        return self

    def end(self) -> Writer:
        self.out.append(BREAK_BYTE)
        return self

    def tag(self, tag: int) -> Writer:
        self._head(TAG, tag)
        return self

    def null(self) -> Writer:
        self.out.append(0xF6)
        return self

    def boolean(self, value: bool) -> Writer:
        self.out.append(0xF5 if value else 0xF4)
        return self

    def raw(self, data: bytes) -> Writer:
        self.out += data
        return self

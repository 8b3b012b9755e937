"""The order-preserving number encoding DAX uses for a numeric sort key inside an item key.

Zero is the byte 0x80. Otherwise a header byte (or 0x81/0xFE, 0x01/0x7E and four bytes when the
exponent is beyond +-62) gives the sign and the decimal exponent E (value = 0.d1d2d3... x 10^E); the
digits follow in groups of three, each group a 10-bit value (group + 12, or 1011 - group when negative),
then a 10-bit terminator saying how many digits the last group really had (0, 1, 2 for 1, 2, 3 digits;
1023 minus that when negative), the bits packed big-endian and the last byte padded with zeros.
"""

from __future__ import annotations

import struct
from decimal import Decimal

from .cbor import Malformed

_SMALL = 0x3E
_MAX_GROUPS = 20  # 38 significant digits need 13


def encode(value: Decimal) -> bytes:
    if value == 0:
        return b"\x80"
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    places = len(digits) + exponent  # the decimal exponent E
    out = bytearray()
    if not sign:
        if -_SMALL <= places < _SMALL:
            out.append(places + 0xC0)
        else:
            out.append(0x81 if places < 0 else 0xFE)
            out += struct.pack(">I", (places & 0xFFFFFFFF) ^ 0x80000000)
    elif -_SMALL <= places < _SMALL:
        out.append(0x3F - places)
    else:
        out.append(0x7E if places < 0 else 0x01)
        out += struct.pack(">I", (places & 0xFFFFFFFF) ^ 0x7FFFFFFF)
    text = "".join(map(str, digits))
    terminator = (len(text) - 1) % 3  # 0, 1, 2: one, two, three digits in the last group
    text += "0" * (-len(text) % 3)
    groups = [int(text[i : i + 3]) for i in range(0, len(text), 3)]
    tens = [1011 - g for g in groups] if sign else [g + 12 for g in groups]
    tens.append(1023 - terminator if sign else terminator)
    accum = bits = 0
    for ten in tens:
        accum = (accum << 10) | ten
        bits += 10
        while bits >= 8:
            bits -= 8
            out.append((accum >> bits) & 0xFF)
    if bits:
        out.append((accum << (8 - bits)) & 0xFF)
    return bytes(out)


def decode(data: bytes) -> Decimal:
    if not data:
        raise Malformed("empty number")
    header = data[0]
    pos = 1
    if header in (0x80, 0x7F):
        return Decimal(0)
    if header in (0x01, 0x7E, 0x81, 0xFE):
        if len(data) < 5:
            raise Malformed("short number")
        raw = struct.unpack(">I", data[1:5])[0]
        negative = header in (0x01, 0x7E)
        unsigned = raw ^ (0x7FFFFFFF if negative else 0x80000000)
        places = unsigned - (1 << 32) if unsigned & 0x80000000 else unsigned
        pos = 5
    elif header >= 0x82:
        negative, places = False, header - 0xC0
    else:
        negative, places = True, 0x3F - header
    groups: list[int] = []
    accum = bits = 0
    while True:
        if pos >= len(data) or len(groups) > _MAX_GROUPS:
            raise Malformed("unterminated number")
        accum = (accum << 8) | data[pos]
        pos += 1
        bits += 8
        if bits < 10:
            continue
        bits -= 10
        ten = (accum >> bits) & 0x3FF
        accum &= (1 << bits) - 1
        code = 1023 - ten if negative else ten
        if code <= 2:
            if not groups:
                raise Malformed("number without digits")
            text = "".join(f"{g:03d}" for g in groups)
            text = text[: len(text) - 2 + code]
            digits = tuple(int(c) for c in text)
            return Decimal((1 if negative else 0, digits, places - len(digits)))
        groups.append(1011 - ten if negative else ten - 12)

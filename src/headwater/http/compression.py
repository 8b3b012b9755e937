"""Response compression as DynamoDB does it: gzip or deflate, whichever the request's Accept-Encoding
prefers, for bodies of 4 KB or more (smaller ones go as they are, even when the client asks).

The x-amz-crc32 header is then the CRC of the compressed bytes, the bytes on the wire: botocore checks
the undecoded body (its HTTP layer reads with decode_content=False), and the AWS SDKs that accept gzip
check the CRC before they inflate.
"""

from __future__ import annotations

import asyncio
import math
import zlib
from typing import Final

THRESHOLD: Final = 4096  # DynamoDB compresses responses of 4 KB and more
CODINGS: Final = ("gzip", "deflate")  # what DynamoDB offers, in its order of preference
LEVEL: Final = 1  # a local endpoint: CPU is scarcer than bandwidth, and level 1 already gets ~3x on JSON
OFFLOAD: Final = 64 * 1024  # larger bodies are compressed in a worker thread (zlib releases the GIL)


def choose(accept_encoding: bytes | None) -> str | None:
    """The coding to answer with, or None. DynamoDB's reading of Accept-Encoding: codings compared by
    their quality (the first `q` of an entry counts; above 1 means 1; unreadable means 1; 0 or less
    refuses), an explicitly named coding before one matched by `*`, then the earlier named one, then
    gzip before deflate. `identity`, unknown codings and malformed entries are ignored."""
    if not accept_encoding:
        return None
    named: dict[str, tuple[float, int]] = {}  # coding -> (best quality, position first named)
    star: float | None = None
    for position, entry in enumerate(accept_encoding.decode("latin-1").split(",")):
        name, *params = entry.split(";")
        coding = name.strip().lower()
        quality = _quality(params)
        if coding == "*":
            star = quality if star is None else max(star, quality)
        elif coding in CODINGS:
            best = named.get(coding)
            named[coding] = (quality, position) if best is None else (max(best[0], quality), best[1])
    ranked: list[tuple[float, int, int, int, str]] = []
    for preference, coding in enumerate(CODINGS):
        if coding in named:
            quality, position = named[coding]
            ranked.append((quality, 1, -position, -preference, coding))
        elif star is not None:
            ranked.append((star, 0, 0, -preference, coding))
    acceptable = [rank for rank in ranked if rank[0] > 0]
    return max(acceptable)[-1] if acceptable else None


def _quality(params: list[str]) -> float:
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() != "q":
            continue
        try:
            quality = float(value.strip())
        except ValueError:
            return 1.0
        return min(quality, 1.0) if not math.isnan(quality) else 1.0
    return 1.0


def compress_now(body: bytes, coding: str) -> bytes:
    if coding == "gzip":
        packer = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing, mtime 0
        return packer.compress(body) + packer.flush()
    return zlib.compress(body, LEVEL)  # HTTP's "deflate" is the zlib format (RFC 9110)


async def compress(body: bytes, coding: str) -> bytes:
    if len(body) < OFFLOAD:
        return compress_now(body, coding)
    return await asyncio.to_thread(compress_now, body, coding)

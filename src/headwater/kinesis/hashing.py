"""Hash keys and shard ids: records go to the shard whose hash-key range holds the MD5 of their partition
key (a 128-bit unsigned integer), or their ExplicitHashKey; shards are `shardId-<12 digits>`."""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Callable
from typing import Protocol


class _Digest(Protocol):
    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...


def _fastest_md5() -> Callable[[bytes], _Digest]:
    """CPython's own MD5 when it has it: for a partition key's few bytes it costs half of OpenSSL's
    through hashlib (a put into a table with a Kinesis destination hashes twice)."""
    try:
        module = importlib.import_module("_md5")
    except ImportError:
        return hashlib.md5
    md5: Callable[[bytes], _Digest] = module.md5
    return md5


md5 = _fastest_md5()

MAX_HASH_KEY = 2**128 - 1
MAX_SHARD_INDEX = 2**31 - 1
_TRAILING_NUMBER = re.compile(r"(?:.*-)?(\d+)")


def hash_key(partition_key: str) -> int:
    return int.from_bytes(md5(partition_key.encode("utf-8")).digest(), "big")


def hex_digest(data: bytes) -> bytes:
    """The MD5 of `data` in upper-case hex (a table's Kinesis records' partition key)."""
    return md5(data).hexdigest().upper().encode()


def hash_key_of(partition_key: bytes) -> int:
    """`hash_key` of a partition key given as its UTF-8 bytes."""
    return int.from_bytes(md5(partition_key).digest(), "big")


def uniform_ranges(count: int, start: int = 0, end: int = MAX_HASH_KEY) -> list[tuple[int, int]]:
    """`count` contiguous ranges covering [start, end] as evenly as integers allow."""
    width = (end - start + 1) // count
    bounds = [start + i * width for i in range(count)] + [end + 1]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(count)]


def shard_name(slot: int) -> str:
    return f"shardId-{slot:012d}"


def parse_shard_id(text: str) -> int | None:
    """The shard index a client's ShardId names: Kinesis reads the number after the last '-' (so
    `shardId-000000000001`, `shard-1` and `1` are the same shard); None if there is none."""
    match = _TRAILING_NUMBER.fullmatch(text)
    if match is None:
        return None
    index = int(match[1])
    return index if index <= MAX_SHARD_INDEX else None

"""Hash keys and shard ids: records go to the shard whose hash-key range holds the MD5 of their partition
key (a 128-bit unsigned integer), or their ExplicitHashKey; shards are `shardId-<12 digits>`."""

from __future__ import annotations

import hashlib
import re

MAX_HASH_KEY = 2**128 - 1
MAX_SHARD_INDEX = 2**31 - 1
_TRAILING_NUMBER = re.compile(r"(?:.*-)?(\d+)")


def hash_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


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

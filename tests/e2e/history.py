"""A history checker for a DynamoDB stream written by many clients through many nodes (Jepsen-style, in
miniature): what the clients did and were told, what the stream holds, what a reader saw while it was
being written; `problems` says where they disagree.

- every acknowledged write is in the stream exactly once; a write whose outcome the client never learnt
  (its node was killed) at most once; nothing else is;
- per key, the stream's order agrees with real time: a write acknowledged before another one started
  comes first;
- per shard, sequence numbers strictly increase in the order the stream is read, and what a reader saw
  while the writes went on is a prefix of that (it never passed a number and missed a smaller one
  committed after).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Write:
    key: str
    wid: str  # unique per write (the client and its counter), stored in the item
    start: float  # monotonic clock: before the request was sent
    end: float  # after the answer (or the failure) came
    acknowledged: bool  # False: the outcome is unknown (an error, a dead node)


@dataclass(frozen=True)
class Seen:
    shard: str
    seq: int
    key: str
    wid: str


def problems(writes: list[Write], stream: list[Seen], tails: dict[str, list[int]]) -> list[str]:
    """Everything wrong with `stream` (read whole, shard by shard in lineage order, after the writes) and
    `tails` (per shard, the sequence numbers a reader saw while the writes went on)."""
    found: list[str] = []
    by_wid = {w.wid: w for w in writes}
    count: dict[str, int] = defaultdict(int)
    for seen in stream:
        count[seen.wid] += 1
        if seen.wid not in by_wid:
            found.append(f"{seen.wid}: in the stream, never written")
        elif by_wid[seen.wid].key != seen.key:
            found.append(f"{seen.wid}: in the stream under key {seen.key}, written to {by_wid[seen.wid].key}")
    for w in writes:
        if w.acknowledged and count[w.wid] != 1:
            found.append(f"{w.wid}: acknowledged, {count[w.wid]} times in the stream")
        elif not w.acknowledged and count[w.wid] > 1:
            found.append(f"{w.wid}: outcome unknown, {count[w.wid]} times in the stream")
    found += _real_time_order(writes, stream)
    found += _shard_order(stream, tails)
    return found


def _real_time_order(writes: list[Write], stream: list[Seen]) -> list[str]:
    by_wid = {w.wid: w for w in writes}
    found: list[str] = []
    per_key: dict[str, list[Write]] = defaultdict(list)
    for seen in stream:
        if seen.wid in by_wid:
            per_key[seen.key].append(by_wid[seen.wid])
    for key, ordered in per_key.items():
        for later_pos, later in enumerate(ordered):
            for earlier in ordered[later_pos + 1 :]:
                # `earlier` comes after `later` in the stream: wrong if it was acknowledged first
                if earlier.acknowledged and earlier.end < later.start:
                    found.append(f"{key}: {earlier.wid}, acknowledged before {later.wid} began, follows it")
    return found


def _shard_order(stream: list[Seen], tails: dict[str, list[int]]) -> list[str]:
    found: list[str] = []
    per_shard: dict[str, list[int]] = defaultdict(list)
    for seen in stream:
        per_shard[seen.shard].append(seen.seq)
    for shard, seqs in per_shard.items():
        if any(b <= a for a, b in itertools.pairwise(seqs)):
            found.append(f"{shard}: sequence numbers not strictly increasing")
    for shard, tail in tails.items():
        if any(b <= a for a, b in itertools.pairwise(tail)):
            found.append(f"{shard}: the live reader saw sequence numbers not strictly increasing")
        if per_shard.get(shard, [])[: len(tail)] != tail:
            found.append(f"{shard}: the live reader's records are not a prefix of the shard's")
    return found

"""Key spaces and unique values: what makes every write of a run change something.

A server may (and Headwater does) skip a write that leaves an item exactly as it was: no SQL, no stream
record.  A benchmark that rewrites identical items therefore measures a shortcut, not a write.  Every
write phase draws its keys from a `KeySpace` of its own for the round, and every UpdateItem sets a value
no other request of the run sets, so each successful write must change an item (bench/verify.py checks).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

# One code per writing phase: a partition key starts with the code and the round number, so no two
# phases or rounds of a run can produce the same key.  Letters only, so "p1" + "2" cannot be read as
# "p" + "12": the round number is the digits between the letters and the first dot.
CODES = {
    "put": "p",
    "put-nostream": "n",
    "put-kinesis": "ki",
    "put-global": "gl",
    "replication-lag": "rl",
    "replication-lag-servers": "rs",
    "update": "u",
    "batch": "b",
    "transact": "t",
    "partiql-insert": "q",
    "stream-drain": "d",
    "trigger-latency": "l",
    "trigger-throughput": "h",
    "bigpartition": "g",
    "preload": "k",
}


@dataclass(frozen=True, slots=True)
class KeySpace:
    """The keys (and update values) one phase writes in one round of a run."""

    code: str
    round: int

    def __post_init__(self) -> None:
        if not (self.code.isascii() and self.code.isalpha()):
            raise ValueError(f"key space code must be ASCII letters, got {self.code!r}")
        if self.round < 0:
            raise ValueError(f"round must be >= 0, got {self.round}")

    @classmethod
    def of(cls, phase: str, round_: int) -> KeySpace:
        return cls(CODES[phase], round_)

    def partition(self, client: int, number: int) -> str:
        """The `number`th partition key of `client` (a generator connection) in this key space."""
        if client < 0 or number < 0:
            raise ValueError(f"client and number must be >= 0, got {client}, {number}")
        return f"{self.code}{self.round}.{client}.{number}"

    def key(self, client: int, seq: int, fanout: int = 10) -> tuple[str, int]:
        """(pk, sk) of a client's `seq`th item; `fanout` consecutive items share a partition."""
        return self.partition(client, seq // fanout), seq % fanout

    def stamp(self, client: int, seq: int) -> str:
        """A value no other request of the run carries (an UpdateItem's SET value)."""
        return f"{self.partition(client, seq)}!"


@dataclass(frozen=True, slots=True)
class Written:
    """The items a put phase (or a preload) wrote: per client, seqs below `next` minus the failed ones."""

    space: KeySpace
    next: dict[int, int]
    failed: dict[int, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def from_reports(cls, space: KeySpace, reports: list[dict[str, Any]]) -> Written:
        return cls(
            space,
            {r["client"]: r["next"] for r in reports if r["next"]},
            {r["client"]: frozenset(r["failed"]) for r in reports if r["failed"]},
        )

    @property
    def size(self) -> int:
        return sum(self.next.values()) - sum(len(f) for f in self.failed.values())

    def sample(self, rnd: random.Random) -> tuple[str, int]:
        """A random key that was written successfully."""
        if self.size <= 0:
            raise ValueError("no item was written")
        clients = list(self.next)
        while True:
            client = rnd.choice(clients)
            seq = rnd.randrange(self.next[client])
            if seq not in self.failed.get(client, ()):
                return self.space.key(client, seq)

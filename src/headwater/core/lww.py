"""Last writer wins: the stamp every change of a global table carries, and the one rule that decides
which of two changes of an item survives, identically in every replica.

A stamp is (write time, region of origin); stamps compare by time, then by region name, so no two
changes of different regions ever tie. Each replica keeps the stamp of the last change applied to
each item, deletes included (a tombstone), in a row beside the items (`stamp_key`); the single writer
reads it with the item, so deciding and applying a replicated change is one atomic step. A local
write is always applied; its stamp is made later than the stored one (`local_stamp`), so it also wins
everywhere else: what a client saw succeed is what every replica ends with, unless a later write
replaced it.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ..storage.base import ItemKey

# Stamp rows live in the items store under a table id no real table (positive) or item-collection
# counter (the negated id) uses. Dropped with the table (core/catalog.py).
_STAMP_OFFSET = 1 << 30
# How much later than the stored stamp a local write is stamped when the clock has not moved past it.
TICK = 1e-6


def stamp_table_id(table_id: int) -> int:
    return -(table_id + _STAMP_OFFSET)


def stamp_key(key: ItemKey) -> ItemKey:
    """Where the stamp of the item at `key` is kept."""
    return ItemKey(stamp_table_id(key.table_id), key.h, key.pk, key.sk)


@dataclass(frozen=True, slots=True, order=True)
class Stamp:
    time: float
    region: str

    def encode(self) -> bytes:
        return orjson.dumps([self.time, self.region])

    @classmethod
    def decode(cls, data: bytes | None) -> Stamp | None:
        if data is None:
            return None
        time, region = orjson.loads(data)
        return cls(float(time), str(region))

    def to_wire(self) -> dict[str, object]:
        return {"writeTime": self.time, "region": self.region}

    @classmethod
    def from_wire(cls, doc: object) -> Stamp | None:
        if not isinstance(doc, dict):
            return None
        time, region = doc.get("writeTime"), doc.get("region")
        if not isinstance(time, int | float) or not isinstance(region, str):
            return None
        return cls(float(time), region)


def wins(incoming: Stamp, stored: Stamp | None) -> bool:
    """Whether a replicated change stamped `incoming` replaces what is stored (stamped `stored`)."""
    return stored is None or incoming > stored


def local_stamp(stored: Stamp | None, now: float, region: str) -> Stamp:
    """The stamp of a local write: now, or just after the stored stamp when that is later (a clock
    behind another region's, or two writes within the clock's resolution)."""
    if stored is not None and Stamp(now, region) <= stored:
        return Stamp(stored.time + TICK, region)
    return Stamp(now, region)

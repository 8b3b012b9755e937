"""Point-in-time recovery's change log: while it is on, every change of a table appends the item's new
state (or its deletion) to a log of its own, numbered by the single writer in the same transaction as the
change (`item_change`), so the log is exact whether or not the table has a stream, and is kept for the
recovery period whatever the stream's retention. A record is the item's key and its stored bytes, so a
replay writes exactly what the table held.

The table's document says where its recovery data lives (`TableSpec.extra[PITR]`): the log's stream id
(one slot, `LOG_SLOT`), the store of its base (a copy of the table as of `base_seq`, like a backup's), the
recovery period and the instant the base stands for.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from ..model.schema import TableSpec
from ..storage.base import ItemKey, StreamWrite

PITR = "pitr"  # TableSpec.extra
LOG_SLOT = 0

_HEAD = struct.Struct("<IIIB")  # h, len(pk), len(sk), 1 if an item follows (0: deleted)


@dataclass(frozen=True, slots=True)
class Recovery:
    log_id: int  # the stream id of the change log
    base_id: int  # the store of the base copy
    period_days: int
    enabled_at: float
    base_seq: int | None  # the base holds every change numbered up to this; None while it is being made
    base_time: float  # the instant the base stands for (the enabling, later the recovery window's start)

    def to_extra(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "base_id": self.base_id,
            "period_days": self.period_days,
            "enabled_at": self.enabled_at,
            "base_seq": self.base_seq,
            "base_time": self.base_time,
        }


def recovery(table: TableSpec) -> Recovery | None:
    found = table.extra.get(PITR)
    return None if found is None else Recovery(**found)


def log_write(log_id: int, key: ItemKey, item: bytes | None, now: float) -> StreamWrite:
    """The record of one item's change: its key and its new stored bytes (None: deleted)."""
    head = _HEAD.pack(key.h, len(key.pk), len(key.sk), item is not None)
    return StreamWrite(log_id, LOG_SLOT, now, b"".join((head, key.pk, key.sk, item or b"")))


def parse(payload: bytes, table_id: int) -> tuple[ItemKey, bytes | None]:
    """A record's item key (in table `table_id`) and its stored item (None: deleted)."""
    h, pk_len, sk_len, present = _HEAD.unpack_from(payload)
    start = _HEAD.size
    pk = payload[start : start + pk_len]
    sk = payload[start + pk_len : start + pk_len + sk_len]
    item = payload[start + pk_len + sk_len :] if present else None
    return ItemKey(table_id, h, pk, sk), item


def in_use_key(found: Recovery) -> str:
    """How a restore marks the recovery data it reads (`Database.backups_in_use`): neither folded nor
    dropped meanwhile."""
    return f"pitr:{found.base_id}"


def stores(table: TableSpec) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """What dropping the table's recovery data drops: (item stores, logs)."""
    found = recovery(table)
    return ((), ()) if found is None else ((found.base_id,), (found.log_id,))

"""Retention's trim of a log, the same on every SQL backend: slot by slot, the records before the first
one created at or after the cut-off.

A slot's records are in commit order and their creation times follow it, but for the moments an
operation waits for its group (or a clock stepped back): a record a little older than the one before it
is trimmed by a later pass, after it. So a trim walks only the records it deletes (plus one) on the
slot's (stream_id, slot, seq) index, needs no index on created_at (one less B-tree written by every
streamed write), and what it leaves of a slot is always a suffix: its trim mark says exactly what is gone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Protocol

from .base import CONTROL_SLOT, TRIM_MARK_KIND, trim_mark_key

_AFTER_EVERY_SEQ = 2**63 - 1


class _Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...


class Connection(Protocol):
    """What sqlite3's and psycopg's connections both are: one statement, run in the writer's transaction."""

    def execute(self, sql: str, params: Sequence[Any], /) -> _Cursor: ...


@functools.lru_cache(maxsize=4)
def _statements(m: str) -> tuple[str, str, str, str, str]:
    where = f"stream_id = {m} AND slot = {m}"
    return (
        f"SELECT slot FROM stream_records WHERE stream_id = {m} AND slot > {m} ORDER BY slot LIMIT 1",
        f"SELECT seq FROM stream_records WHERE {where} AND created_at >= {m} ORDER BY seq LIMIT 1",
        f"SELECT max(seq) FROM stream_records WHERE {where} AND seq < {m}",
        f"INSERT INTO meta (kind, key, value) VALUES ({m}, {m}, {m}) "
        "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
        f"DELETE FROM stream_records WHERE {where} AND seq < {m}",
    )


def trim(conn: Connection, mark: str, stream_id: int, created_before: float) -> int:
    """Delete one log's records older than `created_before` (never in control slots), leaving each trimmed
    slot's highest trimmed sequence number as its trim mark; returns how many went. `mark` is the
    driver's parameter placeholder."""
    next_slot, first_kept, last_before, put_mark, delete = _statements(mark)
    trimmed = 0
    slot = CONTROL_SLOT  # data slots are >= 0
    while (row := conn.execute(next_slot, (stream_id, slot)).fetchone()) is not None:
        slot = row[0]
        kept = conn.execute(first_kept, (stream_id, slot, created_before)).fetchone()
        bound = _AFTER_EVERY_SEQ if kept is None else kept[0]
        (last,) = conn.execute(last_before, (stream_id, slot, bound)).fetchone()
        if last is None:
            continue
        conn.execute(put_mark, (TRIM_MARK_KIND, trim_mark_key(stream_id, slot), str(last).encode()))
        trimmed += conn.execute(delete, (stream_id, slot, bound)).rowcount
    return trimmed

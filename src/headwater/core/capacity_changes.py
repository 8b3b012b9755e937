"""Provisioned throughput increases and decreases, and the limit on decreases (`--enforce-capacity`).

DynamoDB's quotas (Limits.html, "Decreasing provisioned throughput"): a decrease is allowed up to four
times at any time in a UTC day, then once more whenever there was none in the past hour (27 a day at
most); the table and each GSI count their own. Kept in the table's document (`extra`), so a restart
keeps them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..errors import LimitExceededException
from ..model.schema import TableSpec

CHANGES = "capacity_changes"  # TableSpec.extra: {"" (the table) or index name: {"decreases", "increase"}}
FREE_DECREASES = 4
DECREASE_INTERVAL = 3600


@dataclass(frozen=True, slots=True)
class CapacityChanges:
    decreases: tuple[float, ...]  # the decreases of the last UTC day that had any
    last_increase: float | None
    now: float

    def today(self, now: float) -> int:
        day = _day(now)
        return sum(1 for at in self.decreases if _day(at) == day)


def capacity_changes(table: TableSpec, index: str | None, now: float) -> CapacityChanges | None:
    found: dict[str, Any] | None = (table.extra.get(CHANGES) or {}).get(index or "")
    if not found:
        return None
    return CapacityChanges(tuple(found.get("decreases", ())), found.get("increase"), now)


def check_decrease(table: TableSpec, index: str | None, now: float) -> None:
    """LimitExceededException, in DynamoDB's words, when this decrease is one too many."""
    changes = capacity_changes(table, index, now)
    if changes is None:
        return
    today = changes.today(now)
    if today < FREE_DECREASES:
        return
    last = changes.decreases[-1]
    if now - last >= DECREASE_INTERVAL:
        return
    raise LimitExceededException(
        "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. "
        f"After the first {FREE_DECREASES} decreases, each subsequent decrease in the same UTC day can be "
        f"performed at most once every {DECREASE_INTERVAL} seconds. Number of decreases today: {today}. "
        f"Last decrease at {_spoken(last)}. Next decrease can be made at {_spoken(last + DECREASE_INTERVAL)}"
    )


def recorded(
    table: TableSpec, index: str | None, now: float, decrease: bool, increase: bool
) -> dict[str, Any]:
    """The table's `extra` with this change noted (today's decreases only)."""
    changes: dict[str, Any] = dict(table.extra.get(CHANGES) or {})
    entry: dict[str, Any] = dict(changes.get(index or "") or {})
    if decrease:
        day = _day(now)
        entry["decreases"] = [at for at in entry.get("decreases", ()) if _day(at) == day] + [round(now, 3)]
    if increase:
        entry["increase"] = round(now, 3)
    changes[index or ""] = entry
    return {**table.extra, CHANGES: changes}


def _day(at: float) -> dt.date:
    return dt.datetime.fromtimestamp(at, dt.UTC).date()


def _spoken(at: float) -> str:
    """`Friday, October 9, 2026 at 1:21:34 AM Coordinated Universal Time`, as DynamoDB writes it."""
    moment = dt.datetime.fromtimestamp(at, dt.UTC)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{moment:%A}, {moment:%B} {moment.day}, {moment.year} at {hour}:{moment:%M:%S} {half} "
        "Coordinated Universal Time"
    )

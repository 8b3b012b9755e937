"""Did a phase's writes change what they should?  Measured after the phase, outside the timed window.

Two witnesses, compared before and after a phase:
- a Scan of the table: its item count, and the sum of the `updates` counters UpdateItem adds 1 to;
- where the table has a stream (Headwater, DynamoDB Local), every record read from TRIM_HORIZON, by event
  name and by key.  A server writes a stream record exactly when an item changed, so this is the direct
  count of writes that changed something.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.streams import drain_table_stream
from bench.tables import scan_updates
from bench.wire import Endpoint

EVENTS = ("INSERT", "MODIFY", "REMOVE")


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class TableState:
    """What a table held at one moment (stream fields: None when the table has no stream)."""

    items: int = 0
    updates: int = 0
    events: dict[str, int] | None = field(default=None)
    stream_keys: int | None = None

    @classmethod
    def empty(cls, streamed: bool) -> TableState:
        return cls(0, 0, dict.fromkeys(EVENTS, 0), 0) if streamed else cls()


@dataclass(frozen=True, slots=True)
class Expected:
    """A phase's successful writes, each of which must have changed one item.

    `creates`: every write made a new item (PutItem, BatchWriteItem, TransactWriteItems of new keys);
    otherwise every write modified an existing item and added 1 to its `updates` counter (UpdateItem).
    `unknown`: failed requests whose write may or may not have happened (a lost connection); each may
    add one more change.
    """

    writes: int
    creates: bool
    unknown: int = 0


async def measure(endpoint: Endpoint, table: str, streamed: bool) -> TableState:
    items, updates = await scan_updates(endpoint, table)
    if not streamed:
        return TableState(items, updates)
    drain = await drain_table_stream(endpoint, table)
    return TableState(items, updates, {e: drain.events.get(e, 0) for e in EVENTS}, len(drain.keys))


def compare(before: TableState, after: TableState, want: Expected) -> tuple[int, list[Check]]:
    """(writes that changed an item, checks): the stream's count where there is one, else the Scan's."""
    new_items = after.items - before.items
    updates = after.updates - before.updates
    if want.creates:
        grown, untouched, what, other = new_items, updates, "items", "updates counter"
    else:
        grown, untouched, what, other = updates, new_items, "updates counter", "items"
    detail = f"{what} +{grown:,}, {other} {untouched:+,}; {_writes(want)}"
    checks = [Check(f"Scan: {what} grew by the writes", _within(grown, want) and untouched == 0, detail)]
    if after.events is None or before.events is None:
        return grown, checks
    delta = {e: after.events[e] - before.events[e] for e in EVENTS}
    keys = (after.stream_keys or 0) - (before.stream_keys or 0)
    event, other_event = ("INSERT", "MODIFY") if want.creates else ("MODIFY", "INSERT")
    keys_ok = _within(keys, want) if want.creates else keys == 0
    passed = _within(delta[event], want) and delta[other_event] == 0 and delta["REMOVE"] == 0 and keys_ok
    counts = ", ".join(f"{e} +{n:,}" for e, n in delta.items())
    checks.append(
        Check(f"stream: one {event} per write", passed, f"{counts}, new keys +{keys:,}; {_writes(want)}")
    )
    return delta[event], checks


def _within(got: int, want: Expected) -> bool:
    return want.writes <= got <= want.writes + want.unknown


def _writes(want: Expected) -> str:
    unknown = f" (+ up to {want.unknown:,} unknown)" if want.unknown else ""
    return f"{want.writes:,} successful writes{unknown}"

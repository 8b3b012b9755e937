"""INCREMENTAL_EXPORT: what changed in a table during an export period [ExportFromTime, ExportToTime),
read from its point-in-time recovery log and written as AWS documents an incremental export's data:
one line per item that changed, whatever the number of its changes,

    {"Metadata":{"WriteTimestampMicros":{"N":"..."}},"Keys":{...},"OldImage":{...},"NewImage":{...}}

NewImage the item at the period's end (absent: deleted by then), OldImage the item at its start (absent:
it did not exist; never written with ExportViewType NEW_IMAGE); an item inserted and deleted within the
period is not exported. WriteTimestampMicros is the time of its last change in the period.

The period is checked as AWS checks it (InvalidExportTimeException): from no earlier than the recovery
window's start, to not in the future, 15 minutes to 24 hours long."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from ..errors import InvalidExportTimeException
from ..model import ion
from ..model.schema import TableSpec
from ..storage.base import ItemKey
from . import pitr, stored
from .database import Database
from .exports import Line
from .pitr_log import Recovery, recovery

MIN_PERIOD = 15 * 60.0
MAX_PERIOD = 24 * 3600.0
MANIFEST_VERSION = "2023-08-01"
MIN_BILLED = 10_000_000  # AWS bills an incremental export 10 MB at least (its BilledSizeBytes says so)
DATA_FOLDER = "AWSDynamoDB/data"  # shared by a prefix's incremental exports


@dataclass(frozen=True, slots=True)
class Period:
    start: float  # inclusive
    end: float  # exclusive
    view: str  # NEW_IMAGE or NEW_AND_OLD_IMAGES

    def description(self) -> dict[str, Any]:
        """IncrementalExportSpecification, as DescribeExport gives it back."""
        return {"ExportFromTime": self.start, "ExportToTime": self.end, "ExportViewType": self.view}


def _second(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"{epoch!r}"


def period(table: TableSpec, spec: dict[str, Any], now: float) -> Period:
    """The export period a request's IncrementalExportSpecification asks for (ExportFromTime given),
    checked in AWS's order."""
    start = float(spec["ExportFromTime"])
    end = now if spec.get("ExportToTime") is None else float(spec["ExportToTime"])
    window = pitr.window(table, now)
    if window is None or start < window[0]:
        raise InvalidExportTimeException(
            "Incremental export period from time cannot be less than the table creation time : "
            + _second(start)
        )
    if end > now:
        raise InvalidExportTimeException(
            f"Incremental export period to time cannot be greater than the current time : {_second(end)}"
        )
    if start >= end:
        raise InvalidExportTimeException(
            "Incremental export period from time should not be greater or equal to incremental export "
            "period to time"
        )
    if end - start < MIN_PERIOD:
        raise InvalidExportTimeException(
            "Difference between export period from time and export period to time is less than 15 minutes"
        )
    if end - start > MAX_PERIOD:
        raise InvalidExportTimeException(
            "Difference between export period from time and export period to time is more than 24 hours"
        )
    return Period(start, end, spec.get("ExportViewType") or "NEW_AND_OLD_IMAGES")


def lines(
    db: Database, table: TableSpec, when: Period, ceiling: int, output_format: str = "DYNAMODB_JSON"
) -> Iterator[Line]:
    """The export's lines (and the bytes each bills), DynamoDB JSON or Ion: the items changed in the
    period, from the log numbered up to `ceiling`. Reads the log twice: the changes in the period, then
    (for those items only) their state at its start."""
    found = recovery(table)
    assert found is not None
    changed: dict[tuple[int, bytes, bytes], tuple[float, bytes | None]] = {}
    for made, key, item in pitr.logged(db, found, ceiling, table.table_id):
        if when.start <= made < when.end:
            changed[(key.h, key.pk, key.sk)] = (made, item)
    before = _states_at(db, found, ceiling, when.start, set(changed))
    names = [attr.name for attr in (*table.key.hashes, *table.key.ranges)]
    for where, (made, new) in changed.items():
        old = before[where]
        if old is None and new is None:
            continue  # inserted and deleted within the period
        line = _line(made, names, old if when.view == "NEW_AND_OLD_IMAGES" else None, new, old)
        yield (_as_ion(line[0]), line[1]) if output_format == "ION" else line


def _states_at(
    db: Database, found: Recovery, ceiling: int, start: float, wanted: set[tuple[int, bytes, bytes]]
) -> dict[tuple[int, bytes, bytes], bytes | None]:
    """The stored items `wanted` as they were before `start`: their last logged change before it, or
    else the recovery base's copy."""
    states: dict[tuple[int, bytes, bytes], bytes | None] = {}
    for made, key, item in pitr.logged(db, found, ceiling, found.base_id):
        where = (key.h, key.pk, key.sk)
        if made < start and where in wanted:
            states[where] = item
    for where in wanted - states.keys():
        states[where] = db.storage.get_item(ItemKey(found.base_id, *where))
    return states


def _as_ion(json_line: bytes) -> bytes:
    """The same line in Ion, its fields as an Ion export writes an item's attributes (Keys and the
    images as structs, WriteTimestampMicros as a decimal)."""
    fields = {name: {"M": value} for name, value in orjson.loads(json_line).items()}
    return ion.struct_line(fields).encode() + b"\n"


def _line(made: float, names: list[str], old: bytes | None, new: bytes | None, either: bytes | None) -> Line:
    image = new if new is not None else either
    assert image is not None
    item = orjson.loads(stored.json_of(image))
    keys = {name: item[name] for name in names if name in item}
    micros = {"WriteTimestampMicros": {"N": str(round(made * 1_000_000))}}
    parts = [b'{"Metadata":', orjson.dumps(micros), b',"Keys":', orjson.dumps(keys)]
    billed = 0
    if old is not None:
        parts += [b',"OldImage":', stored.json_of(old)]
        billed += stored.size_of(old)
    if new is not None:
        parts += [b',"NewImage":', stored.json_of(new)]
        billed += stored.size_of(new)
    return b"".join(parts) + b"}\n", billed

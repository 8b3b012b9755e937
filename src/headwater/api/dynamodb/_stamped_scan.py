"""Scan with Headwater's own member `HeadwaterReplicationStamps: true`: what a new replica on another
server is filled from (replication/backfill.py). Each item comes with the last-writer-wins stamp of the
change that made it (core/lww.py), and each deleted item's stamp (a tombstone) comes too, so the new
replica refuses an older change of any of them that a stream brings later, as its origin does. An item
and its stamp are read by one statement (Storage.scan_paired): never an item with another change's
stamp. A page is the first Limit keys (PAGE at most) of the items and the stamp rows together, so many
tombstones between two items still make bounded pages, and it ends after 1 MB of items as Scan's does.

Only a peer asks: under `--auth sigv4` it needs `headwater:ReadReplicationStamps` on the table besides
`dynamodb:Scan` (auth/requests.py). A Scan without the member is untouched."""

from __future__ import annotations

from typing import Any

from ...core import stored
from ...core.capacity import consumed_capacity, read_units
from ...core.database import Database
from ...core.lww import Stamp, stamp_table_id
from ...errors import ValidationException
from ...expressions import compile_request
from ...storage.base import PairedRow, Row, Storage
from ...streams.records import REPLICATION_STAMPS, REPLICATION_TOMBSTONES
from ._reads import last_evaluated_key, resolve_target, run_page, start_position

PAGE = 1000  # keys a page reads at most (and when the request has no Limit)
MAX_PAGE_BYTES = 1024 * 1024  # as a Scan page: it ends once 1 MB of items is read
FIRST_CHUNK = 64  # keys of the first statement; each next one reads twice as many
# what would change which items a page holds or how they look: a backfill copies whole items
_WHOLE_TABLE_ONLY = (
    "IndexName",
    "Segment",
    "TotalSegments",
    "Select",
    "FilterExpression",
    "ScanFilter",
    "ConditionalOperator",
    "ProjectionExpression",
    "AttributesToGet",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
)


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    if request[REPLICATION_STAMPS] is not True:
        raise ValidationException(f"{REPLICATION_STAMPS} must be true")
    refused = [name for name in _WHOLE_TABLE_ONLY if name in request]
    if refused:
        raise ValidationException(
            f"{REPLICATION_STAMPS} reads whole items of the whole table: it cannot be used with "
            + ", ".join(refused)
        )
    table = db.catalog.require(request["TableName"])
    target = resolve_target(table, request, compile_request(request, operation="Scan"))
    start = start_position(target, request.get("ExclusiveStartKey"))
    limit = min(target.spec.limit or PAGE, PAGE)
    after = start[:3] if start is not None else None
    stamps_id = stamp_table_id(table.table_id)
    rows, more = await run_page(lambda: _read(db.storage, table.table_id, stamps_id, after, limit), limit)
    items: list[Any] = []
    stamps: list[dict[str, object] | None] = []
    tombstones: list[dict[str, object]] = []
    read_bytes = 0
    for row in rows:
        stamp = Stamp.decode(row.other)
        if row.item is not None:
            items.append(stored.unpack(row.item))
            stamps.append(stamp.to_wire() if stamp is not None else None)
            read_bytes += stored.size_of(row.item)
        elif stamp is not None:
            keys = last_evaluated_key(target, Row(row.h, row.pk, row.sk, b""))
            tombstones.append({"Keys": keys, "replication": stamp.to_wire()})
    out: dict[str, Any] = {
        "Items": items,
        "Count": len(items),
        "ScannedCount": len(items),
        REPLICATION_STAMPS: stamps,
        REPLICATION_TOMBSTONES: tombstones,
    }
    if more:
        last = rows[-1]
        out["LastEvaluatedKey"] = last_evaluated_key(target, Row(last.h, last.pk, last.sk, b""))
    mode = request.get("ReturnConsumedCapacity")
    if mode in ("TOTAL", "INDEXES"):
        units = read_units(read_bytes, target.consistent)
        out["ConsumedCapacity"] = consumed_capacity(mode, table, units, kind="read")
    return out


def _read(
    storage: Storage, table_id: int, stamps_id: int, after: tuple[int, bytes, bytes] | None, limit: int
) -> tuple[list[PairedRow], bool]:
    """Up to `limit` keys, fewer once MAX_PAGE_BYTES of items are read, in chunks (each key's item and
    stamp from one statement); whether more keys follow."""
    rows: list[PairedRow] = []
    size = 0
    chunk = FIRST_CHUNK
    while True:
        want = min(chunk, limit - len(rows))
        found = storage.scan_paired(table_id, stamps_id, after, want + 1)
        for row in found[:want]:
            rows.append(row)
            size += len(row.item or b"")
            if size >= MAX_PAGE_BYTES:
                return rows, row is not found[-1]
        if len(found) <= want:
            return rows, False
        if len(rows) >= limit:
            return rows, True
        last = rows[-1]
        after = (last.h, last.pk, last.sk)
        chunk *= 2

"""Scan: a whole table or index in partition-hash order; parallel segments are ranges of that hash."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...core.reads import read_page, segment_range
from ...errors import ValidationException
from ...expressions import compile_request
from ...streams.records import REPLICATION_STAMPS
from . import _stamped_scan
from ._reads import base_fetcher, page_response, resolve_target, run_page, start_position


def _segments(request: dict[str, Any]) -> tuple[int, int]:
    segment, total = request.get("Segment"), request.get("TotalSegments")
    if segment is not None and total is None:
        raise ValidationException(
            "The TotalSegments parameter is required but was not present in the request when Segment "
            "parameter is present"
        )
    if total is not None and segment is None:
        raise ValidationException(
            "The Segment parameter is required but was not present in the request when parameter "
            "TotalSegments is present"
        )
    if segment is None or total is None:
        return 0, 1
    if segment >= total:
        raise ValidationException(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}"
        )
    return int(segment), int(total)


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any] | bytes:
    if REPLICATION_STAMPS in request:  # a peer's backfill (Headwater's own member)
        return await _stamped_scan.handle(db, request)
    compiled = compile_request(request, operation="Scan")
    segment, total = _segments(request)
    table = db.catalog.require(request["TableName"])
    target = resolve_target(table, request, compiled)
    h_from, h_to = segment_range(segment, total)
    start = start_position(target, request.get("ExclusiveStartKey"))
    if start is not None and not h_from <= start[0] <= h_to:
        raise ValidationException("Exclusive start key must lie within the segment")
    fetch = base_fetcher(db.storage, target)

    def read() -> dict[str, Any] | bytes:
        rows = db.storage.scan(
            table.table_id,
            target.index_id,
            h_from=h_from,
            h_to=h_to,
            start_after=start,
            expected=target.spec.limit,
        )
        return page_response(request, target, read_page(rows, target.spec, fetch))

    return await run_page(read, target.spec.limit)

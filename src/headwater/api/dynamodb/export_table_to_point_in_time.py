"""ExportTableToPointInTime: the table as of an instant of its recovery window, written to a bucket
folder in AWS's export layout (core/exports.py), as DynamoDB JSON or Ion. Answers IN_PROGRESS; the files
are written off the event loop, then the export is COMPLETED (DescribeExport)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from ...core import exports, jobs, pitr
from ...core.database import Database
from ...core.pitr_log import Recovery, recovery
from ...core.progress import counted
from ...core.s3_folders import bucket_folder, key_path
from ...errors import (
    ExportConflictException,
    InvalidExportTimeException,
    LimitExceededException,
    PointInTimeRecoveryUnavailableException,
    TableNotFoundException,
    ValidationException,
)
from ...model.schema import TableSpec

log = logging.getLogger(__name__)

# Exports running at once (all namespaces): each holds a worker thread for its whole length, and the
# server's thread pool also reads large pages for requests.
MAX_RUNNING = 2


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    output_format = request.get("ExportFormat") or "DYNAMODB_JSON"
    asked = jobs.fingerprint(request)
    token = request.get("ClientToken")
    if token is not None:
        earlier = jobs.by_token(db, jobs.EXPORT_KIND, token, db.clock.now())
        if earlier is not None:
            if earlier[1] != asked:
                raise ExportConflictException(
                    f"ClientToken {token} was used by another export request: {earlier[0]['ExportArn']}"
                )
            return {"ExportDescription": earlier[0]}
    if (request.get("ExportType") or "FULL_EXPORT") != "FULL_EXPORT":
        raise ValidationException("Headwater exports FULL_EXPORT only (INCREMENTAL_EXPORT is not supported)")
    arn = request["TableArn"]
    table = db.catalog.get(arn) if arn.startswith("arn:") else None
    if table is None:
        raise TableNotFoundException(f"Table not found: {arn}")
    found = recovery(table)
    now = db.clock.now()
    span = pitr.window(table, now)
    if found is None or span is None:
        raise PointInTimeRecoveryUnavailableException(
            f"Point in time recovery is not enabled for table '{table.name}'"
        )
    requested = request.get("ExportTime")
    at = now if requested is None else float(requested)
    if not span[0] <= at <= span[1]:
        raise InvalidExportTimeException(
            f"Export time {exports.iso(at)} is not within the point in time recovery window "
            f"[{exports.iso(span[0])}, {exports.iso(span[1])}]"
        )
    if jobs.running(db, jobs.EXPORT_KIND, "ExportStatus") >= MAX_RUNNING:
        raise LimitExceededException(
            f"Too many exports in progress: this server runs at most {MAX_RUNNING} at once"
        )
    bucket, prefix = request["S3Bucket"], request.get("S3Prefix") or ""
    folder = bucket_folder(db.settings, bucket)
    key_path(folder, prefix)  # checked now: a bad prefix is the request's error, not a failed export
    export_id = exports.new_id(now)
    description: dict[str, Any] = {
        "ExportArn": f"{table.arn}/export/{export_id}",
        "ExportStatus": "IN_PROGRESS",
        "StartTime": now,
        "TableArn": table.arn,
        "TableId": table.table_uuid,
        "ExportTime": at,
        "S3Bucket": bucket,
        "S3Prefix": prefix,
        "S3SseAlgorithm": request.get("S3SseAlgorithm") or "AES256",
        "ExportFormat": output_format,
        "ExportType": "FULL_EXPORT",
    }
    for optional in ("ClientToken", "S3BucketOwner", "S3SseKmsKeyId"):
        if request.get(optional) is not None:
            description[optional] = request[optional]
    await exports.save(db, description, asked)
    live = requested is None or at >= now
    ceiling = db.storage.last_sequence()
    db.later(0, lambda: _run(db, table, found, description, live, ceiling, asked))
    return {"ExportDescription": description}


async def _run(
    db: Database,
    table: TableSpec,
    found: Recovery,
    description: dict[str, Any],
    live: bool,
    ceiling: int,
    asked: str,
) -> None:
    summary = {
        "exportArn": description["ExportArn"],
        "startTime": exports.iso(description["StartTime"]),
        "tableArn": description["TableArn"],
        "tableId": description["TableId"],
        "exportTime": exports.iso(description["ExportTime"]),
        "s3Bucket": description["S3Bucket"],
        "s3Prefix": description["S3Prefix"] or None,
        "s3SseAlgorithm": description["S3SseAlgorithm"],
        "s3SseKmsKeyId": description.get("S3SseKmsKeyId"),
        "outputFormat": description["ExportFormat"],
        "exportType": "FULL_EXPORT",
    }
    folder = bucket_folder(db.settings, description["S3Bucket"])
    export_id = description["ExportArn"].rsplit("/", 1)[-1]
    # progress for /metrics: the items written so far of the table's count (known in advance when live)
    count = db.progress.exports.start(
        description["ExportArn"], db.storage.counters(table.table_id)[0] if live else None
    )

    def write() -> exports.Written:
        prefix, output_format = description["S3Prefix"], description["ExportFormat"]
        if live:
            with db.storage.snapshot(table.table_id) as snap:
                rows = counted((row.item for row in snap.rows), count)
                return exports.write_export(folder, prefix, export_id, rows, summary, output_format)
        items = counted(_as_of(db, table, found, description, ceiling), count)
        return exports.write_export(folder, prefix, export_id, items, summary, output_format)

    try:
        written = await asyncio.to_thread(write)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the folder is not writable, the disk is full...
        log.exception("export %s failed", description["ExportArn"])
        failed = dict(description, ExportStatus="FAILED", EndTime=db.clock.now())
        failed.update(FailureCode="S3WriteFailed", FailureMessage=str(exc)[:1000])
        await exports.save(db, failed, asked)
        db.progress.exports.finish(description["ExportArn"])
        return
    done = dict(description, ExportStatus="COMPLETED", EndTime=db.clock.now())
    done.update(
        ExportManifest=written.manifest,
        ItemCount=written.item_count,
        BilledSizeBytes=written.billed_bytes,
    )
    await exports.save(db, done, asked)
    db.progress.exports.finish(description["ExportArn"])


def _as_of(
    db: Database, table: TableSpec, found: Recovery, description: dict[str, Any], ceiling: int
) -> Iterator[bytes]:
    """The table's items at the export time, from its recovery base and log (held in memory by key)."""
    state: dict[tuple[int, bytes, bytes], bytes | None] = {}
    for key, item in pitr.replay(db, found, description["ExportTime"], ceiling, table):
        state[(key.h, key.pk, key.sk)] = item
    return (item for _, item in sorted(state.items()) if item is not None)  # keys are unique

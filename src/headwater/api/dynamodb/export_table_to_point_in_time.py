"""ExportTableToPointInTime: the table as of an instant of its recovery window (FULL_EXPORT, DynamoDB JSON
or Ion), or what changed in it during an export period (INCREMENTAL_EXPORT, core/incremental.py), written
to a bucket in AWS's export layout (core/exports.py). Answers IN_PROGRESS; the files are written off the
event loop, then the export is COMPLETED, or FAILED with the store's refusal (DescribeExport)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from ...core import exports, incremental, jobs, object_store, pitr
from ...core.database import Database
from ...core.object_store import Encryption, StoreError
from ...core.pitr_log import LOG_SLOT, Recovery, in_use_key, recovery
from ...core.progress import counted
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
    earlier = jobs.repeated(db, jobs.EXPORT_KIND, request, ExportConflictException)
    if earlier is not None:
        return {"ExportDescription": earlier}
    export_type = _export_type(request)
    arn = request["TableArn"]
    table = db.catalog.get(arn) if arn.startswith("arn:") else None
    if table is None:
        raise TableNotFoundException(f"Table not found: {arn}")
    found = recovery(table)
    now = db.clock.now()
    at = now if request.get("ExportTime") is None else float(request["ExportTime"])
    period = None
    if export_type == "INCREMENTAL_EXPORT":
        period = incremental.period(table, request["IncrementalExportSpecification"], now)
    else:
        span = pitr.window(table, now)
        if found is None or span is None:
            raise PointInTimeRecoveryUnavailableException(
                f"Point in time recovery is not enabled for table '{table.name}'"
            )
        if not span[0] <= at <= span[1]:
            raise InvalidExportTimeException(
                f"Export time {exports.iso(at)} is not within the point in time recovery window "
                f"[{exports.iso(span[0])}, {exports.iso(span[1])}]"
            )
    assert found is not None  # an incremental period lies in the recovery window
    if jobs.running(db, jobs.EXPORT_KIND, "ExportStatus") >= MAX_RUNNING:
        raise LimitExceededException(
            f"Too many exports in progress: this server runs at most {MAX_RUNNING} at once"
        )
    bucket, prefix = request["S3Bucket"], request.get("S3Prefix") or ""
    # checked now: a bad folder name is the request's error, not a failed export
    object_store.check_request(db.settings, bucket, prefix)
    export_id = exports.new_id(now)
    description: dict[str, Any] = {
        "ExportArn": f"{table.arn}/export/{export_id}",
        "ExportStatus": "IN_PROGRESS",
        "StartTime": now,
        "TableArn": table.arn,
        "TableId": table.table_uuid,
        "S3Bucket": bucket,
        "S3Prefix": prefix,
        "S3SseAlgorithm": request.get("S3SseAlgorithm") or "AES256",
        "ExportFormat": output_format,
        "ExportType": export_type,
    }
    if period is None:
        description["ExportTime"] = at
    else:
        description["IncrementalExportSpecification"] = period.description()
    for optional in ("ClientToken", "S3BucketOwner", "S3SseKmsKeyId"):
        if request.get(optional) is not None:
            description[optional] = request[optional]
    await exports.save(db, description, asked)
    live = period is None and (request.get("ExportTime") is None or at >= now)
    ceiling = db.storage.shard_ceiling(found.log_id, LOG_SLOT)  # the change log's
    encryption = Encryption(request.get("S3SseAlgorithm"), request.get("S3SseKmsKeyId"))
    db.later(0, lambda: _run(db, table, found, description, live, ceiling, asked, encryption, period))
    return {"ExportDescription": description}


def _export_type(request: dict[str, Any]) -> str:
    """ExportType and IncrementalExportSpecification checked together, as AWS does."""
    export_type = request.get("ExportType")
    spec = request.get("IncrementalExportSpecification")
    if spec is not None and export_type is None:
        raise ValidationException(
            "Invalid Request: Export Type expected to be Incremental Export when incremental export "
            "specification is provided"
        )
    if spec is not None and export_type == "FULL_EXPORT":
        raise ValidationException(
            "Invalid Request: When Export Type is Full Export , Incremental Export Specification should "
            "not be provided"
        )
    if export_type == "INCREMENTAL_EXPORT":
        if spec is None:
            raise ValidationException(
                "Invalid Request: Incremental Export Specification expected when export type is set as "
                "Incremental Export"
            )
        if spec.get("ExportFromTime") is None:
            raise ValidationException(
                "Invalid Request: ExportFromTime must be provided in IncrementalExportSpecification"
            )
    return export_type or "FULL_EXPORT"


async def _run(
    db: Database,
    table: TableSpec,
    found: Recovery,
    description: dict[str, Any],
    live: bool,
    ceiling: int,
    asked: str,
    encryption: Encryption,
    period: incremental.Period | None,
) -> None:
    summary: dict[str, Any] = {
        "version": exports.MANIFEST_VERSION if period is None else incremental.MANIFEST_VERSION,
        "exportArn": description["ExportArn"],
        "startTime": exports.iso(description["StartTime"]),
        "tableArn": description["TableArn"],
        "tableId": description["TableId"],
    }
    if period is None:
        summary["exportTime"] = exports.iso(description["ExportTime"])
    else:
        summary.update(exportFromTime=exports.iso(period.start), exportToTime=exports.iso(period.end))
    summary.update(
        s3Bucket=description["S3Bucket"],
        s3Prefix=description["S3Prefix"] or None,
        s3SseAlgorithm=description["S3SseAlgorithm"],
        s3SseKmsKeyId=description.get("S3SseKmsKeyId"),
        outputFormat=description["ExportFormat"],
    )
    if period is None:
        summary["exportType"] = "FULL_EXPORT"
    else:
        summary.update(outputView=period.view, exportType="INCREMENTAL_EXPORT")
    export_id = description["ExportArn"].rsplit("/", 1)[-1]
    # progress for /metrics: the items written so far of the table's count (known in advance when live)
    count = db.progress.exports.start(
        description["ExportArn"], db.storage.counters(table.table_id)[0] if live else None
    )

    def write() -> exports.Written:
        prefix, output_format = description["S3Prefix"], description["ExportFormat"]
        bucket = object_store.bucket(
            db.settings, description["S3Bucket"], description.get("S3BucketOwner"), encryption
        )
        if period is not None:
            changes = counted(incremental.lines(db, table, period, ceiling, output_format), count)
            return exports.write_export(
                bucket,
                prefix,
                export_id,
                changes,
                summary,
                db.clock.now,
                suffix=".ion.gz" if output_format == "ION" else ".json.gz",
                data_folder=incremental.DATA_FOLDER,
                min_billed=incremental.MIN_BILLED,
            )
        if live:
            with db.storage.snapshot(table.table_id) as snap:
                rows = counted((row.item for row in snap.rows), count)
                lines, suffix = exports.item_lines(rows, output_format)
                return exports.write_export(
                    bucket, prefix, export_id, lines, summary, db.clock.now, suffix=suffix
                )
        items = counted(_as_of(db, table, found, description, ceiling), count)
        lines, suffix = exports.item_lines(items, output_format)
        return exports.write_export(bucket, prefix, export_id, lines, summary, db.clock.now, suffix=suffix)

    # an export that reads the recovery data keeps it from being folded or dropped meanwhile
    in_use = None if live else in_use_key(found)
    if in_use is not None:
        db.backups_in_use.add(in_use)
    try:
        written = await asyncio.to_thread(write)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the store refused, the folder is not writable, the disk is full...
        log.warning("export %s failed: %s", description["ExportArn"], exc)
        code = exc.code if isinstance(exc, StoreError) else "S3WriteFailed"
        failed = dict(description, ExportStatus="FAILED", EndTime=db.clock.now())
        failed.update(FailureCode=code, FailureMessage=str(exc)[:1000])
        await exports.save(db, failed, asked)
        db.progress.exports.finish(description["ExportArn"])
        return
    finally:
        if in_use is not None:
            db.backups_in_use.discard(in_use)
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

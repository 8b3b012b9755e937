"""ImportTable: a new table (with its indexes) filled from the files under a bucket's key prefix (an
S3-compatible store's or a folder's: core/object_store.py), DYNAMODB_JSON, ION or CSV, GZIP or not.
Answers IN_PROGRESS with the table CREATING; DescribeImport's counters move as the files are read;
COMPLETED once every readable item is in (lines that are not valid items are counted in ErrorCount and
skipped, as on AWS; AWS writes what was wrong with them to CloudWatch Logs, which Headwater does not
have, so a COMPLETED import's FailureMessage names the first five). A bucket the store refuses (it does
not exist, access is denied) FAILS the import with S3's answer, and the table is dropped, as on AWS."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from ...core import jobs, object_store, table_restore
from ...core.database import Database
from ...core.exports import new_id
from ...core.restore import Change
from ...errors import (
    ImportConflictException,
    LimitExceededException,
    ResourceInUseException,
    ValidationException,
)
from ...model.schema import TableSpec
from ._import_files import Progress, Source, read
from .create_table import table_spec

PROGRESS_EVERY = 1.0  # seconds between saves of the counters while an import runs
MAX_RUNNING = 10  # imports filling tables at once (all namespaces)


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    asked = jobs.fingerprint(request)
    earlier = jobs.repeated(db, jobs.IMPORT_KIND, request, ImportConflictException)
    if earlier is not None:
        return {"ImportTableDescription": earlier}
    input_format = request["InputFormat"]
    compression = request.get("InputCompressionType") or "NONE"
    if compression == "ZSTD":
        raise ValidationException("Headwater imports GZIP or uncompressed files only (ZSTD is not supported)")
    csv_options = (request.get("InputFormatOptions") or {}).get("Csv") or {}
    if csv_options and input_format != "CSV":
        raise ValidationException("InputFormatOptions.Csv applies to the CSV input format only")
    if jobs.running(db, jobs.IMPORT_KIND, "ImportStatus") >= MAX_RUNNING:
        raise LimitExceededException(
            f"Too many imports in progress: this server runs at most {MAX_RUNNING} at once"
        )
    bucket_source = request["S3BucketSource"]
    prefix = bucket_source.get("S3KeyPrefix") or ""
    object_store.check_request(db.settings, bucket_source["S3Bucket"], prefix)
    source = Source(
        object_store.bucket(db.settings, bucket_source["S3Bucket"], bucket_source.get("S3BucketOwner")),
        prefix,
        input_format,
        compression,
        csv_options.get("Delimiter") or ",",
        tuple(csv_options["HeaderList"]) if csv_options.get("HeaderList") else None,
    )
    parameters = request["TableCreationParameters"]
    spec = table_spec(db, parameters)
    now = db.clock.now()
    progress = Progress()
    async with db.catalog.lock:
        if db.catalog.get(parameters["TableName"]) is not None:
            raise ResourceInUseException(f"Table already exists: {spec.name}")
        description: dict[str, Any] = {
            "ImportArn": f"{spec.arn}/import/{new_id(now)}",
            "ImportStatus": "IN_PROGRESS",
            "TableArn": spec.arn,
            "TableId": spec.table_uuid,
            "S3BucketSource": bucket_source,
            "ErrorCount": 0,
            "InputFormat": input_format,
            "InputCompressionType": compression,
            "TableCreationParameters": parameters,
            "StartTime": now,
            "ProcessedSizeBytes": 0,
            "ProcessedItemCount": 0,
            "ImportedItemCount": 0,
        }
        if request.get("InputFormatOptions"):
            description["InputFormatOptions"] = request["InputFormatOptions"]
        if request.get("ClientToken"):
            description["ClientToken"] = request["ClientToken"]

        def changes(table: TableSpec) -> Iterator[Change]:
            return read(source, table, progress)

        async def ended(table: TableSpec, filled: bool) -> None:
            await _finish(db, description, progress, filled, asked)

        await jobs.save(db, jobs.IMPORT_KIND, description["ImportArn"], description, asked)
        await table_restore.start(db, spec, changes, ended=ended)
    db.later(PROGRESS_EVERY, lambda: _report(db, description, progress, asked))
    return {"ImportTableDescription": description}


def _counted(description: dict[str, Any], progress: Progress) -> dict[str, Any]:
    return dict(
        description,
        ErrorCount=progress.errors,
        ProcessedSizeBytes=progress.processed_bytes,
        ProcessedItemCount=progress.processed_items,
        ImportedItemCount=progress.imported_items,
    )


async def _report(db: Database, description: dict[str, Any], progress: Progress, asked: str) -> None:
    """Save the counters every second while the import runs (DescribeImport shows its progress). The
    flag is checked right before each save is submitted, and `_finish` sets it before submitting its
    own: the writer commits saves in submission order, so the final description is never overwritten."""
    while not progress.finished:
        counted = _counted(description, progress)
        await jobs.save(db, jobs.IMPORT_KIND, description["ImportArn"], counted, asked)
        await asyncio.sleep(PROGRESS_EVERY)


async def _finish(
    db: Database, description: dict[str, Any], progress: Progress, filled: bool, asked: str
) -> None:
    progress.finished = True
    done = _counted(description, progress)
    done["EndTime"] = db.clock.now()
    if filled:
        done["ImportStatus"] = "COMPLETED"
    elif progress.failure is not None:  # the store refused: nothing was read
        done["ImportStatus"] = "FAILED"
        done["FailureCode"] = progress.failure.code
        done["FailureMessage"] = str(progress.failure)[:1000]
    else:
        done["ImportStatus"] = "FAILED"
        done["FailureCode"] = "ItemLoadFailed"
        done["FailureMessage"] = "the table could not be filled (the server's log says why)"
    if progress.samples and filled:  # the first lines refused (the rest are counted in ErrorCount)
        done["FailureMessage"] = "; ".join(progress.samples)
    await jobs.save(db, jobs.IMPORT_KIND, description["ImportArn"], done, asked)

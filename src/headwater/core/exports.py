"""ExportTableToPointInTime's files in AWS's layout, written to a bucket (core/object_store.py: an
S3-compatible store or a folder):

    <prefix>/AWSDynamoDB/<ExportId>/_started
    <prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json   (+ .checksum: its MD5, hex)
    <prefix>/AWSDynamoDB/<ExportId>/manifest-files.json     (+ .checksum; JSON lines, one per data file)
    <prefix>/AWSDynamoDB/<ExportId>/data/<name>.json.gz     (a full export: {"Item": <item>} lines)
    <prefix>/AWSDynamoDB/<ExportId>/data/<name>.ion.gz      (ION: `$ion_1_0 {Item:{...}}` lines)
    <prefix>/AWSDynamoDB/data/<name>.json.gz                (an incremental export's, in the data folder
                                                             its exports share: core/incremental.py)

A full export is the table as of the export time: a snapshot of the table when the time is now (one
commit, read while writes go on), otherwise its point-in-time recovery base and log replayed up to that
instant. All of it runs off the event loop; the export's document (meta `export`, keyed by its ARN) is
IN_PROGRESS until the files are written, then COMPLETED (or FAILED, with the reason).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import itertools
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from ..model import ion
from . import jobs, stored
from .database import Database
from .object_store import Bucket

ITEMS_PER_FILE = 100_000
MANIFEST_VERSION = "2020-06-30"


def iso(epoch: float) -> str:
    """An instant for a message or a manifest; a client's out-of-range time as the number it sent."""
    try:
        return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (OverflowError, ValueError, OSError):
        return f"{epoch!r} (seconds since the epoch)"


def new_id(now: float) -> str:
    """AWS's export and import ids: 14-digit epoch milliseconds, a dash, 8 hex digits."""
    return f"{int(now * 1000):014d}-{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class Written:
    item_count: int
    billed_bytes: int
    manifest: str  # the summary manifest's key in the bucket (every key written is whole: prefix first)


Line = tuple[bytes, int]  # a data file's line, and the bytes it bills


def _json_line(raw: bytes) -> bytes:
    return b'{"Item":' + stored.json_of(raw) + b"}\n"


def _ion_line(raw: bytes) -> bytes:
    return ion.item_line(stored.unpack(raw)).encode() + b"\n"


def item_lines(items: Iterator[bytes], output_format: str) -> tuple[Iterator[Line], str]:
    """A full export's lines (stored items, core/stored.py) and its data files' suffix."""
    line, suffix = (_ion_line, ".ion.gz") if output_format == "ION" else (_json_line, ".json.gz")
    return ((line(raw), stored.size_of(raw)) for raw in items), suffix


def write_export(
    bucket: Bucket,
    prefix: str,
    export_id: str,
    lines: Iterator[Line],
    summary: dict[str, Any],
    now: Callable[[], float],
    *,
    suffix: str = ".json.gz",
    data_folder: str | None = None,
    min_billed: int = 0,
) -> Written:
    """Write an export's files into `bucket`: `summary` is the summary manifest's own part (from
    "version" on), `data_folder` where the data files go (by default the export's own `data/`)."""
    base_key = _with_prefix(prefix, f"AWSDynamoDB/{export_id}")
    data_folder = data_folder or f"AWSDynamoDB/{export_id}/data"
    bucket.put(f"{base_key}/_started", b"")
    files: list[dict[str, Any]] = []
    count = size = 0
    while True:
        chunk = list(itertools.islice(lines, ITEMS_PER_FILE))
        if not chunk and files:
            break
        name = base64.b32encode(secrets.token_bytes(16)).decode().lower()[:26]
        key = _with_prefix(prefix, f"{data_folder}/{name}{suffix}")
        body = gzip.compress(b"".join(line for line, _ in chunk))
        bucket.put(key, body)
        digest = hashlib.md5(body)  # S3's ETag and Content-MD5, not security
        files.append(
            {
                "itemCount": len(chunk),
                "md5Checksum": base64.b64encode(digest.digest()).decode(),
                "etag": digest.hexdigest(),
                "dataFileS3Key": key,
            }
        )
        count += len(chunk)
        size += sum(billed for _, billed in chunk)
        if len(chunk) < ITEMS_PER_FILE:
            break
    listing = b"".join(orjson.dumps(entry) + b"\n" for entry in files)
    _write_with_checksum(bucket, f"{base_key}/manifest-files", listing)
    size = max(size, min_billed)
    # in the order of AWS's manifests: endTime after startTime, the output's shape last
    last = ("outputFormat", "outputView", "exportType")
    ended: dict[str, Any] = {}
    for name, value in summary.items():
        if name not in last:
            ended[name] = value
        if name == "startTime":
            ended["endTime"] = iso(now())
    ended.update(manifestFilesS3Key=f"{base_key}/manifest-files.json", billedSizeBytes=size, itemCount=count)
    ended.update({name: summary[name] for name in last if name in summary})
    _write_with_checksum(bucket, f"{base_key}/manifest-summary", json.dumps(ended, indent=2).encode())
    return Written(count, size, f"{base_key}/manifest-summary.json")


def _with_prefix(prefix: str, key: str) -> str:
    return f"{prefix.strip('/')}/{key}" if prefix.strip("/") else key


def _write_with_checksum(bucket: Bucket, name: str, body: bytes) -> None:
    bucket.put(f"{name}.json", body)
    bucket.put(f"{name}.checksum", hashlib.md5(body).hexdigest().encode())  # a checksum file, as AWS's


def get(db: Database, arn: str) -> dict[str, Any] | None:
    """The namespace's export `arn` names: its ExportDescription."""
    return jobs.get(db, jobs.EXPORT_KIND, arn)


def every(db: Database) -> list[dict[str, Any]]:
    """The namespace's exports' descriptions, oldest first."""
    return jobs.every(db, jobs.EXPORT_KIND, "ExportArn")


async def save(db: Database, description: dict[str, Any], request: str) -> None:
    await jobs.save(db, jobs.EXPORT_KIND, description["ExportArn"], description, request)

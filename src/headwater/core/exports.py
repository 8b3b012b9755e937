"""ExportTableToPointInTime to a bucket folder, in AWS's layout (DYNAMODB_JSON or ION):

    <prefix>/AWSDynamoDB/<ExportId>/_started
    <prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json   (+ .checksum: its MD5, hex)
    <prefix>/AWSDynamoDB/<ExportId>/manifest-files.json     (+ .checksum; JSON lines, one per data file)
    <prefix>/AWSDynamoDB/<ExportId>/data/<name>.json.gz     (JSON lines: {"Item": <item>})
    <prefix>/AWSDynamoDB/<ExportId>/data/<name>.ion.gz      (ION: `$ion_1_0 {Item:{...}}` lines)

The table as of the export time: a snapshot of the table when the time is now (one commit, read while
writes go on), otherwise its point-in-time recovery base and log replayed up to that instant. All of it
runs off the event loop; the export's document (meta `export`, keyed by its ARN) is IN_PROGRESS until
the files are written, then COMPLETED (or FAILED, with the reason).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import itertools
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ..model import ion
from . import jobs, stored
from .database import Database

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


def _json_line(raw: bytes) -> bytes:
    return b'{"Item":' + stored.json_of(raw) + b"}\n"


def _ion_line(raw: bytes) -> bytes:
    return ion.item_line(stored.unpack(raw)).encode() + b"\n"


def write_export(
    bucket: Path,
    prefix: str,
    export_id: str,
    items: Iterator[bytes],
    summary: dict[str, Any],
    output_format: str = "DYNAMODB_JSON",
) -> Written:
    """Write the export's files under `bucket` (a folder); `items` are stored items (core/stored.py)."""
    line, suffix = (_ion_line, ".ion.gz") if output_format == "ION" else (_json_line, ".json.gz")
    base_key = "/".join(part for part in (prefix.strip("/"), "AWSDynamoDB", export_id) if part)
    base = bucket / base_key
    (base / "data").mkdir(parents=True, exist_ok=True)
    (base / "_started").touch()
    files: list[dict[str, Any]] = []
    count = size = 0
    while True:
        chunk = list(itertools.islice(items, ITEMS_PER_FILE))
        if not chunk and files:
            break
        key = (
            f"AWSDynamoDB/{export_id}/data/{base64.b32encode(secrets.token_bytes(16)).decode().lower()[:26]}"
        )
        body = gzip.compress(b"".join(line(raw) for raw in chunk))
        (bucket / _with_prefix(prefix, key + suffix)).write_bytes(body)
        digest = hashlib.md5(body)  # S3's ETag and Content-MD5, not security
        files.append(
            {
                "itemCount": len(chunk),
                "md5Checksum": base64.b64encode(digest.digest()).decode(),
                "etag": digest.hexdigest(),
                "dataFileS3Key": _with_prefix(prefix, key + suffix),
            }
        )
        count += len(chunk)
        size += sum(stored.size_of(raw) for raw in chunk)
        if len(chunk) < ITEMS_PER_FILE:
            break
    listing = b"".join(orjson.dumps(entry) + b"\n" for entry in files)
    _write_with_checksum(base / "manifest-files.json", listing)
    manifest_key = f"{base_key}/manifest-summary.json"
    summary = {
        "version": MANIFEST_VERSION,
        **summary,
        "manifestFilesS3Key": f"{base_key}/manifest-files.json",
        "billedSizeBytes": size,
        "itemCount": count,
    }
    _write_with_checksum(base / "manifest-summary.json", json.dumps(summary, indent=2).encode())
    return Written(count, size, manifest_key)


def _with_prefix(prefix: str, key: str) -> str:
    return f"{prefix.strip('/')}/{key}" if prefix.strip("/") else key


def _write_with_checksum(path: Path, body: bytes) -> None:
    path.write_bytes(body)
    digest = hashlib.md5(body).hexdigest()  # a checksum file, as AWS writes
    path.with_suffix(".checksum").write_text(digest)


def get(db: Database, arn: str) -> dict[str, Any] | None:
    """The namespace's export `arn` names: its ExportDescription."""
    return jobs.get(db, jobs.EXPORT_KIND, arn)


def every(db: Database) -> list[dict[str, Any]]:
    """The namespace's exports' descriptions, oldest first."""
    return jobs.every(db, jobs.EXPORT_KIND, "ExportArn")


async def save(db: Database, description: dict[str, Any], request: str) -> None:
    await jobs.save(db, jobs.EXPORT_KIND, description["ExportArn"], description, request)

"""Reading an import's files: every object under the bucket's key prefix (core/object_store.py: an
S3-compatible store or a folder), in key order, GZIP or not, as DynamoDB JSON lines (`{"Item": {...}}`,
an export's data files included), Ion lines (`$ion_1_0 {Item:{...}}`, model/ion.py) or CSV (a header
line, or the request's HeaderList; key attributes typed by the table's key schemas, every other column a
string).

A line that is not a valid item for the table (bad JSON, a missing or mistyped key, too large) is counted
as an error and skipped, as DynamoDB's import does; the rest goes on. Files that are not data (an export's
manifests and checksums, `_started`) are left alone. A bucket the store refuses to list (it does not
exist, access is denied) fails the whole import: `Progress.failure` says why.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

import orjson

from ...core import stored
from ...core.object_store import Bucket, StoreError
from ...core.restore import Change
from ...errors import DynamoDBError
from ...model import ion
from ...model.schema import TableSpec
from ...model.values import Item, validate_item
from ._items import put_target

MAX_LINE = 512 * 1024  # an item is at most 400 KB; a longer line is an error, never read whole
# csv's own bound on a field (128 KiB by default) would refuse a string DynamoDB allows; the line bound
# above is the real one. (The csv module keeps this limit per process; nothing else here reads CSV.)
csv.field_size_limit(MAX_LINE)
SKIPPED_NAMES = ("_started",)
SKIPPED_SUFFIXES = (".checksum", ".md5")


@dataclass
class Progress:
    """DescribeImport's counters, moved by the reading thread."""

    processed_items: int = 0
    processed_bytes: int = 0
    imported_items: int = 0
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    finished: bool = False
    failure: StoreError | None = None  # the store refused the listing: the import failed

    def error(self, where: str, reason: str) -> None:
        self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(f"{where}: {reason}")


@dataclass(frozen=True)
class Source:
    bucket: Bucket
    prefix: str  # the key prefix: a folder's, or the start of the keys
    input_format: str  # DYNAMODB_JSON, ION or CSV
    compression: str  # GZIP or NONE
    delimiter: str = ","
    header: tuple[str, ...] | None = None

    def files(self) -> list[tuple[str, int]]:
        """The data files' keys (and sizes) that start with the prefix, in key order."""
        return [
            (listed.key, listed.size)
            for listed in self.bucket.listing(self.prefix)
            if (name := listed.key.rsplit("/", 1)[-1]) not in SKIPPED_NAMES
            and not name.startswith("manifest-")
            and not name.endswith(SKIPPED_SUFFIXES)
        ]


def read(source: Source, table: TableSpec, progress: Progress) -> Iterator[Change]:
    """The items to load into `table`, file by file, line by line."""
    try:
        files = source.files()
    except StoreError as exc:
        progress.failure = exc
        raise
    for key, size in files:
        progress.processed_bytes += size
        name = key.rsplit("/", 1)[-1]
        try:
            with _open(source.bucket, key, source.compression) as stream:
                if source.input_format == "CSV":
                    yield from _csv_items(stream, name, source, table, progress)
                else:
                    yield from _line_items(stream, name, source.input_format, table, progress)
        except (OSError, EOFError, gzip.BadGzipFile, StoreError) as exc:
            progress.error(name, f"cannot be read: {exc}")


@contextlib.contextmanager
def _open(bucket: Bucket, key: str, compression: str) -> Iterator[BinaryIO]:
    with bucket.open(key) as raw:  # closed too when GZIP (a GzipFile leaves its file open)
        if compression == "GZIP":
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield cast(BinaryIO, unzipped)
        else:
            yield raw


def _lines(stream: BinaryIO, name: str, progress: Progress) -> Iterator[tuple[int, bytes]]:
    number = 0
    while line := stream.readline(MAX_LINE):
        number += 1
        if len(line) == MAX_LINE and not line.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass
            progress.processed_items += 1
            progress.error(f"{name}:{number}", "the line is longer than an item can be")
            continue
        if line.strip():
            yield number, line


def _json_item(line: bytes) -> Any:
    doc = orjson.loads(line)
    if not isinstance(doc, dict) or not isinstance(doc.get("Item"), dict):
        raise ValueError('not a {"Item": {...}} object')
    return doc["Item"]


def _ion_item(line: bytes) -> Any:
    return ion.read_item(line.decode("utf-8"))


def _line_items(
    stream: BinaryIO, name: str, input_format: str, table: TableSpec, progress: Progress
) -> Iterator[Change]:
    """DynamoDB JSON or Ion: one item a line."""
    parse = _ion_item if input_format == "ION" else _json_item
    for number, line in _lines(stream, name, progress):
        progress.processed_items += 1
        try:
            change = _change(table, validate_item(parse(line)))
        except (ValueError, DynamoDBError) as exc:
            progress.error(f"{name}:{number}", str(exc)[:200])
            continue
        progress.imported_items += 1
        yield change


def _text_lines(stream: BinaryIO, name: str, progress: Progress) -> Iterator[str]:
    for number, line in _lines(stream, name, progress):
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            progress.processed_items += 1
            progress.error(f"{name}:{number}", "the line is not UTF-8")


def _csv_items(
    stream: BinaryIO, name: str, source: Source, table: TableSpec, progress: Progress
) -> Iterator[Change]:
    types = _key_types(table)
    rows = csv.reader(_text_lines(stream, name, progress), delimiter=source.delimiter)
    header = list(source.header) if source.header else None
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # one bad row (a field over csv's limit, a stray quote): the next goes on
            progress.processed_items += 1
            progress.error(f"{name}:{rows.line_num}", f"is not CSV: {exc}")
            continue
        if header is None:
            header = row
            continue
        progress.processed_items += 1
        try:
            if len(row) != len(header):
                raise ValueError(f"{len(row)} columns where the header has {len(header)}")
            change = _change(table, validate_item(_csv_item(header, row, types)))
        except (ValueError, DynamoDBError) as exc:
            progress.error(f"{name}:{rows.line_num}", str(exc)[:200])
            continue
        progress.imported_items += 1
        yield change


def _key_types(table: TableSpec) -> dict[str, str]:
    return {attr.name: attr.type for attr in table.attribute_definitions}


def _csv_item(header: list[str], row: list[str], types: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, value in zip(header, row, strict=True):
        kind = types.get(name, "S")
        if kind == "B":
            base64.b64decode(value, validate=True)  # a key of type B is given base64-encoded
        if kind != "S" and value == "":
            continue  # an empty key cell: the item misses that key (an error below)
        item[name] = {kind: value}
    return item


def _change(table: TableSpec, item: Item) -> Change:
    key, size = put_target(table, item)
    return key, stored.pack(item, size)

"""Reading an import's files: every file under the bucket folder's key prefix, in key order, GZIP or not,
as DynamoDB JSON lines (`{"Item": {...}}`, an export's data files included), Ion lines
(`$ion_1_0 {Item:{...}}`, model/ion.py) or CSV (a header line, or the
request's HeaderList; key attributes typed by the table's key schemas, every other column a string).

A line that is not a valid item for the table (bad JSON, a missing or mistyped key, too large) is counted
as an error and skipped, as DynamoDB's import does; the rest goes on. Files that are not data (an export's
manifests and checksums, `_started`) are left alone.
"""

from __future__ import annotations

import base64
import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ...core import stored
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

    def error(self, where: str, reason: str) -> None:
        self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(f"{where}: {reason}")


@dataclass(frozen=True)
class Source:
    folder: Path  # the bucket's folder
    prefix: Path  # the key prefix inside it (a folder, or the start of file names)
    input_format: str  # DYNAMODB_JSON or CSV
    compression: str  # GZIP or NONE
    delimiter: str = ","
    header: tuple[str, ...] | None = None

    def files(self) -> list[Path]:
        """The data files whose keys start with the prefix, in key order."""
        if self.prefix.is_file():
            candidates = [self.prefix]
        else:
            parent = self.prefix if self.prefix.is_dir() else self.prefix.parent
            start = str(self.prefix)
            candidates = [p for p in parent.rglob("*") if p.is_file() and str(p).startswith(start)]
        return sorted(
            p
            for p in candidates
            if p.name not in SKIPPED_NAMES
            and not p.name.startswith("manifest-")
            and not p.name.endswith(SKIPPED_SUFFIXES)
        )


def read(source: Source, table: TableSpec, progress: Progress) -> Iterator[Change]:
    """The items to load into `table`, file by file, line by line."""
    for path in source.files():
        progress.processed_bytes += path.stat().st_size
        try:
            with _open(path, source.compression) as stream:
                if source.input_format == "CSV":
                    yield from _csv_items(stream, path, source, table, progress)
                else:
                    yield from _line_items(stream, path, source.input_format, table, progress)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            progress.error(path.name, f"cannot be read: {exc}")


def _open(path: Path, compression: str) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if compression == "GZIP" else path.open("rb")


def _lines(stream: io.BufferedIOBase, path: Path, progress: Progress) -> Iterator[tuple[int, bytes]]:
    number = 0
    while line := stream.readline(MAX_LINE):
        number += 1
        if len(line) == MAX_LINE and not line.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass
            progress.processed_items += 1
            progress.error(f"{path.name}:{number}", "the line is longer than an item can be")
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
    stream: io.BufferedIOBase, path: Path, input_format: str, table: TableSpec, progress: Progress
) -> Iterator[Change]:
    """DynamoDB JSON or Ion: one item a line."""
    parse = _ion_item if input_format == "ION" else _json_item
    for number, line in _lines(stream, path, progress):
        progress.processed_items += 1
        try:
            change = _change(table, validate_item(parse(line)))
        except (ValueError, DynamoDBError) as exc:
            progress.error(f"{path.name}:{number}", str(exc)[:200])
            continue
        progress.imported_items += 1
        yield change


def _text_lines(stream: io.BufferedIOBase, path: Path, progress: Progress) -> Iterator[str]:
    for number, line in _lines(stream, path, progress):
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            progress.processed_items += 1
            progress.error(f"{path.name}:{number}", "the line is not UTF-8")


def _csv_items(
    stream: io.BufferedIOBase, path: Path, source: Source, table: TableSpec, progress: Progress
) -> Iterator[Change]:
    types = _key_types(table)
    rows = csv.reader(_text_lines(stream, path, progress), delimiter=source.delimiter)
    header = list(source.header) if source.header else None
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # one bad row (a field over csv's limit, a stray quote): the next goes on
            progress.processed_items += 1
            progress.error(f"{path.name}:{rows.line_num}", f"is not CSV: {exc}")
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
            progress.error(f"{path.name}:{rows.line_num}", str(exc)[:200])
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

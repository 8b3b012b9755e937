"""What Query and Scan share: the index read, Select rules, ExclusiveStartKey, the page response."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from ...core import stored
from ...core.capacity import consumed_capacity, read_units
from ...core.reads import Fetch, Page, PageSpec, top_level_names
from ...errors import ValidationException
from ...expressions import CompiledExpressions
from ...model.index_keys import empty_index_key_message, index_key, is_empty_key_value
from ...model.keys import decode_key_values, empty_key_message, partition_hash, request_key
from ...model.schema import IndexSpec, KeySchema, TableSpec
from ...model.values import Item, validate_item
from ...storage.base import ItemKey, Row, Storage

INVALID = "One or more parameter values were invalid: "
START_KEY_INVALID = "The provided starting key is invalid"
_SELECT_WORDS = {
    "ALL_ATTRIBUTES": "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES": "ALL_PROJECTED_ATTRIBUTES",
    "COUNT": "only the Count",
}


@dataclass(frozen=True, slots=True)
class Target:
    """The table or index a Query/Scan reads, and how."""

    table: TableSpec
    index: IndexSpec | None
    spec: PageSpec
    fetch_base: bool  # LSI: read unprojected attributes from the table
    consistent: bool

    @property
    def key(self) -> KeySchema:
        return self.index.key if self.index is not None else self.table.key

    @property
    def index_id(self) -> int:
        return self.index.index_id if self.index is not None else 0


def projected_names(table: TableSpec, index: IndexSpec) -> set[str] | None:
    """Attribute names an index holds (None: all of them)."""
    if index.projection.type == "ALL":
        return None
    names = set(table.key.names) | set(index.key.names)
    names.update(index.projection.non_key_attributes)
    return names


def check_select(request: dict[str, Any], compiled: CompiledExpressions) -> str | None:
    """Select's rules that need no table; returns the Select asked for."""
    select: str | None = request.get("Select")
    what = "AttributesToGet" if request.get("AttributesToGet") is not None else "ProjectionExpression"
    if select == "SPECIFIC_ATTRIBUTES" and compiled.projection is None:
        raise ValidationException(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES"
        )
    if select in _SELECT_WORDS and compiled.projection is not None:
        raise ValidationException(f"Cannot specify the {what} when choosing to get {_SELECT_WORDS[select]}")
    if select == "ALL_PROJECTED_ATTRIBUTES" and request.get("IndexName") is None:
        raise ValidationException(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        )
    return select


def resolve_target(table: TableSpec, request: dict[str, Any], compiled: CompiledExpressions) -> Target:
    select = check_select(request, compiled)
    consistent = bool(request.get("ConsistentRead"))
    index: IndexSpec | None = None
    fetch_base = False
    paths = compiled.projection.paths if compiled.projection is not None else None
    name = request.get("IndexName")
    if name is not None:
        index = table.index(name)
        if index is None:
            raise ValidationException(f"The table does not have the specified index: {name}")
        if index.backfilling:
            raise ValidationException(f"Cannot read from backfilling global secondary index: {name}")
        if index.kind == "GSI" and consistent:
            raise ValidationException("Consistent reads are not supported on global secondary indexes")
        projected = projected_names(table, index)
        if projected is not None:
            wanted = top_level_names(paths) if paths is not None else set()
            missing = sorted(wanted - projected)
            if index.kind == "GSI":
                if select == "ALL_ATTRIBUTES":
                    raise ValidationException(
                        INVALID + f"Select type ALL_ATTRIBUTES is not supported for global secondary index "
                        f"{index.name} because its projection type is not ALL"
                    )
                if missing:
                    raise ValidationException(
                        INVALID
                        + f"Global secondary index {index.name} does not project [{', '.join(missing)}]"
                    )
            else:
                filtered = top_level_names(compiled.filter) if compiled.filter is not None else set()
                fetch_base = select == "ALL_ATTRIBUTES" or bool(missing) or bool(filtered - projected)
    limit = request.get("Limit")
    spec = PageSpec(
        limit=int(limit) if limit is not None else None,
        filter=compiled.filter,
        projection=paths,
        count_only=select == "COUNT",
    )
    return Target(table, index, spec, fetch_base, consistent)


def check_filter_keys(request: dict[str, Any], compiled: CompiledExpressions, key: KeySchema) -> None:
    """Query: a filter may not name the key attributes of the table or index queried."""
    if compiled.filter is None:
        return
    names = top_level_names(compiled.filter)
    parameter = "QueryFilter" if request.get("QueryFilter") is not None else "Filter Expression"
    for name in key.names:
        if name in names:
            raise ValidationException(
                f"{parameter} can only contain non-primary key attributes: Primary key attribute: {name}"
            )


def start_position(target: Target, raw: Any) -> tuple[int, bytes, bytes, bytes, bytes] | None:
    """ExclusiveStartKey as a storage position (h, pk, sk, base_pk, base_sk), or DynamoDB's error."""
    if raw is None:
        return None
    table, index = target.table, target.index
    try:
        values = validate_item(raw)
    except ValidationException as error:
        raise ValidationException(f"{START_KEY_INVALID}: {error.message}") from None
    if index is None:
        if len(values) != len(table.key.names):
            raise ValidationException("Exclusive Start Key must have same size as table's key schema")
        try:
            pk, sk = request_key(values, table.key)
        except ValidationException as error:
            raise ValidationException(f"{START_KEY_INVALID}: {error.message}") from None
        return partition_hash(pk), pk, sk, b"", b""
    if set(values) != set(table.key.names) | set(index.key.names):
        raise ValidationException(START_KEY_INVALID)
    for attr in (*table.key.hashes, *table.key.ranges, *index.key.hashes, *index.key.ranges):
        if is_empty_key_value(attr, values[attr.name]):
            message = (
                empty_key_message(attr.name, attr.type)
                if attr.name in table.key.names
                else empty_index_key_message(index.name, attr)
            )
            raise ValidationException(f"{START_KEY_INVALID}: {message}")
    try:
        base_pk, base_sk = request_key({n: values[n] for n in table.key.names}, table.key)
    except ValidationException:
        raise ValidationException(START_KEY_INVALID) from None
    entry = index_key(index.key, values)
    if entry is None:  # a value of the wrong type, empty or too large: no entry can have this key
        raise ValidationException(START_KEY_INVALID)
    ipk, isk = entry
    return partition_hash(ipk), ipk, isk, base_pk, base_sk


def last_evaluated_key(target: Target, row: Row) -> Item:
    table, index = target.table, target.index
    if index is None:
        return _decode_key(table.key, row.pk, row.sk)
    out = _decode_key(table.key, row.base_pk, row.base_sk)
    out.update(_decode_key(index.key, row.pk, row.sk))
    return out


def _decode_key(schema: KeySchema, pk: bytes, sk: bytes) -> Item:
    out = dict(zip(schema.names[: len(schema.hashes)], decode_key_values(schema.hashes, pk), strict=True))
    if schema.ranges:
        out.update(zip(schema.names[len(schema.hashes) :], decode_key_values(schema.ranges, sk), strict=True))
    return out


def base_fetcher(storage: Storage, target: Target) -> Fetch | None:
    """LSI reads of attributes the index does not hold fetch the item from the table."""
    if not target.fetch_base:
        return None
    table_id = target.table.table_id

    def fetch(row: Row) -> Item | None:
        raw = storage.get_item(ItemKey(table_id, partition_hash(row.base_pk), row.base_pk, row.base_sk))
        return None if raw is None else stored.unpack(raw)

    return fetch


# Pages of at most this many rows are read on the event loop's thread: a few hundred rows take well
# under a millisecond, less than handing them to a worker thread. Larger pages (up to 1 MB) go to a thread
# so that one big Scan cannot stall every other request.
INLINE_PAGE_ROWS = 256
T = TypeVar("T")


async def run_page(read: Callable[[], T], limit: int | None) -> T:
    if limit is not None and limit <= INLINE_PAGE_ROWS:
        return read()
    return await asyncio.to_thread(read)


def page_response(request: dict[str, Any], target: Target, page: Page) -> dict[str, Any] | bytes:
    out: dict[str, Any] = {}
    if not target.spec.count_only and page.raw_items is None:
        out["Items"] = page.items
    out["Count"] = page.count
    out["ScannedCount"] = page.scanned
    if page.last is not None:
        out["LastEvaluatedKey"] = last_evaluated_key(target, page.last)
    capacity = page_capacity(request.get("ReturnConsumedCapacity"), target, page)
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    if page.raw_items is not None:
        # splice the stored item JSON in front of the rest of the answer
        return b'{"Items":[' + b",".join(page.raw_items) + b"]," + orjson.dumps(out)[1:]
    return out


def page_capacity(mode: str | None, target: Target, page: Page) -> dict[str, Any] | None:
    """A page's ConsumedCapacity: the bytes read from the table or index (and the base-table fetches)."""
    if mode not in ("TOTAL", "INDEXES"):
        return None
    units = read_units(page.read_bytes, target.consistent)
    if target.index is None:
        return consumed_capacity(mode, target.table, units, kind="read")
    table_units = read_units(page.fetched_bytes, target.consistent) if page.fetched_bytes else 0.0
    return consumed_capacity(
        mode, target.table, table_units, kind="read", index_units={target.index.name: units}
    )

"""Query and Scan pages: key conditions to storage bounds, and one page assembled from a lazy row stream.

Rows come from `Storage.query`/`Storage.scan` (chunked range reads), so a page holds at most `Limit` rows
or about 1 MB of items, never the whole partition or table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from ..errors import ValidationException
from ..expressions import KeyTerm, Path, evaluate, project
from ..expressions.ast import Condition
from ..model.keys import encode_key_value, escape_key_bytes, key_component
from ..model.schema import KeyAttribute
from ..model.size import item_size
from ..model.values import Item
from ..storage.base import Row, SortBound
from . import stored

MAX_PAGE_BYTES = 1024 * 1024
BEGINS_WITH_NUMBER = (
    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
    "operator or function: begins_with, operand type: N"
)
Bounds = tuple[SortBound | None, SortBound | None]


def sort_bounds(terms: Sequence[KeyTerm], attrs: Sequence[KeyAttribute]) -> Bounds:
    """The sort-key range that a query's sort conditions select, on the order-preserving encoding.

    `terms` hold the conditions on the leading RANGE attributes `attrs` (all but the last are equality),
    as `KeyMatch.sort` gives them, with values of the right types.
    """
    if not terms:
        return None, None
    if len(attrs) == 1:
        return _single_bounds(terms[0], attrs[0].type)
    # A multi-attribute sort key: the equalities are a byte prefix, the last term a range within it.
    *equal, term = terms
    prefix = b"".join(
        key_component(encode_key_value(attr.type, t.values[0]))
        for attr, t in zip(attrs[: len(equal)], equal, strict=True)
    )
    key_type = attrs[len(equal)].type
    if term.op == "BEGINS_WITH":
        if key_type == "N":
            raise ValidationException(BEGINS_WITH_NUMBER)
        start = prefix + escape_key_bytes(encode_key_value(key_type, term.values[0]))
        return SortBound(start, True), prefix_end(start)
    values = [prefix + key_component(encode_key_value(key_type, value)) for value in term.values]
    whole = SortBound(prefix, True) if prefix else None, prefix_end(prefix)
    op = term.op
    if op == "EQ":
        return SortBound(values[0], True), prefix_end(values[0])
    if op == "LT":
        return whole[0], SortBound(values[0], False)
    if op == "LE":
        return whole[0], prefix_end(values[0])
    if op == "GT":
        return _after_prefix(values[0]), whole[1]
    if op == "GE":
        return SortBound(values[0], True), whole[1]
    if op == "BETWEEN":
        return SortBound(values[0], True), prefix_end(values[1])
    raise ValidationException("Query key condition not supported")


def _after_prefix(value: bytes) -> SortBound:
    """The lower bound above every key that starts with `value`, a key ending in a terminated component
    (0x00 0x01): the same bytes ending in 0x00 0x02."""
    return SortBound(value[:-1] + b"\x02", True)


def _single_bounds(term: KeyTerm, key_type: str) -> Bounds:
    encoded = [encode_key_value(key_type, value) for value in term.values]
    op = term.op
    if op == "EQ":
        return SortBound(encoded[0], True), SortBound(encoded[0], True)
    if op == "LT":
        return None, SortBound(encoded[0], False)
    if op == "LE":
        return None, SortBound(encoded[0], True)
    if op == "GT":
        return SortBound(encoded[0], False), None
    if op == "GE":
        return SortBound(encoded[0], True), None
    if op == "BETWEEN":
        return SortBound(encoded[0], True), SortBound(encoded[1], True)
    if op == "BEGINS_WITH":
        if key_type == "N":
            raise ValidationException(BEGINS_WITH_NUMBER)
        return SortBound(encoded[0], True), prefix_end(encoded[0])
    raise ValidationException("Query key condition not supported")


def prefix_end(prefix: bytes) -> SortBound | None:
    """The smallest byte string greater than every string starting with `prefix` (exclusive)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return SortBound(trimmed[:-1] + bytes((trimmed[-1] + 1,)), False)


def in_bounds(sk: bytes, lower: SortBound | None, upper: SortBound | None) -> bool:
    if lower is not None and (sk < lower.value or (sk == lower.value and not lower.inclusive)):
        return False
    return not (upper is not None and (sk > upper.value or (sk == upper.value and not upper.inclusive)))


def top_level_names(node: Any) -> set[str]:
    """Attribute names at the top of every document path a (resolved) condition mentions."""
    names: set[str] = set()
    _walk(node, names)
    return names


def _walk(node: Any, names: set[str]) -> None:
    if isinstance(node, Path):
        first = node.elements[0] if node.elements else None
        if isinstance(first, str):
            names.add(first)
        return
    if isinstance(node, tuple):
        for child in node:
            _walk(child, names)
        return
    if is_dataclass(node) and not isinstance(node, type):
        for f in fields(node):
            _walk(getattr(node, f.name), names)


@dataclass(frozen=True, slots=True)
class PageSpec:
    """What to do with each row read: count towards Limit, filter, project."""

    limit: int | None = None
    filter: Condition | None = None
    projection: tuple[Path, ...] | None = None
    count_only: bool = False


@dataclass(slots=True)
class Page:
    items: list[Item] = field(default_factory=list)
    # the items' stored JSON, when nothing had to look inside them (no filter, projection or fetch)
    raw_items: list[bytes] | None = None
    count: int = 0
    scanned: int = 0
    last: Row | None = None  # the row LastEvaluatedKey is made of (None: the read is complete)
    read_bytes: int = 0  # item sizes read from the table or index scanned
    fetched_bytes: int = 0  # item sizes fetched from the base table (LSI reads of unprojected attributes)


Fetch = Callable[[Row], Item | None]


def read_page(rows: Iterable[Row], spec: PageSpec, fetch: Fetch | None = None) -> Page:
    """Consume rows until Limit (counted before the filter) or 1 MB read; the rest stays unread."""
    page = Page()
    if spec.filter is None and spec.projection is None and not spec.count_only and fetch is None:
        return _read_raw_page(rows, spec, page)
    for row in rows:
        item: Item | None = stored.unpack(row.item)
        page.scanned += 1
        page.read_bytes += stored.size_of(row.item)
        if fetch is not None:
            full = fetch(row)
            if full is not None:
                page.fetched_bytes += item_size(full)
            item = full
        if item is not None and (spec.filter is None or evaluate(spec.filter, item)):
            page.count += 1
            if not spec.count_only:
                page.items.append(project(item, spec.projection) if spec.projection is not None else item)
        if (spec.limit is not None and page.scanned >= spec.limit) or page.read_bytes >= MAX_PAGE_BYTES:
            page.last = row
            break
    return page


def _read_raw_page(rows: Iterable[Row], spec: PageSpec, page: Page) -> Page:
    """The common plain page: every row is returned as stored, so none is decoded."""
    raw: list[bytes] = []
    for row in rows:
        raw.append(stored.json_of(row.item))
        page.scanned += 1
        page.read_bytes += stored.size_of(row.item)
        if (spec.limit is not None and page.scanned >= spec.limit) or page.read_bytes >= MAX_PAGE_BYTES:
            page.last = row
            break
    page.count = page.scanned
    page.raw_items = raw
    return page


def segment_range(segment: int, total: int) -> tuple[int, int]:
    """Parallel scan segment `segment` of `total` as an inclusive range of the 32-bit partition hash."""
    space = 1 << 32
    return segment * space // total, (segment + 1) * space // total - 1

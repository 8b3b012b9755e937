"""Storage contract: items, partitions (query), ranges (scan), index entries, counters, meta."""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.storage.base import (
    IndexKey,
    IndexWrite,
    ItemKey,
    ItemWrite,
    MetaWrite,
    Row,
    SortBound,
    Storage,
    WriteSet,
)

from .ops import Put, Raw, key


def put_all(storage: Storage, writes: list[ItemWrite] | None = None, **kw: object) -> None:
    storage.write_sync(Raw(WriteSet(items=writes or [], **kw)))  # type: ignore[arg-type]


def sks(rows: list[Row]) -> list[bytes]:
    return [r.sk for r in rows]


def test_put_get_overwrite_delete(storage: Storage) -> None:
    k = key(b"a", b"1")
    assert storage.get_item(k) is None
    assert storage.write_sync(Put(k, b"v1")) is None
    assert storage.get_item(k) == b"v1"
    assert storage.write_sync(Put(k, b"v2")) == b"v1"
    assert storage.get_item(k) == b"v2"
    assert storage.write_sync(Put(k, None)) == b"v2"
    assert storage.get_item(k) is None
    # deleting a missing item is not an error
    assert storage.write_sync(Put(k, None)) is None


def test_keys_are_distinct_in_every_component(storage: Storage) -> None:
    base = ItemKey(1, 5, b"p", b"s")
    variants = [base, ItemKey(2, 5, b"p", b"s"), ItemKey(1, 6, b"p", b"s"), ItemKey(1, 5, b"q", b"s")]
    variants += [ItemKey(1, 5, b"p", b"t"), ItemKey(1, 5, b"p", b"")]
    for i, k in enumerate(variants):
        storage.write_sync(Put(k, b"%d" % i))
    assert [storage.get_item(k) for k in variants] == [b"%d" % i for i in range(len(variants))]


def test_async_write_returns_result(storage: Storage) -> None:
    import asyncio

    async def main() -> object:
        await storage.write(Put(key(b"x"), b"1"))
        return await storage.write(Put(key(b"x"), b"2"))

    assert asyncio.run(main()) == b"1"
    assert storage.get_item(key(b"x")) == b"2"


def test_reads_awaited_together_each_get_their_own_item(storage: Storage) -> None:
    """GetItem's reads of one pass of the loop may be answered by one statement (PostgreSQL): each gets
    its own item, a missing one None, and a key asked for twice is answered twice."""
    import asyncio

    put_all(storage, [ItemWrite(key(b"a", b"1"), b"A"), ItemWrite(key(b"b"), b"B")])
    wanted = [key(b"a", b"1"), key(b"missing"), key(b"b"), key(b"a", b"1"), key(b"a", b"2")]

    async def main() -> list[bytes | None]:
        return list(await asyncio.gather(*(storage.read_item(k) for k in wanted)))

    assert asyncio.run(main()) == [b"A", None, b"B", b"A", None]


# Byte strings whose memcmp order differs from naive expectations (prefixes, high bytes, NUL).
TRICKY = [
    b"",
    b"\x00",
    b"\x00\x00",
    b"\x01",
    b"a",
    b"a\x00",
    b"a\xff",
    b"ab",
    b"b",
    b"\x7f",
    b"\x80",
    b"\xff",
]


def _fill_partition(storage: Storage, pk: bytes, values: list[bytes], h: int = 3) -> None:
    shuffled = values[:]
    random.Random(7).shuffle(shuffled)
    put_all(storage, [ItemWrite(ItemKey(1, h, pk, sk), b"item-" + sk) for sk in shuffled])


def test_query_orders_by_bytes_memcmp(storage: Storage) -> None:
    _fill_partition(storage, b"p", TRICKY)
    # neighbours that must not leak in: other pk, other h, other table
    put_all(
        storage, [ItemWrite(ItemKey(1, 3, b"p\x00", b"a"), b"x"), ItemWrite(ItemKey(1, 4, b"p", b"a"), b"x")]
    )
    put_all(storage, [ItemWrite(ItemKey(2, 3, b"p", b"a"), b"x"), ItemWrite(ItemKey(1, 3, b"o", b"a"), b"x")])
    rows = list(storage.query(1, 0, 3, b"p"))
    assert sks(rows) == sorted(TRICKY)
    assert rows[1] == Row(3, b"p", b"\x00", b"item-\x00")
    assert sks(list(storage.query(1, 0, 3, b"p", forward=False))) == sorted(TRICKY, reverse=True)


def test_query_bounds(storage: Storage) -> None:
    values = [bytes([i]) for i in range(0, 200, 10)]  # 0, 10, ..., 190
    _fill_partition(storage, b"p", values)

    def q(lo: SortBound | None, hi: SortBound | None, forward: bool = True) -> list[int]:
        return [r.sk[0] for r in storage.query(1, 0, 3, b"p", lower=lo, upper=hi, forward=forward)]

    def inc(v: int) -> SortBound:
        return SortBound(bytes([v]), True)

    def exc(v: int) -> SortBound:
        return SortBound(bytes([v]), False)

    assert q(inc(50), inc(80)) == [50, 60, 70, 80]
    assert q(exc(50), exc(80)) == [60, 70]
    assert q(inc(55), None) == list(range(60, 200, 10))
    assert q(None, exc(30)) == [0, 10, 20]
    assert q(inc(50), inc(80), forward=False) == [80, 70, 60, 50]
    assert q(exc(50), inc(80), forward=False) == [80, 70, 60]
    assert q(inc(80), inc(50)) == []
    assert q(inc(70), inc(70)) == [70]
    assert q(exc(70), inc(70)) == []
    # begins_with style: [prefix, prefix + 0xff...]
    assert q(SortBound(b"\x14", True), SortBound(b"\x14\xff", True)) == [20]


def test_query_start_after_forward_and_backward(storage: Storage) -> None:
    values = [b"%04d" % i for i in range(100)]
    _fill_partition(storage, b"p", values)
    after = list(storage.query(1, 0, 3, b"p", start_after=(b"0041", b"", b"")))
    assert sks(after) == values[42:]
    before = list(storage.query(1, 0, 3, b"p", forward=False, start_after=(b"0041", b"", b"")))
    assert sks(before) == values[:41][::-1]
    # the start point need not exist; bounds still apply
    rows = storage.query(1, 0, 3, b"p", upper=SortBound(b"0050", False), start_after=(b"0045x", b"", b""))
    assert sks(list(rows)) == values[46:50]


def test_query_crosses_chunk_boundaries_and_is_lazy(storage: Storage) -> None:
    values = [b"%06d" % i for i in range(3000)]
    _fill_partition(storage, b"big", values)
    assert sks(list(storage.query(1, 0, 3, b"big"))) == values
    assert sks(list(storage.query(1, 0, 3, b"big", forward=False))) == values[::-1]
    # a half-consumed iterator does not block writes or hide later commits from new reads
    it = storage.query(1, 0, 3, b"big")
    assert next(it).sk == values[0]
    storage.write_sync(Put(ItemKey(1, 3, b"big", b"zzz"), b"late"))
    assert storage.get_item(ItemKey(1, 3, b"big", b"zzz")) == b"late"
    assert sum(1 for _ in it) == 3000  # the rest, including the late row (read in a later chunk)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.sets(st.binary(max_size=3), max_size=60),
    lo=st.none() | st.tuples(st.binary(max_size=3), st.booleans()),
    hi=st.none() | st.tuples(st.binary(max_size=3), st.booleans()),
    forward=st.booleans(),
    after=st.none() | st.binary(max_size=3),
)
def test_query_matches_a_sorted_model(
    storage: Storage,
    data: set[bytes],
    lo: tuple[bytes, bool] | None,
    hi: tuple[bytes, bool] | None,
    forward: bool,
    after: bytes | None,
) -> None:
    pk = b"model-" + os.urandom(8)  # a fresh partition per example (hypothesis seeds `random`)
    if data:
        put_all(storage, [ItemWrite(ItemKey(9, 1, pk, sk), sk) for sk in data])
    expected = sorted(data, reverse=not forward)
    if lo is not None:
        expected = [v for v in expected if v > lo[0] or (lo[1] and v == lo[0])]
    if hi is not None:
        expected = [v for v in expected if v < hi[0] or (hi[1] and v == hi[0])]
    if after is not None:
        expected = [v for v in expected if (v > after if forward else v < after)]
    rows = storage.query(
        9,
        0,
        1,
        pk,
        lower=None if lo is None else SortBound(*lo),
        upper=None if hi is None else SortBound(*hi),
        forward=forward,
        start_after=None if after is None else (after, b"", b""),
    )
    assert [r.item for r in rows] == expected


def _scan_fixture(storage: Storage) -> list[tuple[int, bytes, bytes]]:
    keys = [(h, b"p%d" % p, b"s%d" % s) for h in (0, 1, 7, 0xFFFFFFFF) for p in range(3) for s in range(40)]
    put_all(storage, [ItemWrite(ItemKey(4, h, pk, sk), b"%d" % h) for h, pk, sk in keys])
    put_all(storage, [ItemWrite(ItemKey(5, 1, b"other", b""), b"no")])  # another table
    return sorted(keys)


def test_scan_whole_table_in_key_order(storage: Storage) -> None:
    keys = _scan_fixture(storage)
    assert [(r.h, r.pk, r.sk) for r in storage.scan(4, 0)] == keys
    assert [r.item for r in storage.scan(5, 0)] == [b"no"]
    assert list(storage.scan(6, 0)) == []


def test_scan_hash_ranges_partition_the_table(storage: Storage) -> None:
    keys = _scan_fixture(storage)
    segments = [(0, 0), (1, 6), (7, 0xFFFFFFFE), (0xFFFFFFFF, 0xFFFFFFFF)]
    seen = [(r.h, r.pk, r.sk) for lo, hi in segments for r in storage.scan(4, 0, h_from=lo, h_to=hi)]
    assert seen == keys
    assert [r.h for r in storage.scan(4, 0, h_from=2, h_to=6)] == []


def test_scan_resumes_after_a_row(storage: Storage) -> None:
    keys = _scan_fixture(storage)
    for cut in (0, 1, 57, 200, len(keys) - 1):
        h, pk, sk = keys[cut]
        rest = [(r.h, r.pk, r.sk) for r in storage.scan(4, 0, start_after=(h, pk, sk, b"", b""))]
        assert rest == keys[cut + 1 :]
    # resumption inside an h range stops at the range's end
    h, pk, sk = keys[130]  # h == 1
    rest = [
        (r.h, r.pk, r.sk) for r in storage.scan(4, 0, h_from=1, h_to=6, start_after=(h, pk, sk, b"", b""))
    ]
    assert rest == [k for k in keys[131:] if k[0] <= 6]
    # a resume point below h_from is ignored in favour of h_from
    rest = [(r.h, r.pk, r.sk) for r in storage.scan(4, 0, h_from=7, start_after=(0, b"p0", b"s0", b"", b""))]
    assert rest == [k for k in keys if k[0] >= 7]


def _index_write(pk: bytes, sk: bytes, base_pk: bytes, base_sk: bytes, item: bytes | None) -> IndexWrite:
    return IndexWrite(IndexKey(1, 2, 9, pk, sk, base_pk, base_sk), item)


def test_index_entries_query_with_duplicate_index_keys(storage: Storage) -> None:
    entries = [
        _index_write(b"g", b"b", b"base2", b"", b"i1"),
        _index_write(b"g", b"a", b"base9", b"", b"i2"),
        _index_write(b"g", b"b", b"base1", b"z", b"i3"),
        _index_write(b"g", b"b", b"base1", b"y", b"i4"),
        _index_write(b"g", b"c", b"base0", b"", b"i5"),
        _index_write(b"h", b"a", b"base0", b"", b"other-partition"),
    ]
    storage.write_sync(Raw(WriteSet(indexes=entries)))
    rows = list(storage.query(1, 2, 9, b"g"))
    assert [r.item for r in rows] == [b"i2", b"i4", b"i3", b"i1", b"i5"]
    assert rows[1] == Row(9, b"g", b"b", b"i4", b"base1", b"y")
    assert [r.item for r in storage.query(1, 2, 9, b"g", forward=False)] == [
        b"i5",
        b"i1",
        b"i3",
        b"i4",
        b"i2",
    ]
    # resume inside a run of equal index sort keys
    after = storage.query(1, 2, 9, b"g", start_after=(b"b", b"base1", b"y"))
    assert [r.item for r in after] == [b"i3", b"i1", b"i5"]
    before = storage.query(1, 2, 9, b"g", forward=False, start_after=(b"b", b"base1", b"z"))
    assert [r.item for r in before] == [b"i4", b"i2"]
    bounded = storage.query(1, 2, 9, b"g", lower=SortBound(b"b", True), upper=SortBound(b"b", True))
    assert [r.item for r in bounded] == [b"i4", b"i3", b"i1"]
    # index rows are separate from the table's items
    assert list(storage.query(1, 0, 9, b"g")) == []
    # scan of the index, then delete and overwrite entries
    assert [r.item for r in storage.scan(1, 2)] == [b"i2", b"i4", b"i3", b"i1", b"i5", b"other-partition"]
    storage.write_sync(
        Raw(
            WriteSet(
                indexes=[
                    _index_write(b"g", b"b", b"base1", b"z", None),
                    _index_write(b"g", b"c", b"base0", b"", b"new"),
                ]
            )
        )
    )
    assert [r.item for r in storage.query(1, 2, 9, b"g")] == [b"i2", b"i4", b"i1", b"new"]


def test_index_scan_resumes_on_all_five_key_parts(storage: Storage) -> None:
    entries = [_index_write(b"g", b"s", b"b%03d" % i, b"", b"%d" % i) for i in range(100)]
    storage.write_sync(Raw(WriteSet(indexes=entries)))
    rest = storage.scan(1, 2, start_after=(9, b"g", b"s", b"b049", b""))
    assert [r.item for r in rest] == [b"%d" % i for i in range(50, 100)]


def test_counters_accumulate_and_drop_table(storage: Storage) -> None:
    assert storage.counters(1) == (0, 0)
    storage.write_sync(Put(key(b"a", table_id=1), b"12345"))
    storage.write_sync(Put(key(b"b", table_id=1), b"123"))
    storage.write_sync(Put(key(b"a", table_id=1), b"1"))  # overwrite: 5 -> 1 bytes
    storage.write_sync(Put(key(b"z", table_id=2), b"22"))
    assert storage.counters(1) == (2, 4)
    storage.write_sync(Put(key(b"b", table_id=1), None))
    assert storage.counters(1) == (1, 1)
    ws = WriteSet(indexes=[_index_write(b"g", b"s", b"a", b"", b"e")])
    ws.count(1, 1, 10, index_id=2)
    ws.count(1, 1, 5, index_id=2)
    storage.write_sync(Raw(ws))
    assert storage.counters(1, 2) == (2, 15)
    assert storage.counters(1) == (1, 1)
    storage.write_sync(Raw(WriteSet(drop_tables=[1])))
    assert storage.counters(1) == (0, 0)
    assert storage.counters(1, 2) == (0, 0)
    assert storage.get_item(key(b"a", table_id=1)) is None
    assert list(storage.scan(1, 2)) == []
    assert storage.counters(2) == (1, 2)
    assert storage.get_item(key(b"z", table_id=2)) == b"22"


def test_drop_then_write_in_one_write_set(storage: Storage) -> None:
    storage.write_sync(Put(key(b"a"), b"old"))
    ws = WriteSet(items=[ItemWrite(key(b"b"), b"new")], drop_tables=[1], counters={(1, 0): (1, 3)})
    storage.write_sync(Raw(ws))
    assert storage.get_item(key(b"a")) is None
    assert storage.get_item(key(b"b")) == b"new"
    assert storage.counters(1) == (1, 3)


def test_meta_put_get_list_delete(storage: Storage) -> None:
    assert storage.meta_get("table", "t1") is None
    assert storage.meta_list("table") == []
    metas = [MetaWrite("table", name, b"{%s}" % name.encode()) for name in ("b", "a", "c")]
    storage.write_sync(Raw(WriteSet(meta=[*metas, MetaWrite("stream", "a", b"s")])))
    assert storage.meta_get("table", "a") == b"{a}"
    assert storage.meta_list("table") == [("a", b"{a}"), ("b", b"{b}"), ("c", b"{c}")]
    storage.write_sync(Raw(WriteSet(meta=[MetaWrite("table", "b", None), MetaWrite("table", "a", b"v2")])))
    assert storage.meta_list("table") == [("a", b"v2"), ("c", b"{c}")]
    assert storage.meta_list("stream") == [("a", b"s")]


def test_scan_paired_reads_two_tables_side_by_side(storage: Storage) -> None:
    """scan_paired: the first keys either table has after a point, in key order, each with its row in
    both (a global table's items and their stamp rows: an item without a stamp, a stamp without an
    item); pages of `limit` keys read the whole union once."""
    items = {(h, b"p%d" % p, b"") for h in (0, 5, 0xFFFFFFFF) for p in range(6)}
    others = {(h, b"p%d" % p, b"") for h in (0, 5, 9) for p in range(3, 9)}
    put_all(storage, [ItemWrite(ItemKey(11, *k), b"item" + k[1]) for k in items])
    put_all(storage, [ItemWrite(ItemKey(-12, *k), b"other" + k[1]) for k in others])
    put_all(storage, [ItemWrite(ItemKey(13, 5, b"p4", b""), b"a third table")])
    expected = [
        (*k, b"item" + k[1] if k in items else None, b"other" + k[1] if k in others else None)
        for k in sorted(items | others)
    ]
    for limit in (1, 4, 7, 100):
        seen: list[tuple[int, bytes, bytes, bytes | None, bytes | None]] = []
        after: tuple[int, bytes, bytes] | None = None
        while page := storage.scan_paired(11, -12, after, limit):
            assert len(page) <= limit
            seen.extend((r.h, r.pk, r.sk, r.item, r.other) for r in page)
            after = (page[-1].h, page[-1].pk, page[-1].sk)
        assert seen == expected
    assert storage.scan_paired(14, -15, None, 10) == []

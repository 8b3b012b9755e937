"""Storage contract: the write path (groups, failures, atomicity), stream records and sequence numbers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from headwater.errors import ConditionalCheckFailedException, DynamoDBError, InternalServerError
from headwater.storage.base import (
    IndexKey,
    IndexWrite,
    ItemWrite,
    Numbered,
    Storage,
    StreamWrite,
    WriteSet,
)

from .conftest import Backend
from .ops import Crash, Increment, Put, Raw, key


def record(payload: bytes, *, stream_id: int = 1, slot: int = 0, created_at: float = 1000.0) -> StreamWrite:
    return StreamWrite(stream_id, slot, created_at, payload)


async def gather_outcomes(storage: Storage, ops: list[Any]) -> list[Any]:
    return await asyncio.gather(*(storage.write(op) for op in ops), return_exceptions=True)


def test_condition_failure_reaches_the_caller_and_writes_nothing(storage: Storage) -> None:
    k = key(b"c")
    storage.write_sync(Put(k, b"v1"))
    with pytest.raises(ConditionalCheckFailedException) as info:
        storage.write_sync(Put(k, b"v2", check=True, expect_old=None, stream=(record(b"r"),)))
    assert info.value.message == "The conditional request failed"
    assert storage.get_item(k) == b"v1"
    assert storage.stream_records(1, 0, 0, None, 10) == []
    assert storage.last_sequence() == 0
    assert storage.write_sync(Put(k, b"v2", check=True, expect_old=b"v1")) == b"v1"


def test_failing_ops_do_not_affect_the_others_of_their_group(storage: Storage) -> None:
    ops: list[Any] = []
    for i in range(60):
        k = key(b"k%d" % i)
        if i % 3 == 1:
            ops.append(Put(k, b"no", check=True, expect_old=b"missing", stream=(record(b"no"),)))
        elif i % 3 == 2:
            ops.append(Crash(k))
        else:
            ops.append(Put(k, b"v%d" % i, stream=(record(b"v%d" % i),)))
    outcomes = asyncio.run(gather_outcomes(storage, ops))
    for i, outcome in enumerate(outcomes):
        k = key(b"k%d" % i)
        if i % 3 == 1:
            assert isinstance(outcome, ConditionalCheckFailedException)
        elif i % 3 == 2:
            assert isinstance(outcome, InternalServerError)
        else:
            assert outcome is None
        assert storage.get_item(k) == (b"v%d" % i if i % 3 == 0 else None)
    payloads = [r.payload for r in storage.stream_records(1, 0, 0, None, 1000)]
    assert payloads == [b"v%d" % i for i in range(0, 60, 3)]
    assert storage.last_sequence() == 20


def test_unstorable_write_set_fails_alone_and_leaves_nothing(storage: Storage) -> None:
    """A WriteSet the backend cannot store (here: a payload that is not bytes) is all-or-nothing."""
    bad = WriteSet(
        items=[ItemWrite(key(b"bad"), b"item")],
        indexes=[IndexWrite(IndexKey(1, 2, 0, b"g", b"s", b"bad", b""), b"entry")],
        stream=[record(b"ok"), record(object())],  # type: ignore[arg-type]
    )

    async def main() -> list[Any]:
        return await gather_outcomes(storage, [Put(key(b"a"), b"1"), Raw(bad), Put(key(b"b"), b"2")])

    first, failed, last = asyncio.run(main())
    assert first is None and last is None
    assert isinstance(failed, InternalServerError)
    assert storage.get_item(key(b"bad")) is None
    assert list(storage.scan(1, 2)) == []
    assert storage.stream_records(1, 0, 0, None, 10) == []
    assert storage.get_item(key(b"a")) == b"1" and storage.get_item(key(b"b")) == b"2"


def test_a_bad_record_fails_only_its_operation_among_others_with_records(storage: Storage) -> None:
    """A backend may insert a group's records in one statement: the one it refuses still fails alone,
    and the others' records are numbered and stored in order."""
    bad = WriteSet(items=[ItemWrite(key(b"bad"), b"item")], stream=[record(object())])  # type: ignore[arg-type]
    ops: list[Any] = [Put(key(b"p%d" % i), b"v", stream=(record(b"r%d" % i),)) for i in range(6)]
    ops.insert(3, Raw(bad))

    async def main() -> list[Any]:
        return await gather_outcomes(storage, ops)

    outcomes = asyncio.run(main())
    assert isinstance(outcomes[3], InternalServerError)
    assert all(outcome is None for i, outcome in enumerate(outcomes) if i != 3)
    assert storage.get_item(key(b"bad")) is None
    payloads = [r.payload for r in storage.stream_records(1, 0, 0, None, 10)]
    assert payloads == [b"r%d" % i for i in range(6)]
    seqs = [r.seq for r in storage.stream_records(1, 0, 0, None, 10)]
    # in order; PostgreSQL's sequence may leave a gap where the refused group drew numbers
    assert seqs == sorted(set(seqs)) and len(seqs) == 6


def test_a_stream_dropped_takes_the_records_its_group_wrote_before(storage: Storage) -> None:
    """Records written earlier in the same group as the WriteSet that drops their stream go with it."""
    ops: list[Any] = [
        Put(key(b"a"), b"v", stream=(record(b"gone", stream_id=5), record(b"kept", stream_id=6))),
        Raw(WriteSet(drop_streams=[5])),
        Put(key(b"b"), b"v", stream=(record(b"after", stream_id=5),)),
    ]
    assert asyncio.run(gather_outcomes(storage, ops)) == [None, None, None]
    assert [r.payload for r in storage.stream_records(5, 0, 0, None, 10)] == [b"after"]
    assert [r.payload for r in storage.stream_records(6, 0, 0, None, 10)] == [b"kept"]


@pytest.mark.parametrize("table_id", [0, -3], ids=["stream-document", "collection-size"])
def test_a_group_run_again_reads_rows_outside_tables_as_committed(storage: Storage, table_id: int) -> None:
    """A backend may keep rows outside tables between groups: a group that is rolled back and run again
    (here: without an operation it could not store) must read them as committed, not as it left them."""
    k = key(b"counter", table_id=table_id)
    storage.write_sync(Increment(k))
    bad = WriteSet(items=[ItemWrite(key(b"bad"), b"item")], stream=[record(object())])  # type: ignore[arg-type]

    async def main() -> list[Any]:
        return await gather_outcomes(storage, [Increment(k), Raw(bad), Increment(k)])

    first, failed, last = asyncio.run(main())
    assert (first, last) == (2, 3)
    assert isinstance(failed, InternalServerError)
    assert storage.get_item(k) == b"3"
    assert storage.write_sync(Increment(k)) == 4


def test_write_set_result_and_non_dynamodb_errors(storage: Storage) -> None:
    assert storage.write_sync(Raw(WriteSet(result={"answer": 42}))) == {"answer": 42}
    with pytest.raises(InternalServerError):
        storage.write_sync(Crash(key(b"x")))
    with pytest.raises(InternalServerError):
        asyncio.run(storage.write(Crash(key(b"x"))))
    # the writer survives and keeps working
    assert storage.write_sync(Put(key(b"x"), b"ok")) is None


@pytest.mark.parametrize("table_id", [1, 0, -3], ids=["item", "stream-document", "collection-size"])
def test_ops_of_one_group_see_the_earlier_ones(storage: Storage, table_id: int) -> None:
    """Also for rows outside tables, which a backend may read once per group (GroupReads)."""
    k = key(b"counter", table_id=table_id)
    results = asyncio.run(gather_outcomes(storage, [Increment(k, stream_id=3) for _ in range(300)]))
    assert sorted(results) == list(range(1, 301))
    assert storage.get_item(k) == b"300"
    records = storage.stream_records(3, 0, 0, None, 1000)
    # commit order = sequence order = the order each increment saw
    assert [int(r.payload) for r in records] == list(range(1, 301))


def test_a_group_run_again_reads_again(storage: Storage) -> None:
    """A WriteSet that fails half written rolls its group back; the group runs again without it, and what
    the first attempt read or wrote of a shared row is not what the second one sees."""
    k = key(b"doc", table_id=0)
    bad = WriteSet(items=[ItemWrite(key(b"bad"), b"item")], stream=[record(object())])  # type: ignore[arg-type]
    ops: list[Any] = [Increment(k) for _ in range(10)] + [Raw(bad)] + [Increment(k) for _ in range(10)]
    outcomes = asyncio.run(gather_outcomes(storage, ops))
    assert isinstance(outcomes[10], InternalServerError)
    assert sorted(outcomes[:10] + outcomes[11:]) == list(range(1, 21))
    assert storage.get_item(k) == b"20"


def test_concurrent_writers_from_threads_and_loops(storage: Storage) -> None:
    errors: list[BaseException] = []

    def sync_worker(n: int) -> None:
        try:
            for i in range(50):
                storage.write_sync(Put(key(b"t%d-%d" % (n, i)), b"s"))
        except BaseException as exc:
            errors.append(exc)

    def loop_worker(n: int) -> None:
        async def main() -> None:
            await asyncio.gather(*(storage.write(Put(key(b"l%d-%d" % (n, i)), b"a")) for i in range(50)))

        try:
            asyncio.run(main())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sync_worker, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=loop_worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert storage.counters(1) == (400, 400)
    assert sum(1 for _ in storage.scan(1, 0)) == 400


def test_atomic_visibility_item_index_and_record(storage: Storage) -> None:
    """A reader never sees the item of a write without its index entry and stream record."""
    n = 300
    stop = threading.Event()
    violations: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            for i in range(0, n, 7):
                if storage.get_item(key(b"atom%d" % i)) is None:
                    continue
                entries = list(storage.query(1, 5, 0, b"atom%d" % i))
                recs = storage.stream_records(7, i % 4, 0, None, 1000)
                if len(entries) != 1 or not any(r.payload == b"atom%d" % i for r in recs):
                    violations.append(f"atom{i}")

    def op(i: int) -> Put:
        return Put(
            key(b"atom%d" % i),
            b"v",
            indexes=(IndexWrite(IndexKey(1, 5, 0, b"atom%d" % i, b"", b"atom%d" % i, b""), b"e"),),
            stream=(record(b"atom%d" % i, stream_id=7, slot=i % 4),),
        )

    t = threading.Thread(target=reader)
    t.start()
    try:
        asyncio.run(gather_outcomes(storage, [op(i) for i in range(n)]))
    finally:
        stop.set()
        t.join()
    assert violations == []
    assert sum(len(storage.stream_records(7, s, 0, None, 1000)) for s in range(4)) == n


def test_reads_after_an_acknowledged_write_see_it(storage: Storage) -> None:
    """No stale read snapshot: every read started after the write returned sees it, on any thread."""
    seen: list[bytes | None] = []

    def read() -> None:
        seen.append(storage.get_item(key(b"fresh")))

    read()
    for value in (b"1", b"2", b"3"):
        storage.write_sync(Put(key(b"fresh"), value))
        assert storage.get_item(key(b"fresh")) == value
        t = threading.Thread(target=read)
        t.start()
        t.join()
    assert seen == [None, b"1", b"2", b"3"]


def test_stream_records_order_slots_and_ranges(storage: Storage) -> None:
    ws1 = WriteSet(stream=[record(b"a", slot=0), record(b"b", slot=1), record(b"c", slot=0)])
    ws2 = WriteSet(stream=[record(b"d", slot=0), record(b"x", stream_id=2, slot=0)])
    storage.write_sync(Raw(ws1))
    storage.write_sync(Raw(ws2))
    slot0 = storage.stream_records(1, 0, 0, None, 100)
    assert [r.payload for r in slot0] == [b"a", b"c", b"d"]
    assert [r.seq for r in slot0] == [1, 3, 4]
    assert slot0[0].created_at == 1000.0
    assert [r.payload for r in storage.stream_records(1, 1, 0, None, 100)] == [b"b"]
    assert [r.payload for r in storage.stream_records(2, 0, 0, None, 100)] == [b"x"]
    assert storage.last_sequence() == 5
    # seq_from inclusive, seq_to inclusive, limit
    assert [r.seq for r in storage.stream_records(1, 0, 3, None, 100)] == [3, 4]
    assert [r.seq for r in storage.stream_records(1, 0, 2, 3, 100)] == [3]
    assert [r.seq for r in storage.stream_records(1, 0, 0, None, 2)] == [1, 3]
    assert storage.stream_records(1, 0, 5, None, 100) == []
    assert storage.stream_records(1, 0, 0, None, 0) == []


def test_sequence_numbers_strictly_increase_across_groups(storage: Storage) -> None:
    def op(i: int) -> Raw:
        return Raw(WriteSet(stream=[record(b"%d" % i, slot=i % 3), record(b"%d" % i, slot=3)]))

    asyncio.run(gather_outcomes(storage, [op(i) for i in range(200)]))
    asyncio.run(gather_outcomes(storage, [op(i) for i in range(1000, 1050)]))
    everything = [r for s in range(4) for r in storage.stream_records(1, s, 0, None, 10_000)]
    seqs = sorted(r.seq for r in everything)
    assert seqs == list(range(1, 501))
    # both records of one WriteSet are adjacent: one WriteSet is never interleaved with another
    slot3 = storage.stream_records(1, 3, 0, None, 10_000)
    by_payload = {r.payload: r.seq for r in storage.stream_records(1, 0, 0, None, 10_000)}
    checked = 0
    for r in slot3:
        if r.payload in by_payload:
            assert r.seq == by_payload[r.payload] + 1
            checked += 1
    assert checked == 83  # i % 3 == 0 for i < 200 (67) and for 1000 <= i < 1050 (16)
    assert storage.last_sequence() == 500


def test_trim_stream_records(storage: Storage) -> None:
    ws = WriteSet(stream=[record(b"%d" % t, created_at=float(t), slot=t % 2) for t in range(10)])
    storage.write_sync(Raw(ws))
    assert storage.trim_stream_records(1, 4.0) == 4
    assert [r.created_at for r in storage.stream_records(1, 0, 0, None, 100)] == [4.0, 6.0, 8.0]
    assert [r.seq for r in storage.stream_records(1, 1, 0, None, 100)] == [6, 8, 10]
    assert storage.trim_stream_records(1, 4.0) == 0
    # trimming never rewinds the sequence
    storage.write_sync(Raw(WriteSet(stream=[record(b"new")])))
    assert storage.last_sequence() == 11


def test_sequence_and_data_survive_reopen(backend: Backend) -> None:
    if not backend.persistent:
        pytest.skip("in-memory backend")
    store = backend.make()
    store.open()
    store.write_sync(Raw(WriteSet(stream=[record(b"a"), record(b"b")])))
    store.write_sync(Put(key(b"kept"), b"v", meta=()))
    store.trim_stream_records(1, 2000.0)  # even with every record trimmed, numbering continues
    store.close()
    store = backend.make()
    store.open()
    try:
        assert store.last_sequence() == 2
        assert store.get_item(key(b"kept")) == b"v"
        assert store.counters(1) == (1, 1)
        store.write_sync(Raw(WriteSet(stream=[record(b"c")])))
        assert [r.seq for r in store.stream_records(1, 0, 0, None, 10)] == [3]
    finally:
        store.close()


def test_close_commits_what_was_queued_and_then_refuses(backend: Backend) -> None:
    store = backend.make()
    store.open()

    async def main() -> list[Any]:
        tasks = [asyncio.ensure_future(store.write(Put(key(b"q%d" % i), b"v"))) for i in range(100)]
        await asyncio.sleep(0)  # every task has queued its write
        store.close()
        return await asyncio.gather(*tasks, return_exceptions=True)

    assert asyncio.run(main()) == [None] * 100
    with pytest.raises(DynamoDBError):
        store.write_sync(Put(key(b"late"), b"v"))
    store.close()  # idempotent
    if backend.persistent:
        store = backend.make()
        store.open()
        try:
            assert store.counters(1) == (100, 100)
        finally:
            store.close()


def test_a_cancelled_caller_does_not_break_the_writer(storage: Storage) -> None:
    async def main() -> None:
        task = asyncio.ensure_future(storage.write(Put(key(b"cancelled"), b"v")))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert await storage.write(Put(key(b"after"), b"v")) is None

    asyncio.run(main())
    assert storage.get_item(key(b"after")) == b"v"


def test_a_numbered_result_is_answered_with_its_sequence_numbers(storage: Storage) -> None:
    """Writes in one group, some asking for their numbers: each learns the numbers its records hold, in
    WriteSet order (increasing)."""
    ops: list[Any] = []
    for i in range(12):
        stream = tuple(record(b"%d.%d" % (i, j), slot=j % 2) for j in range(i % 3 + 1))
        result = Numbered(i) if i % 2 == 0 else i
        ops.append(Raw(WriteSet(stream=list(stream), result=result)))
    outcomes = asyncio.run(gather_outcomes(storage, ops))
    numbers = {r.payload: r.seq for slot in (0, 1) for r in storage.stream_records(1, slot, 0, None, 1000)}
    for i, outcome in enumerate(outcomes):
        if i % 2:
            assert outcome == i
            continue
        value, given = outcome
        assert value == i
        assert [numbers[b"%d.%d" % (i, j)] for j in range(i % 3 + 1)] == list(given)
        assert list(given) == sorted(set(given))

"""The benchmark's "did the writes change anything" arithmetic (bench/verify.py)."""

from __future__ import annotations

from bench.verify import Expected, TableState, compare


def _streamed(items: int, updates: int, inserts: int, modifies: int, keys: int) -> TableState:
    return TableState(items, updates, {"INSERT": inserts, "MODIFY": modifies, "REMOVE": 0}, keys)


def test_new_items_counted_by_scan_and_stream() -> None:
    changed, checks = compare(
        _streamed(100, 0, 100, 0, 100), _streamed(150, 0, 150, 0, 150), Expected(50, creates=True)
    )
    assert changed == 50
    assert [c.passed for c in checks] == [True, True]


def test_rewritten_identical_items_fail_both_witnesses() -> None:
    # 50 successful puts, of which 30 rewrote existing items unchanged: no new item, no stream record
    changed, checks = compare(
        _streamed(100, 0, 100, 0, 100), _streamed(120, 0, 120, 0, 120), Expected(50, creates=True)
    )
    assert changed == 20
    assert [c.passed for c in checks] == [False, False]


def test_updates_counted_by_counter_sum_and_modify_records() -> None:
    before, after = _streamed(100, 7, 100, 7, 100), _streamed(100, 47, 100, 47, 100)
    changed, checks = compare(before, after, Expected(40, creates=False))
    assert changed == 40
    assert all(c.passed for c in checks)


def test_an_update_that_created_an_item_fails() -> None:
    before, after = _streamed(100, 0, 100, 0, 100), _streamed(101, 40, 101, 39, 101)
    _, checks = compare(before, after, Expected(40, creates=False))
    assert not any(c.passed for c in checks)


def test_without_a_stream_the_scan_decides() -> None:
    changed, checks = compare(TableState(), TableState(10, 0), Expected(10, creates=True))
    assert changed == 10
    assert len(checks) == 1 and checks[0].passed
    _, checks = compare(TableState(), TableState(9, 0), Expected(10, creates=True))
    assert not checks[0].passed


def test_unknown_outcomes_widen_the_bound_upwards_only() -> None:
    want = Expected(10, creates=True, unknown=2)
    for items, ok in ((9, False), (10, True), (12, True), (13, False)):
        _, checks = compare(TableState(), TableState(items, 0), want)
        assert checks[0].passed is ok, items

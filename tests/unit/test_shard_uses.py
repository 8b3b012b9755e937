"""Which records fit a shard's write window (the backends: tests/storage/test_contract_shard_uses.py)."""

from __future__ import annotations

from headwater.storage.shard_uses import fitting


def test_records_fit_by_count_and_bytes() -> None:
    assert fitting([5, 5, 5], 0, 0, 2, 100) == [True, True, False]
    assert fitting([200, 10], 0, 0, 10, 100) == [True, False]  # one record always fits, alone
    assert fitting([60, 50, 30], 0, 0, 10, 100) == [True, False, True]
    assert fitting([1], 1, 100, 10, 100) == [False]

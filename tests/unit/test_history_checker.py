"""The multi-node history checker (tests/e2e/history.py) finds what it is there to find."""

from __future__ import annotations

from tests.e2e.history import Seen, Write, problems

A1 = Write("a", "w1", 0.0, 1.0, True)
A2 = Write("a", "w2", 2.0, 3.0, True)
B1 = Write("b", "w3", 0.5, 2.5, True)
LOST = Write("b", "w4", 2.6, 9.0, False)


def seen(write: Write, seq: int, shard: str = "s") -> Seen:
    return Seen(shard, seq, write.key, write.wid)


def test_a_good_history_has_no_problems() -> None:
    stream = [seen(A1, 1), seen(B1, 2), seen(A2, 3)]
    assert problems([A1, A2, B1, LOST], stream, {"s": [1, 2]}) == []


def test_a_missing_or_doubled_acknowledged_write_is_found() -> None:
    assert problems([A1, A2], [seen(A1, 1)], {}) == ["w2: acknowledged, 0 times in the stream"]
    found = problems([A1], [seen(A1, 1), seen(A1, 2)], {})
    assert found == ["w1: acknowledged, 2 times in the stream"]
    assert problems([LOST], [seen(LOST, 1), seen(LOST, 2)], {}) == [
        "w4: outcome unknown, 2 times in the stream"
    ]


def test_real_time_order_per_key() -> None:
    found = problems([A1, A2], [seen(A2, 1), seen(A1, 2)], {})
    assert found == ["a: w1, acknowledged before w2 began, follows it"]
    overlapping = Write("a", "w5", 0.5, 2.5, True)  # concurrent with both: either order is fine
    assert problems([A1, overlapping], [seen(overlapping, 1), seen(A1, 2)], {}) == []


def test_sequence_numbers_and_what_a_live_reader_saw() -> None:
    assert problems([A1, B1], [seen(A1, 2), seen(B1, 1)], {}) == [
        "s: sequence numbers not strictly increasing"
    ]
    # the live reader saw 1 then 3: the stream has 2 between them, committed after it passed 3
    found = problems([A1, B1, A2], [seen(A1, 1), seen(B1, 2), seen(A2, 3)], {"s": [1, 3]})
    assert found == ["s: the live reader's records are not a prefix of the shard's"]

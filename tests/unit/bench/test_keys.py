"""The benchmark's key spaces and unique update values (bench/keys.py): nothing a run writes repeats."""

from __future__ import annotations

import random
from itertools import product

import pytest
from bench.keys import CODES, KeySpace, Written
from bench.tables import item


def test_phase_codes_are_distinct_letters() -> None:
    assert len(set(CODES.values())) == len(CODES)
    assert all(code.isascii() and code.isalpha() for code in CODES.values())


def test_keys_never_repeat_across_phases_rounds_clients_and_seqs() -> None:
    seen: set[tuple[str, int]] = set()
    count = 0
    for phase, round_, client, seq in product(CODES, range(12), (0, 1, 12, 123), range(25)):
        seen.add(KeySpace.of(phase, round_).key(client, seq))
        count += 1
    assert len(seen) == count


def test_round_digits_cannot_run_into_the_client_number() -> None:
    # "p1" round 12 client 3 and round 1 client 23 must not meet in "p112.3" vs "p11.23"
    assert KeySpace("p", 12).partition(3, 0) != KeySpace("p", 1).partition(23, 0)
    assert KeySpace("p", 1).partition(12, 3) != KeySpace("p", 11).partition(2, 3)


def test_fanout_groups_consecutive_items_in_one_partition() -> None:
    space = KeySpace.of("put", 1)
    assert [space.key(0, seq) for seq in range(3)] == [("p1.0.0", 0), ("p1.0.0", 1), ("p1.0.0", 2)]
    assert space.key(0, 10) == ("p1.0.1", 0)
    assert space.key(4, 250, fanout=100) == ("p1.4.2", 50)


def test_update_stamps_are_unique_per_request_and_differ_from_every_put_value() -> None:
    stamps = [KeySpace.of("update", r).stamp(c, s) for r, c, s in product(range(1, 4), range(16), range(500))]
    assert len(set(stamps)) == len(stamps)
    pk, sk = KeySpace.of("put", 1).key(0, 0)
    put_name = item(pk, sk)["name"]["S"]
    assert put_name not in stamps


@pytest.mark.parametrize(("code", "round_"), [("", 1), ("p1", 1), ("p.", 1), ("é", 1), ("p", -1)])
def test_bad_key_spaces_are_refused(code: str, round_: int) -> None:
    with pytest.raises(ValueError):
        KeySpace(code, round_)


def test_written_samples_only_keys_that_were_written() -> None:
    space = KeySpace.of("put", 2)
    written = Written(space, {0: 5, 3: 2}, {0: frozenset({1, 4})})
    assert written.size == 5
    allowed = {space.key(0, s) for s in (0, 2, 3)} | {space.key(3, s) for s in (0, 1)}
    rnd = random.Random(7)
    assert {written.sample(rnd) for _ in range(500)} == allowed


def test_written_from_generator_reports() -> None:
    reports = [{"client": 0, "next": 3, "failed": [2]}, {"client": 1, "next": 0, "failed": []}]
    written = Written.from_reports(KeySpace.of("put", 1), reports)
    assert written.next == {0: 3}
    assert written.size == 2


def test_nothing_written_cannot_be_sampled() -> None:
    with pytest.raises(ValueError):
        Written(KeySpace.of("put", 1), {}).sample(random.Random(0))

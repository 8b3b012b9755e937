"""The thread driver's lanes (storage/group_commit.py): the lane holding the turn gathers and starts a
group; once it passes the turn, the next lane gathers the next group while the first is still running.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from headwater.storage.group_commit import GroupCommitWriter, Job, Outcome

DEADLINE = 30.0


class _Writer(GroupCommitWriter):
    """Each group records its operations, passes the turn, then waits until the test releases it."""

    def __init__(self, lanes: int) -> None:
        self.started: list[list[object]] = []
        self.release = threading.Event()
        self.first_started = threading.Event()
        self.second_started = threading.Event()
        super().__init__(group_cap=64, name="test-lanes", lanes=lanes)

    def _load_catalog(self) -> Mapping[str, bytes]:
        return {}

    def _commit_group(self, batch: list[Job]) -> list[Outcome]:
        self.started.append([job.op for job in batch])
        (self.first_started if len(self.started) == 1 else self.second_started).set()
        self._pass_turn()
        assert self.release.wait(DEADLINE)
        self._count_commit(len(batch))
        return [(job.op, None) for job in batch]

    def _after_failed_group(self) -> None:
        return

    def _after_close(self) -> None:
        return


def test_the_next_group_starts_while_the_first_is_still_running() -> None:
    writer = _Writer(lanes=2)
    first = writer.submit_sync("a")
    assert writer.first_started.wait(DEADLINE)
    second = writer.submit_sync("b")
    assert writer.second_started.wait(DEADLINE)  # while the first group still runs
    assert not first.done() and writer.started == [["a"], ["b"]]
    writer.release.set()
    assert (first.result(DEADLINE), second.result(DEADLINE)) == ("a", "b")
    writer.close()
    assert writer._commits == 2


def test_one_lane_runs_one_group_at_a_time() -> None:
    writer = _Writer(lanes=1)
    first = writer.submit_sync("a")
    assert writer.first_started.wait(DEADLINE)
    writer.submit_sync("b")
    assert writer.load.queued == 1  # nobody else takes it while the only lane runs the first group
    assert writer.started == [["a"]]
    writer.release.set()
    assert first.result(DEADLINE) == "a"
    writer.close()
    assert writer.started == [["a"], ["b"]]


def test_close_stops_every_lane_and_commits_what_was_queued() -> None:
    writer = _Writer(lanes=3)
    writer.release.set()
    futures = [writer.submit_sync(n) for n in range(20)]
    writer.close()
    assert [f.result(DEADLINE) for f in futures] == list(range(20))
    assert all(not thread.is_alive() for thread in writer._threads)

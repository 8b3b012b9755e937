"""Progress of long background work (a new GSI's backfill, a table export), kept as plain numbers the job
bumps as it goes and /metrics reads at scrape time (`headwater_index_backfill_items_done`, ...).

A job's entry stays after it ends (done as it finished), so a scrape just after the end still sees it;
only the last FINISHED_KEPT finished entries of each kind are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

FINISHED_KEPT: Final = 64

BackfillKey = tuple[str, str, str, str]  # account, region, table, index

K = TypeVar("K")
T = TypeVar("T")


@dataclass(slots=True)
class Count:
    """Items a job has gone through of those it expects (`total`: None when not known in advance)."""

    done: int = 0
    total: int | None = None


class Jobs(Generic[K]):
    """The running and the recently finished jobs of one kind, by key."""

    def __init__(self) -> None:
        self.counts: dict[K, Count] = {}
        self._finished: OrderedDict[K, None] = OrderedDict()

    def start(self, key: K, total: int | None) -> Count:
        """A new count for `key` (a job started again under the same key starts from zero)."""
        self._finished.pop(key, None)
        count = self.counts[key] = Count(0, total)
        return count

    def finish(self, key: K) -> None:
        self._finished[key] = None
        while len(self._finished) > FINISHED_KEPT:
            old, _ = self._finished.popitem(last=False)
            self.counts.pop(old, None)


class Progress:
    """Every namespace's long jobs (one per server, shared by the namespaces' Database views)."""

    def __init__(self) -> None:
        self.backfills: Jobs[BackfillKey] = Jobs()
        self.exports: Jobs[str] = Jobs()  # by ExportArn


def counted(things: Iterable[T], count: Count) -> Iterator[T]:
    """`things`, counting each one into `count` as it is taken (one job's thread bumps it)."""
    for thing in things:
        count.done += 1
        yield thing

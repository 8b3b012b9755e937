"""A cluster's two caches, as DAX documents them: the item cache (GetItem and BatchGetItem results by
primary key, written through by the writes that go through the cluster, an absent item remembered too)
and the query cache (Query and Scan answers by their whole request, never touched by writes). Each entry
lives for its cache's TTL from the parameter group; each cache holds at most half the cluster's memory,
the least recently used entries going first. Time is the server's clock."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

from ..clock import Clock

MISSING: Final = object()  # no entry (an entry may hold None: an item known to be absent)
ENTRY_OVERHEAD: Final = 100  # bytes an entry costs beyond its key and value


@dataclass
class CacheCounts:
    hits: int = 0
    misses: int = 0
    evictions: int = 0


class LruCache:
    """Entries (key -> (value, size, expiry)) within `capacity` bytes. `ttl` 0: entries never expire."""

    def __init__(self, clock: Clock, capacity: int, ttl: float) -> None:
        self.clock = clock
        self.capacity = capacity
        self.ttl = ttl
        self.counts = CacheCounts()
        self.size = 0
        self._entries: OrderedDict[Any, tuple[Any, int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Any) -> Any:
        """The value, or MISSING (counted as a hit or a miss)."""
        found = self._entries.get(key)
        if found is not None and (found[2] == 0 or found[2] > self.clock.now()):
            self._entries.move_to_end(key)
            self.counts.hits += 1
            return found[0]
        if found is not None:
            self._drop(key)
        self.counts.misses += 1
        return MISSING

    def put(self, key: Any, value: Any, size: int) -> None:
        self._drop(key)
        cost = size + ENTRY_OVERHEAD
        if cost > self.capacity:
            return  # larger than the whole cache: never kept
        expiry = 0.0 if self.ttl == 0 else self.clock.now() + self.ttl
        self._entries[key] = (value, cost, expiry)
        self.size += cost
        while self.size > self.capacity:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.counts.evictions += 1

    def discard(self, key: Any) -> None:
        self._drop(key)

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0

    def _drop(self, key: Any) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self.size -= found[1]


class ClusterCaches:
    """The item cache and the query cache of one cluster."""

    def __init__(self, clock: Clock, memory: int, record_ttl: float, query_ttl: float) -> None:
        self.items = LruCache(clock, memory // 2, record_ttl)
        self.queries = LruCache(clock, memory // 2, query_ttl)
        self.checked_at = float("-inf")  # when the parameter group's TTLs were last read

    def set_ttls(self, record_ttl: float, query_ttl: float) -> None:
        self.items.ttl = record_ttl
        self.queries.ttl = query_ttl

    def clear(self) -> None:
        self.items.clear()
        self.queries.clear()

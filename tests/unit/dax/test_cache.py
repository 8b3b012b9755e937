"""The DAX caches' TTL and LRU bookkeeping, on a clock the test moves."""

from __future__ import annotations

from headwater.clock import FakeClock
from headwater.dax.cache import ENTRY_OVERHEAD, MISSING, LruCache


def test_entries_expire_after_the_ttl() -> None:
    clock = FakeClock()
    cache = LruCache(clock, 10_000, ttl=300.0)
    cache.put("k", {"v": 1}, 10)
    clock.advance(299.9)
    assert cache.get("k") == {"v": 1}
    clock.advance(0.2)
    assert cache.get("k") is MISSING
    assert (cache.counts.hits, cache.counts.misses) == (1, 1)
    assert len(cache) == 0 and cache.size == 0


def test_a_ttl_of_zero_never_expires() -> None:
    clock = FakeClock()
    cache = LruCache(clock, 10_000, ttl=0)
    cache.put("k", None, 0)  # an item known to be absent
    clock.advance(10**9)
    assert cache.get("k") is None


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = LruCache(FakeClock(), 3 * (ENTRY_OVERHEAD + 10), ttl=60.0)
    for name in "abc":
        cache.put(name, name, 10)
    assert cache.get("a") == "a"  # now b is the oldest use
    cache.put("d", "d", 10)
    assert cache.get("b") is MISSING
    assert [cache.get(name) for name in "acd"] == ["a", "c", "d"]
    assert cache.counts.evictions == 1


def test_an_entry_larger_than_the_cache_is_not_kept() -> None:
    cache = LruCache(FakeClock(), 500, ttl=60.0)
    cache.put("small", 1, 10)
    cache.put("huge", 2, 10_000)
    assert cache.get("huge") is MISSING and cache.get("small") == 1

"""One retention trim for every log, each with its own retention period.

A dialect lists its logs as `Retained` values: how long its records live and whether the log itself is
gone for good (a disabled DynamoDB stream past its retention), in which case its records, markers and
trim marks are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..storage.base import CatalogView, ItemKey, MetaWrite, Storage, WriteSet

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retained:
    stream_id: int
    retention: float  # seconds
    expired: bool = False  # drop the whole log (and `forget`, its document) now
    forget: MetaWrite | None = None


@dataclass(frozen=True, slots=True)
class DropLogOp:
    """Forget a log: its records, markers and trim marks (and its document, when kept in meta)."""

    stream_id: int
    forget: MetaWrite | None = None

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> DropLogOp:
        return self  # no table definition involved

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        meta = [self.forget] if self.forget is not None else []
        return WriteSet(meta=meta, drop_streams=[self.stream_id])


Source = Callable[[], Iterable[Retained]]


async def enforce(storage: Storage, logs: Iterable[Retained], now: float) -> int:
    """Trim each log's records older than its retention, drop expired logs; returns records trimmed."""
    trimmed = 0
    for item in logs:
        if item.expired:
            await storage.write(DropLogOp(item.stream_id, item.forget))
            continue
        trimmed += await asyncio.to_thread(storage.trim_stream_records, item.stream_id, now - item.retention)
    return trimmed


def tick(period: float, cap: float) -> float:
    return min(max(period / 4, 0.05), cap)


async def run(storage: Storage, sources: Sequence[Source], now: Callable[[], float], every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            for source in sources:
                await enforce(storage, list(source()), now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("log retention failed")

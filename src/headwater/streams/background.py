"""Background work for streams: shard rollover and retention (trim records, drop expired streams)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from ..storage.base import CONTROL_SLOT, CatalogView, ItemKey, MetaWrite, WriteSet
from .docs import STREAM_KIND, stream_key
from .markers import RolloverOp
from .service import StreamService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DropStreamOp:
    """Forget a stream whose retention ended: its document, records, markers and trim marks."""

    stream_id: int

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> DropStreamOp:
        return self

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        return WriteSet(
            meta=[MetaWrite(STREAM_KIND, stream_key(self.stream_id), None)], drop_streams=[self.stream_id]
        )


async def rollover_due(service: StreamService, period: float, now: float) -> int:
    """Roll over the shards of every enabled stream whose open shards are `period` seconds old."""
    rolled = 0
    storage = service.storage
    for doc in service.docs():
        if doc.status != "ENABLED":
            continue
        markers = storage.stream_records(doc.stream_id, CONTROL_SLOT, 0, None, 1_000_000)
        opened = markers[-1].created_at if markers else doc.created_at
        if now - opened >= period:
            await storage.write(RolloverOp(doc.stream_id, now))
            rolled += 1
    return rolled


async def force_rollover(service: StreamService, stream_id: int) -> None:
    """The admin way (tests): close the stream's open shards now and open their children."""
    await service.storage.write(RolloverOp(stream_id, service.clock.now()))


async def enforce_retention(service: StreamService, retention: float, now: float) -> int:
    """Trim records older than `retention`, drop streams disabled longer ago; returns records trimmed."""
    trimmed: int = await asyncio.to_thread(service.storage.trim_stream_records, now - retention)
    for doc in service.docs():
        if doc.status == "DISABLED" and doc.disabled_at is not None and doc.disabled_at < now - retention:
            await service.storage.write(DropStreamOp(doc.stream_id))
    return trimmed


def _tick(period: float, cap: float) -> float:
    return min(max(period / 4, 0.05), cap)


async def run_rollover(service: StreamService, period: float) -> None:
    while True:
        await asyncio.sleep(_tick(period, 30.0))
        try:
            await rollover_due(service, period, service.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("shard rollover failed")


async def run_retention(service: StreamService, retention: float) -> None:
    while True:
        await asyncio.sleep(_tick(retention, 60.0))
        try:
            await enforce_retention(service, retention, service.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("stream retention failed")

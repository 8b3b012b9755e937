"""Background work for DynamoDB streams: shard rollover, and what the log layer's retention needs to
know about them (24 hours each; a disabled stream is dropped once its retention has passed)."""

from __future__ import annotations

import asyncio
import logging

from ..shardlog import retention
from ..shardlog.markers import RolloverOp
from ..shardlog.retention import Retained
from ..storage.base import CONTROL_SLOT, MetaWrite
from .docs import STREAM_KIND, stream_key
from .service import StreamService

log = logging.getLogger(__name__)


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


def retained(service: StreamService, seconds: float, now: float) -> list[Retained]:
    """Every DynamoDB stream for the log layer's retention: 24 hours (`seconds`) of records; a stream
    disabled longer ago than that is dropped with its document."""
    out = []
    for doc in service.docs():
        gone = doc.status == "DISABLED" and doc.disabled_at is not None and doc.disabled_at < now - seconds
        forget = MetaWrite(STREAM_KIND, stream_key(doc.stream_id), None) if gone else None
        out.append(Retained(doc.stream_id, seconds, gone, forget))
    return out


async def enforce_retention(service: StreamService, seconds: float, now: float) -> int:
    """Trim records older than `seconds`, drop streams disabled longer ago; returns records trimmed."""
    return await retention.enforce(service.storage, retained(service, seconds, now), now)


async def run_rollover(service: StreamService, period: float) -> None:
    while True:
        await asyncio.sleep(retention.tick(period, 30.0))
        try:
            await rollover_due(service, period, service.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("shard rollover failed")

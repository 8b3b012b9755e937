"""One sink at work: follow the table's stream shard by shard (parents first), publish each record in
order and wait for its acknowledgement, then checkpoint. A failed publish is retried (same message id)
until it succeeds, so a shard never skips a record: at-least-once, in order per item."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import orjson

from ..consumer import CallTransport, ShardCheckpoint, ShardCursor, StreamsError, list_shards, ready_shards
from ..triggers.state import StateStore
from .model import CHECKPOINT_KIND, SinkConfig
from .nats import Publisher

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SinkStats:
    published: int = 0
    last_sequence: str | None = None
    last_error: str | None = None
    pending_since: float | None = None  # creation time of the oldest record not yet acknowledged
    checkpoints: dict[str, ShardCheckpoint] = field(default_factory=dict)

    def lag_seconds(self, now: float) -> float:
        return 0.0 if self.pending_since is None else max(0.0, now - self.pending_since)


class SinkRunner:
    def __init__(
        self,
        config: SinkConfig,
        *,
        transport: CallTransport,
        state: StateStore,
        publisher: Publisher,
        poll_interval: float = 0.25,
        retry_delay: float = 0.2,
        max_retry_delay: float = 5.0,
    ) -> None:
        self.config = config
        self.transport = transport
        self.state = state
        self.publisher = publisher
        self.poll_interval = poll_interval
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.stats = SinkStats()

    async def _load(self) -> None:
        prefix = self.config.name + "/"
        for key, doc in await self.state.list(CHECKPOINT_KIND):
            if key.startswith(prefix):
                self.stats.checkpoints[key[len(prefix) :]] = ShardCheckpoint.from_json(doc)

    async def run(self) -> None:
        await self._load()
        cursors: dict[str, ShardCursor] = {}
        arn = self.config.stream_arn
        try:
            while True:
                try:
                    progressed = await self._pass(cursors, arn)
                except StreamsError as err:
                    self.stats.last_error = f"{err.code}: {err.message}"
                    progressed = False
                if not progressed:
                    await asyncio.sleep(self.poll_interval)
        finally:
            await self.publisher.close()

    async def _pass(self, cursors: dict[str, ShardCursor], arn: str) -> bool:
        progressed = False
        checkpoints = self.stats.checkpoints
        for shard in ready_shards(await list_shards(self.transport, arn), checkpoints):
            cursor = cursors.get(shard.shard_id)
            if cursor is None:
                start = checkpoints.get(shard.shard_id, ShardCheckpoint())
                cursor = cursors[shard.shard_id] = ShardCursor(self.transport, arn, shard.shard_id, start)
            page = await cursor.next_page(1000)
            for record in page.records:
                await self._deliver(record)
            if page.records or page.ended:
                progressed = True
                checkpoint = ShardCheckpoint(cursor.last_sequence, page.ended)
                checkpoints[shard.shard_id] = checkpoint
                key = f"{self.config.name}/{shard.shard_id}"
                await self.state.put(CHECKPOINT_KIND, key, checkpoint.to_json())
        return progressed

    async def _deliver(self, record: dict[str, object]) -> None:
        stats = self.stats
        dynamodb = record.get("dynamodb")
        created = dynamodb.get("ApproximateCreationDateTime") if isinstance(dynamodb, dict) else None
        stats.pending_since = float(created) if isinstance(created, int | float) else time.time()
        payload = orjson.dumps(record)
        msg_id = str(record["eventID"])
        delay = self.retry_delay
        while True:
            try:
                await self.publisher.publish(self.config.subject, payload, msg_id)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("sink %s: publish failed (%s); retrying", self.config.name, stats.last_error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_retry_delay)
        stats.published += 1
        stats.pending_since = None
        if isinstance(dynamodb, dict):
            stats.last_sequence = str(dynamodb.get("SequenceNumber"))
        stats.last_error = None

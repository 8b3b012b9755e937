"""One replication link: another region's replica (the source) followed into this server's replica (the
target). The link reads the source replica's DynamoDB stream through the consumer library (in-process
for a region of this server, HTTP for another server's: the same Streams calls either way), applies
each page of changes that originated in the source region as one `ReplicatedPageOp` (last writer wins,
decided inside the writer, for each change) together with the shard's checkpoint: one commit holds the
changes and where the link got to, so it resumes exactly there after a crash.

Changes the source received from other regions are not shipped: their origin ships them to every
replica itself, and a change never goes back to where it came from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from ..consumer import (
    CallTransport,
    Shard,
    ShardCheckpoint,
    ShardCursor,
    StreamsError,
    list_shards,
    ready_shards,
)
from ..core.capacity import write_units
from ..core.catalog import MetaOp
from ..core.database import Database
from ..core.lww import Stamp
from ..core.replicated import ReplicatedChangeOp, ReplicatedPageOp, key_of
from ..errors import DynamoDBError, ResourceNotFoundException
from ..model.namespace import Namespace
from ..model.schema import TableSpec
from ..model.size import item_size
from ..storage.base import MetaWrite
from ..streams.records import REPLICATION_ORIGIN, REPLICATION_STAMPS
from ..triggers.notify import ChangeNotifier

log = logging.getLogger(__name__)

# storage metadata, written in the commit of the page it follows; key: "<link>/<stream arn>/<shard id>"
CHECKPOINT_KIND = "replication.checkpoint"
SHARDS_FRESH = 1.0  # seconds a source's shard list is used before it is listed again
# seconds between checkpoints of pages with nothing to apply (the source's records of other origins):
# one behind only means reading and skipping those records again after a restart
SKIPPED_CHECKPOINT = 1.0
PAGE = 1000  # records a GetRecords asks for
# seconds a link lets changes gather before reading what woke it (or what came while it applied a
# page): larger pages, fewer passes; each pass costs about as much as applying several changes
GATHER = 0.01


@dataclass(frozen=True, slots=True)
class LinkId:
    account: str
    table: str
    source: str  # the region whose stream is read
    target: str  # the region (of this server) the changes are applied to

    def __str__(self) -> str:
        return f"{self.account}/{self.table}/{self.source}>{self.target}"


@dataclass(slots=True)
class LinkStats:
    applied: int = 0  # changes that won and were written
    skipped: int = 0  # changes refused by last writer wins (an equal or later change was there)
    last_error: str | None = None
    caught_up: bool = False  # the last pass found nothing more to read
    passes: int = 0  # passes over the source's shards completed (a reader waiting on one waits for two)
    latency: float | None = None  # seconds from the last applied change's write to its apply
    checkpoints: dict[str, ShardCheckpoint] = field(default_factory=dict)


class StreamGone(Exception):
    """The source has no stream to follow (yet): the link waits."""


class LinkRunner:
    def __init__(
        self,
        link: LinkId,
        db: Database,
        *,
        transport: CallTransport,
        stream_arn: Callable[[], Awaitable[str | None]],
        poll_interval: float = 0.1,
        retry_delay: float = 0.2,
        commits: ChangeNotifier | None = None,
        gather: float = GATHER,
    ) -> None:
        """`commits`: this server's commit notifications, for a source of this server: a caught-up link
        waits for the next commit (at most `poll_interval`) instead of the whole interval."""
        self.link = link
        self.db = db
        self.target_db = db.scoped(Namespace(link.account, link.target))
        self.transport = transport
        self._stream_arn = stream_arn
        self.poll_interval = poll_interval
        self.retry_delay = retry_delay
        self.gather = gather
        self._full = False  # the last pass read a full page: read on at once
        self.stats = LinkStats()
        self.wake = asyncio.Event()
        self.commits = commits
        self._listed: tuple[str, float, list[Shard]] | None = None  # (stream ARN, when, its shards)
        self._saved: dict[str, float] = {}  # checkpoint key -> when it was last written (monotonic)

    def _target(self) -> TableSpec | None:
        table = self.target_db.catalog.get(self.link.table)
        if table is None or table.status == "DELETING" or table.replica(self.link.source) is None:
            return None
        return table

    async def run(self) -> None:
        cursors: dict[str, ShardCursor] = {}
        arn: str | None = None
        while self._target() is not None:
            progressed = False
            try:
                current = await self._arn()
                if current != arn:  # first pass, or the source's stream was replaced
                    arn, cursors = current, {}
                    await self._load(arn)
                progressed = await self._pass(cursors, arn)
                self.stats.last_error = None
            except StreamGone:
                pass
            except StreamsError as err:  # the source unreachable or refusing: try again next pass
                self.stats.last_error = f"{err.code}: {err.message}"
            except DynamoDBError as err:  # e.g. the other server's table not there (yet), or ours gone
                self.stats.last_error = f"{err.type_name}: {err.message}"
            self.stats.passes += 1
            self.stats.caught_up = not progressed
            if progressed:
                if not self._full:
                    await asyncio.sleep(self.gather)
                continue
            if self.commits is not None:
                await self.commits.wait(self.poll_interval)
                await asyncio.sleep(self.gather)
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.poll_interval)

    async def _arn(self) -> str:
        found = await self._stream_arn()
        if found is None:
            raise StreamGone()
        return found

    async def _load(self, arn: str) -> None:
        prefix = f"{self.link}/{arn}/"
        self.stats.checkpoints = {
            key[len(prefix) :]: ShardCheckpoint.from_json(orjson.loads(doc))
            for key, doc in self.db.storage.meta_list(CHECKPOINT_KIND)
            if key.startswith(prefix)
        }

    async def _shards(self, arn: str) -> list[Shard]:
        """The source's shards, listed again after SHARDS_FRESH or once one of them has ended (its
        children are then to be read) rather than on every pass."""
        listed = self._listed
        if listed is None or listed[0] != arn or time.monotonic() - listed[1] > SHARDS_FRESH:
            listed = self._listed = (arn, time.monotonic(), await list_shards(self.transport, arn))
        return listed[2]

    async def _pass(self, cursors: dict[str, ShardCursor], arn: str) -> bool:
        progressed = self._full = False
        checkpoints = self.stats.checkpoints
        for shard in ready_shards(await self._shards(arn), checkpoints):
            cursor = cursors.get(shard.shard_id)
            if cursor is None:
                start = checkpoints.get(shard.shard_id, ShardCheckpoint())
                # the records' last-writer-wins stamps (hidden from other readers), and only the source's
                # own changes in full
                extra = {REPLICATION_STAMPS: True, REPLICATION_ORIGIN: self.link.source}
                cursor = ShardCursor(self.transport, arn, shard.shard_id, start, extra=extra)
                cursors[shard.shard_id] = cursor
            page = await cursor.next_page(PAGE)
            self._full = self._full or len(page.records) >= PAGE
            if page.records or page.ended:
                progressed = True
                checkpoint = ShardCheckpoint(cursor.last_sequence, page.ended)
                key = f"{self.link}/{arn}/{shard.shard_id}"
                write = MetaWrite(CHECKPOINT_KIND, key, orjson.dumps(checkpoint.to_json()))
                await self._apply(page.records, write, must_save=page.ended)
                checkpoints[shard.shard_id] = checkpoint
                if page.ended:
                    self._listed = None  # its children are listed with it
        return progressed

    def _ops(self, table: TableSpec, records: list[dict[str, object]]) -> list[ReplicatedChangeOp]:
        ops = []
        now = self.db.clock.now()
        for record in records:
            stamp = Stamp.from_wire(record.get("replication"))
            if stamp is None or stamp.region != self.link.source:
                continue  # written before the table was global, or replicated into the source
            dynamodb = record.get("dynamodb")
            if not isinstance(dynamodb, dict):
                continue
            new = None if record.get("eventName") == "REMOVE" else dynamodb.get("NewImage")
            key = key_of(table, dynamodb["Keys"])
            ttl = isinstance(record.get("userIdentity"), dict)
            ops.append(ReplicatedChangeOp(table, key, new, stamp, now, ttl))
        return ops

    async def _apply(
        self, records: list[dict[str, object]], checkpoint: MetaWrite, *, must_save: bool
    ) -> None:
        """Apply a page and its checkpoint in one commit; on a failure apply it all again (nothing of it
        was committed). A page with nothing to apply saves its checkpoint only if `must_save` or
        SKIPPED_CHECKPOINT has passed since the last."""
        delay = self.retry_delay
        while True:
            table = self._target()
            if table is None:
                raise ResourceNotFoundException("the replica is gone")
            ops = self._ops(table, records)
            try:
                results: tuple[bool, ...] = ()
                if ops:
                    results = await self.db.storage.write(ReplicatedPageOp(tuple(ops), (checkpoint,)))
                    self._saved[checkpoint.key] = time.monotonic()
                elif (
                    must_save or time.monotonic() - self._saved.get(checkpoint.key, 0.0) > SKIPPED_CHECKPOINT
                ):
                    await self.db.storage.write(MetaOp((checkpoint,)))
                    self._saved[checkpoint.key] = time.monotonic()
            except ResourceNotFoundException:
                raise
            except Exception as exc:  # the database refusing writes: retry, never skip a change
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("replication %s: apply failed (%s); retrying", self.link, self.stats.last_error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            applied = sum(1 for result in results if result)
            if self.db.usage is not None:  # replicated write units: this region's writes of the changes
                for op, result in zip(ops, results, strict=True):
                    if result:
                        self.db.usage.replicated(table, write_units(item_size(op.new)) if op.new else 1.0)
            self.stats.applied += applied
            self.stats.skipped += len(results) - applied
            if ops:
                self.stats.latency = max(0.0, time.time() - ops[-1].stamp.time)
            return

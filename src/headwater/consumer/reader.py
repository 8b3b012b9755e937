"""Reading a stream (DynamoDB Streams or Kinesis, by its `Dialect`): shard lineage (parents before
children, lexicographic order) and per-shard cursors that survive expired iterators, trimmed data and
throttling."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .checkpoints import CheckpointStore, ShardCheckpoint
from .dialects import Dialect, dialect_of
from .errors import StreamsError
from .transport import CallTransport, Wire

log = logging.getLogger(__name__)

StartingPosition = Literal["TRIM_HORIZON", "LATEST"]


@dataclass(frozen=True, slots=True)
class Shard:
    shard_id: str
    parent_id: str | None
    starting_sequence: str | None
    ending_sequence: str | None  # set once the shard is closed
    adjacent_parent_id: str | None = None  # Kinesis: the other parent of a merged shard

    @property
    def closed(self) -> bool:
        return self.ending_sequence is not None

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(p for p in (self.parent_id, self.adjacent_parent_id) if p)

    @classmethod
    def from_wire(cls, doc: Wire) -> Shard:
        seq_range = doc.get("SequenceNumberRange", {})
        return cls(
            doc["ShardId"],
            doc.get("ParentShardId"),
            seq_range.get("StartingSequenceNumber"),
            seq_range.get("EndingSequenceNumber"),
            doc.get("AdjacentParentShardId"),
        )


async def list_shards(
    transport: CallTransport, stream_arn: str, dialect: Dialect | None = None
) -> list[Shard]:
    """Every shard of the stream, sorted by ShardId."""
    dialect = dialect or dialect_of(stream_arn)
    shards = [Shard.from_wire(s) for s in await dialect.shards(transport, stream_arn)]
    return sorted(shards, key=lambda s: s.shard_id)


def ready_shards(shards: Iterable[Shard], checkpoints: dict[str, ShardCheckpoint]) -> list[Shard]:
    """Shards that may be read now: not finished, and whose parents are finished or no longer listed
    (trimmed away). Lexicographic ShardId order."""
    listed = {s.shard_id for s in shards}
    out = []
    for shard in shards:
        if checkpoints.get(shard.shard_id, ShardCheckpoint()).finished:
            continue
        if any(p in listed and not checkpoints.get(p, ShardCheckpoint()).finished for p in shard.parents):
            continue
        out.append(shard)
    return sorted(out, key=lambda s: s.shard_id)


async def resolve_latest(
    transport: CallTransport, stream_arn: str, dialect: Dialect | None = None
) -> dict[str, ShardCheckpoint]:
    """Checkpoints that make a new reader start at LATEST *now*: closed shards count as done, open ones
    get a LATEST iterator taken at this moment."""
    dialect = dialect or dialect_of(stream_arn)
    out: dict[str, ShardCheckpoint] = {}
    for shard in await list_shards(transport, stream_arn, dialect):
        if shard.closed:
            out[shard.shard_id] = ShardCheckpoint(finished=True)
            continue
        request = dialect.iterator_request(stream_arn, shard.shard_id, "LATEST", None)
        response = await transport.call("GetShardIterator", request)
        out[shard.shard_id] = ShardCheckpoint(iterator=response.get("ShardIterator"))
    return out


@dataclass(slots=True)
class Page:
    records: list[Wire]
    ended: bool  # a closed shard is exhausted: no more records will ever come
    trimmed: bool = False  # records were lost to retention before they could be read


class ShardCursor:
    """Reads one shard forward from a checkpoint. Expired iterators are re-acquired after the last
    sequence number seen; trimmed positions restart at TRIM_HORIZON (flagged on the page)."""

    def __init__(
        self,
        transport: CallTransport,
        stream_arn: str,
        shard_id: str,
        start: ShardCheckpoint,
        initial: StartingPosition = "TRIM_HORIZON",
        dialect: Dialect | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """`extra`: members added to every GetRecords request (a replication link asks for stamps)."""
        self.transport = transport
        self.extra = dict(extra or {})
        self.dialect = dialect or dialect_of(stream_arn)
        self.stream_arn = stream_arn
        self.shard_id = shard_id
        self.last_sequence = start.sequence_number
        self._iterator: str | None = None if start.sequence_number else start.iterator
        # a reader started at LATEST whose first iterator expired unused falls back to LATEST, not the
        # whole shard
        self._initial: StartingPosition = (
            "LATEST" if start.iterator and not start.sequence_number else initial
        )
        self.ended = start.finished

    async def _acquire(self, kind: str | None = None) -> None:
        if kind is None and self.last_sequence is not None:
            request = self.dialect.iterator_request(
                self.stream_arn, self.shard_id, "AFTER_SEQUENCE_NUMBER", self.last_sequence
            )
        else:
            request = self.dialect.iterator_request(
                self.stream_arn, self.shard_id, kind or self._initial, None
            )
        self._iterator = (await self.transport.call("GetShardIterator", request)).get("ShardIterator")
        if self._iterator is None:
            self.ended = True

    async def next_page(self, limit: int = 1000) -> Page:
        if self.ended:
            return Page([], True)
        trimmed = False
        for _attempt in range(4):
            try:
                if self._iterator is None:
                    await self._acquire()
                    if self._iterator is None:
                        return Page([], True, trimmed)
                request = {"ShardIterator": self._iterator, "Limit": max(1, min(limit, 1000)), **self.extra}
                response = await self.transport.call("GetRecords", request)
            except StreamsError as err:
                if err.code == "ProvisionedThroughputExceededException":
                    return Page([], False, trimmed)  # Kinesis's 5 reads a second: try again later
                if err.code == "ExpiredIteratorException":
                    self._iterator = None
                    continue
                if err.code == "TrimmedDataAccessException":
                    log.warning("shard %s: records trimmed before they were read", self.shard_id)
                    trimmed = True
                    self.last_sequence = None
                    await self._acquire("TRIM_HORIZON")
                    continue
                raise
            records: list[Wire] = response.get("Records", [])
            if records:
                self.last_sequence = self.dialect.sequence(records[-1])
            self._iterator = response.get("NextShardIterator")
            if self._iterator is None:
                self.ended = True
            return Page(records, self.ended, trimmed)
        raise StreamsError("ExpiredIteratorException", "iterator kept expiring")


class StreamReader:
    """A KCL-like sequential reader: every record of the stream once, parents before children, with
    checkpoints saved after each page. For concurrent per-shard processing use ShardCursor directly."""

    def __init__(
        self,
        transport: CallTransport,
        stream_arn: str,
        checkpoints: CheckpointStore,
        *,
        start: StartingPosition = "TRIM_HORIZON",
        poll_interval: float = 0.25,
    ) -> None:
        self.transport = transport
        self.stream_arn = stream_arn
        self.checkpoints = checkpoints
        self.start = start
        self.poll_interval = poll_interval

    async def records(self, *, follow: bool = True) -> AsyncIterator[tuple[str, Wire]]:
        """(shard id, record) pairs; with follow=False stop once nothing new is available."""
        state = await self.checkpoints.load(self.stream_arn)
        if not state and self.start == "LATEST":
            state = await resolve_latest(self.transport, self.stream_arn)
            for shard_id, cp in state.items():
                await self.checkpoints.save(self.stream_arn, shard_id, cp)
        cursors: dict[str, ShardCursor] = {}
        while True:
            shards = await list_shards(self.transport, self.stream_arn)
            progressed = False
            for shard in ready_shards(shards, state):
                cursor = cursors.get(shard.shard_id)
                if cursor is None:
                    cp = state.get(shard.shard_id, ShardCheckpoint())
                    cursor = cursors[shard.shard_id] = ShardCursor(
                        self.transport, self.stream_arn, shard.shard_id, cp
                    )
                page = await cursor.next_page()
                for record in page.records:
                    yield shard.shard_id, record
                if page.records or page.ended:
                    progressed = True
                    cp = ShardCheckpoint(cursor.last_sequence, page.ended)
                    state[shard.shard_id] = cp
                    await self.checkpoints.save(self.stream_arn, shard.shard_id, cp)
            if not progressed:
                if not follow:
                    return
                await asyncio.sleep(self.poll_interval)

"""Reading a stream: shard lineage (parents before children, lexicographic order) and per-shard cursors
that survive expired iterators and trimmed data."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Literal

from .checkpoints import CheckpointStore, ShardCheckpoint
from .errors import StreamsError
from .transport import StreamsTransport, Wire

log = logging.getLogger(__name__)

StartingPosition = Literal["TRIM_HORIZON", "LATEST"]


@dataclass(frozen=True, slots=True)
class Shard:
    shard_id: str
    parent_id: str | None
    starting_sequence: str | None
    ending_sequence: str | None  # set once the shard is closed

    @property
    def closed(self) -> bool:
        return self.ending_sequence is not None

    @classmethod
    def from_wire(cls, doc: Wire) -> Shard:
        seq_range = doc.get("SequenceNumberRange", {})
        return cls(
            doc["ShardId"],
            doc.get("ParentShardId"),
            seq_range.get("StartingSequenceNumber"),
            seq_range.get("EndingSequenceNumber"),
        )


async def describe(transport: StreamsTransport, stream_arn: str) -> tuple[Wire, list[Shard]]:
    """The stream's description and all its shards (every DescribeStream page), sorted by ShardId."""
    shards: list[Shard] = []
    request: Wire = {"StreamArn": stream_arn}
    while True:
        desc = (await transport.describe_stream(request))["StreamDescription"]
        shards.extend(Shard.from_wire(s) for s in desc.get("Shards", []))
        last = desc.get("LastEvaluatedShardId")
        if not last:
            break
        request = {"StreamArn": stream_arn, "ExclusiveStartShardId": last}
    shards.sort(key=lambda s: s.shard_id)
    return desc, shards


async def list_shards(transport: StreamsTransport, stream_arn: str) -> list[Shard]:
    return (await describe(transport, stream_arn))[1]


def ready_shards(shards: Iterable[Shard], checkpoints: dict[str, ShardCheckpoint]) -> list[Shard]:
    """Shards that may be read now: not finished, and whose parent is finished or no longer listed
    (trimmed away). Lexicographic ShardId order."""
    listed = {s.shard_id for s in shards}
    out = []
    for shard in shards:
        if checkpoints.get(shard.shard_id, ShardCheckpoint()).finished:
            continue
        parent = shard.parent_id
        if parent and parent in listed and not checkpoints.get(parent, ShardCheckpoint()).finished:
            continue
        out.append(shard)
    return sorted(out, key=lambda s: s.shard_id)


async def resolve_latest(transport: StreamsTransport, stream_arn: str) -> dict[str, ShardCheckpoint]:
    """Checkpoints that make a new reader start at LATEST *now*: closed shards count as done, open ones
    get a LATEST iterator taken at this moment."""
    out: dict[str, ShardCheckpoint] = {}
    for shard in await list_shards(transport, stream_arn):
        if shard.closed:
            out[shard.shard_id] = ShardCheckpoint(finished=True)
            continue
        response = await transport.get_shard_iterator(
            {"StreamArn": stream_arn, "ShardId": shard.shard_id, "ShardIteratorType": "LATEST"}
        )
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
        transport: StreamsTransport,
        stream_arn: str,
        shard_id: str,
        start: ShardCheckpoint,
        initial: StartingPosition = "TRIM_HORIZON",
    ) -> None:
        self.transport = transport
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
        request: Wire = {"StreamArn": self.stream_arn, "ShardId": self.shard_id}
        if kind is None and self.last_sequence is not None:
            request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            request["SequenceNumber"] = self.last_sequence
        else:
            request["ShardIteratorType"] = kind or self._initial
        self._iterator = (await self.transport.get_shard_iterator(request)).get("ShardIterator")
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
                response = await self.transport.get_records(
                    {"ShardIterator": self._iterator, "Limit": max(1, min(limit, 1000))}
                )
            except StreamsError as err:
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
                self.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
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
        transport: StreamsTransport,
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

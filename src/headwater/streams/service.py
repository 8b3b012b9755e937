"""The Streams API over the storage interface: ListStreams, DescribeStream, GetShardIterator, GetRecords.

A `StreamService` answers as one namespace (account, region) sees the streams: ListStreams lists that
namespace's; a stream ARN is resolved in the ARN's account (whether the caller may read another account's
stream is for the authorization layer) and only in the caller's region, as a regional endpoint would;
records say the region they were written in (`awsRegion`). `scoped` gives another namespace's view.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from ..clock import Clock
from ..config import Settings
from ..errors import (
    LimitExceededException,
    ResourceNotFoundException,
    TrimmedDataAccessException,
    ValidationException,
)
from ..model.namespace import Namespace
from ..shardlog import pages
from ..shardlog.pages import ReadCount
from ..shardlog.secret import IteratorSecret
from ..storage.base import CONTROL_SLOT, TRIM_MARK_KIND, Storage, trim_mark_key
from . import iterators
from .arns import parse_stream_arn
from .docs import STREAM_KIND, StreamDoc, stream_key
from .iterators import Position
from .records import constant_tail, render, render_skipped, stamped_by, without_stamp
from .sequence import OFFSET, format_seq, parse_seq
from .shards import Shard, layout

MAX_RECORDS_BYTES = 1024 * 1024
MAX_READERS_PER_SHARD = 2
# a GetRecords call counts among its shard's readers until it ends, or at most this long (a call whose
# node was killed stops counting then)
READ_HOLD_SECONDS = 10.0
INVALID = "One or more parameter values were invalid: "


class StreamService:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        settings: Settings,
        secret: IteratorSecret,
        namespace: Namespace,
        reads: ReadCount | None = None,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._settings = settings
        self._secret = secret
        self.namespace = namespace
        self._tail = constant_tail(namespace.region)
        self._arn_prefix = namespace.arn("dynamodb", "table/")
        self.reads = ReadCount() if reads is None else reads  # every namespace's, for the metrics

    def scoped(self, namespace: Namespace) -> StreamService:
        return StreamService(self._storage, self._clock, self._settings, self._secret, namespace, self.reads)

    @property
    def storage(self) -> Storage:
        return self._storage

    @property
    def clock(self) -> Clock:
        return self._clock

    async def start(self) -> None:
        await self._secret.start()

    @property
    def secret(self) -> bytes:
        return self._secret.value

    # -- catalog of streams

    def docs(self) -> list[StreamDoc]:
        """Every namespace's streams (background work: rollover, retention)."""
        return [StreamDoc.decode(value) for _, value in self._storage.meta_list(STREAM_KIND)]

    def own_docs(self) -> list[StreamDoc]:
        """This namespace's streams."""
        return [doc for doc in self.docs() if doc.arn.startswith(self._arn_prefix)]

    def doc(self, stream_id: int) -> StreamDoc | None:
        data = self._storage.meta_get(STREAM_KIND, stream_key(stream_id))
        return None if data is None else StreamDoc.decode(data)

    def find(self, arn: str, missing: str | None = None) -> StreamDoc:
        """The stream an ARN names: in the ARN's account, and only in this namespace's region (another
        region's stream is not there, as DynamoDB Local answers it)."""
        parsed = parse_stream_arn(arn)
        if parsed.region == self.namespace.region:
            for doc in self.docs():
                if doc.arn == arn:
                    return doc
        raise ResourceNotFoundException(missing or f"Requested resource not found: Stream: {arn} not found")

    def shards(self, doc: StreamDoc) -> list[Shard]:
        markers = self._storage.stream_records(doc.stream_id, CONTROL_SLOT, 0, None, 1_000_000)
        return layout(doc, markers)

    def visible_shards(self, doc: StreamDoc) -> list[Shard]:
        """Closed shards drop out once they closed longer than the retention period ago."""
        horizon = self._clock.now() - self._settings.stream_retention_seconds
        return sorted(
            (s for s in self.shards(doc) if s.closed_at is None or s.closed_at >= horizon),
            key=lambda s: s.shard_id,
        )

    def trim_mark(self, stream_id: int, slot: int) -> int:
        data = self._storage.meta_get(TRIM_MARK_KIND, trim_mark_key(stream_id, slot))
        return 0 if data is None else int(data)

    # -- ListStreams

    def list_streams(self, table: str | None, limit: int, start: str | None) -> dict[str, Any]:
        if limit > 100:
            raise ValidationException(INVALID + "Limit cannot be greater than the maximum allowed size: 100")
        # newest first, as DynamoDB Local lists them (the API reference names no order)
        docs = sorted(self.own_docs(), key=lambda d: (d.label, d.table_name, d.stream_id), reverse=True)
        if table is not None:
            docs = [d for d in docs if d.table_name == table]
        if start is not None:
            cookie = parse_stream_arn(start)
            docs = [d for d in docs if (d.label, d.table_name) < (cookie.label, cookie.table)]
        page = docs[:limit]
        out: dict[str, Any] = {
            "Streams": [{"StreamArn": d.arn, "TableName": d.table_name, "StreamLabel": d.label} for d in page]
        }
        if len(docs) > limit:
            out["LastEvaluatedStreamArn"] = page[-1].arn
        return out

    # -- DescribeStream

    def describe_stream(
        self, arn: str, limit: int, start_shard: str | None, child_of: str | None
    ) -> dict[str, Any]:
        if limit > 100:
            raise ValidationException(INVALID + "Limit cannot be greater than the maximum: 100")
        doc = self.find(arn)
        shards = self.visible_shards(doc)
        if child_of is not None:
            shards = [s for s in shards if s.parent_id == child_of]
        if start_shard is not None:
            shards = [s for s in shards if s.shard_id > start_shard]
        page = shards[:limit]
        description: dict[str, Any] = {
            "StreamArn": doc.arn,
            "StreamLabel": doc.label,
            "StreamStatus": doc.status,
            "StreamViewType": doc.view_type,
            "CreationRequestDateTime": doc.created_at,
            "TableName": doc.table_name,
            "KeySchema": doc.key,
            "Shards": [self._shard_wire(doc, s) for s in page],
        }
        if len(shards) > limit:
            description["LastEvaluatedShardId"] = page[-1].shard_id
        return {"StreamDescription": description}

    def _shard_wire(self, doc: StreamDoc, shard: Shard) -> dict[str, Any]:
        seq_range = {"StartingSequenceNumber": format_seq(shard.starting)}
        if shard.hi is not None:
            last = self._storage.last_stream_seq(doc.stream_id, shard.slot, shard.lo + 1, shard.hi - 1)
            # an empty closed shard ends where it starts (or just before its successor)
            ending = last if last is not None else max(shard.starting, shard.hi - 1)
            seq_range["EndingSequenceNumber"] = format_seq(ending)
        out: dict[str, Any] = {"ShardId": shard.shard_id, "SequenceNumberRange": seq_range}
        if shard.parent_id is not None:
            out["ParentShardId"] = shard.parent_id
        return out

    # -- GetShardIterator

    def get_shard_iterator(
        self, arn: str, shard_id: str, kind: str, sequence_number: str | None
    ) -> dict[str, Any]:
        if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if sequence_number is None:
                raise ValidationException(INVALID + "Invalid SequenceNumber")
        elif sequence_number is not None:
            raise ValidationException(INVALID + "SequenceNumber should not be passed for this iterator type")
        doc = self.find(arn, missing="Stream does not exist")
        shard = next((s for s in self.visible_shards(doc) if s.shard_id == shard_id), None)
        if shard is None:
            raise ResourceNotFoundException("Shard does not exist")
        trimmed = self.trim_mark(doc.stream_id, shard.slot)
        if kind == "TRIM_HORIZON":
            pos = max(shard.lo + 1, trimmed + 1)
        elif kind == "LATEST":
            pos = shard.hi if shard.hi is not None else self._beyond(doc.stream_id, shard.slot)
        else:
            seq = parse_seq(sequence_number or "")
            beyond = shard.hi if shard.hi is not None else self._beyond(doc.stream_id, shard.slot)
            # outside the shard, or not assigned yet; the shard's own StartingSequenceNumber (as
            # DescribeStream reports it) is a valid position even before any record has it
            if seq <= shard.lo or (seq >= beyond and seq != shard.starting):
                raise ValidationException(INVALID + f"Invalid SequenceNumber {sequence_number} for shard")
            if seq <= trimmed:
                raise TrimmedDataAccessException(
                    f"The sequence number {sequence_number} is beyond the trim horizon of the shard"
                )
            pos = seq if kind == "AT_SEQUENCE_NUMBER" else seq + 1
        position = Position(doc.stream_id, shard.slot, shard.lo, pos, int(self._clock.now() * 1000))
        return {"ShardIterator": iterators.encode(self.secret, doc.arn, position)}

    def _beyond(self, stream_id: int, slot: int) -> int:
        """The first number an open shard of `slot` has not committed (records may commit in other
        shards with smaller numbers meanwhile: only this shard's ceiling counts)."""
        return self._storage.shard_ceiling(stream_id, slot) + 1

    # -- GetRecords

    async def get_records(
        self, iterator: str, limit: int, *, stamps: bool = False, origin: str | None = None
    ) -> bytes:
        """`stamps`: keep global tables' replication stamps in the records (replication links); `origin`
        (with `stamps`): the records of other origins reduced to their sequence numbers (the link from
        `origin` applies none of them, and reading them whole was most of a link's cost)."""
        if limit > 1000:
            raise ValidationException(INVALID + "Limit should be less than or equal to 1000")
        arn, position = iterators.decode(self.secret, iterator, self._clock.now())
        if parse_stream_arn(arn).region != self.namespace.region:
            # an iterator of another region's stream (DynamoDB Local's text: that shard is not here)
            raise ResourceNotFoundException("Invalid ShardId in ShardIterator")
        if stamps:  # a replication link: AWS does not count its own replication among a shard's readers
            only = origin.encode() if origin is not None else None
            return await asyncio.to_thread(self._read, arn, position, limit, stamps, only)
        # counted where the storage keeps shard uses: with several nodes on one database, across them
        shard = f"ddb/{position.stream_id}/{position.slot}/{position.lo}"
        now = self._clock.now()
        read = functools.partial(self._read, arn, position, limit, stamps)
        held = now + READ_HOLD_SECONDS
        out = await self._storage.shard_uses().while_held(shard, now, held, MAX_READERS_PER_SHARD, read)
        if out is None:
            raise LimitExceededException(
                "Too many concurrent GetRecords requests on this shard; at most 2 readers may poll a shard"
            )
        return out

    def _read(
        self, arn: str, position: Position, limit: int, stamps: bool, origin: bytes | None = None
    ) -> bytes:
        stream_id, slot, pos = position.stream_id, position.slot, position.pos
        if self._storage.meta_get(STREAM_KIND, stream_key(stream_id)) is None:
            raise ResourceNotFoundException(f"Requested resource not found: Stream: {arn} not found")
        if pos <= self.trim_mark(stream_id, slot):
            raise TrimmedDataAccessException(
                "The iterator points at stream records that were trimmed (older than the retention period)"
            )
        page = pages.read(self._storage, stream_id, slot, position.lo, pos, limit)
        stored = page.records
        out: list[bytes] = []
        size = 0
        tail = self._tail
        for record in stored:
            size += len(record.payload)
            if size > MAX_RECORDS_BYTES and out:
                break
            seq_text = b"%d" % (OFFSET + record.seq)
            if origin is not None and not stamped_by(record.payload, origin):
                out.append(render_skipped(seq_text))
                continue
            payload = record.payload if stamps else without_stamp(record.payload)
            out.append(render(stream_id, seq_text, record.seq, payload, tail))
        next_pos = stored[len(out) - 1].seq + 1 if out else pos
        body = b'{"Records":[' + b",".join(out) + b"]"
        exhausted = page.exhausted and len(out) == len(stored) and len(stored) < limit
        if not exhausted:
            nxt = Position(stream_id, slot, position.lo, next_pos, int(self._clock.now() * 1000))
            body += b',"NextShardIterator":"' + iterators.encode(self.secret, arn, nxt).encode() + b'"'
        self.reads.add(len(out))
        return body + b"}"

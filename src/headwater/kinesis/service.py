"""Kinesis streams over the log layer: the catalog of streams, shards as Kinesis lists them, and the
record writes. Reading (iterators, GetRecords) is in reading.py.

A `KinesisService` is one namespace's (account, region) view of the streams: names are that namespace's
(a StreamARN must be of it), ARNs carry it, and the account's shard limit counts its streams. `scoped`
gives another namespace's view; the throughput limits are kept per shard for all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..clock import Clock
from ..config import Settings
from ..model.namespace import Namespace
from ..shardlog.layout import Shard, ShardKey, replay
from ..shardlog.pages import ReadCount
from ..storage.base import CONTROL_SLOT, TRIM_MARK_KIND, MetaWrite, Storage, trim_mark_key
from .docs import STREAMS_TABLE_ID, StreamDoc, doc_key
from .errors import InvalidArgumentException, ResourceNotFoundException
from .hashing import shard_name
from .ops import PutRecordsOp, not_found
from .records import pack
from .sequence import format_seq
from .throttle import Throttle

COUNTER_KIND = "counter"  # the stream-id counter DynamoDB streams use too (one numbering of logs)
DEFAULT_RETENTION_HOURS = 24
ON_DEMAND_SHARDS = 4
SHARD_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Put:
    """One record to append."""

    hash_key: int
    partition_key: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Appended:
    shard_id: str
    sequence_number: str | None  # None: throttled
    slot: int


class KinesisService:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        settings: Settings,
        namespace: Namespace,
        throttle: Throttle | None = None,
        reads: ReadCount | None = None,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.settings = settings
        self.namespace = namespace
        self.throttle = throttle or Throttle(storage.shard_uses, settings.kinesis_limits)
        self.reads = reads or ReadCount()  # GetRecords' records, every namespace's (for /metrics)
        self._key_prefix = namespace.prefix.encode()

    def scoped(self, namespace: Namespace) -> KinesisService:
        return KinesisService(self.storage, self.clock, self.settings, namespace, self.throttle, self.reads)

    @property
    def account(self) -> str:
        return self.namespace.account

    def arn(self, name: str) -> str:
        return self.namespace.arn("kinesis", f"stream/{name}")

    # -- the catalog

    def name_of(self, request: dict[str, Any]) -> str:
        """The stream a request names, by StreamName or StreamARN (of this namespace)."""
        name, arn = request.get("StreamName"), request.get("StreamARN")
        if arn is not None:
            prefix = self.arn("")
            if not arn.startswith(prefix) or "/" in arn[len(prefix) :]:
                raise ResourceNotFoundException(
                    f"Stream {arn.rpartition('/')[2]} under account {self.account} not found."
                )
            from_arn = arn[len(prefix) :]
            if name is not None and name != from_arn:
                raise InvalidArgumentException("StreamARN and StreamName do not refer to the same stream.")
            return str(from_arn)
        if name is None:
            raise InvalidArgumentException("Either StreamName or StreamARN must be provided.")
        return str(name)

    def doc(self, name: str) -> StreamDoc | None:
        raw = self.storage.get_item(doc_key(self.namespace, name))
        return None if raw is None else StreamDoc.decode(raw)

    def require(self, name: str) -> StreamDoc:
        doc = self.doc(name)
        if doc is None:
            raise not_found(name, self.account)
        return doc

    def docs(self) -> list[StreamDoc]:
        """This namespace's streams, by name."""
        prefix = self._key_prefix
        return sorted(
            (
                StreamDoc.decode(row.item)
                for row in self.storage.scan(STREAMS_TABLE_ID, 0)
                if row.pk.startswith(prefix)
            ),
            key=lambda d: d.name,
        )

    def every_stream(self) -> list[StreamDoc]:
        """The streams of every namespace (background work: retention)."""
        return [StreamDoc.decode(row.item) for row in self.storage.scan(STREAMS_TABLE_ID, 0)]

    def new_doc(self, name: str, shards: int, mode: str, tags: dict[str, str]) -> tuple[StreamDoc, MetaWrite]:
        from .ops import first_shards

        stored = self.storage.meta_get(COUNTER_KIND, "stream_id")
        stream_id = int(stored) if stored else 1
        first = first_shards(shards)
        doc = StreamDoc(
            name=name,
            arn=self.arn(name),
            stream_id=stream_id,
            status="ACTIVE",
            mode=mode,
            created_at=self.clock.now(),
            retention_hours=DEFAULT_RETENTION_HOURS,
            start_seq=self.storage.last_sequence(),
            first=first,
            open=first,
            next_slot=shards,
            tags=tuple(sorted(tags.items())),
        )
        return doc, MetaWrite(COUNTER_KIND, "stream_id", str(stream_id + 1).encode())

    def open_shard_count(self) -> int:
        return sum(len(d.open) for d in self.docs())

    # -- shards

    def shards(self, doc: StreamDoc) -> list[Shard]:
        markers = self.storage.stream_records(doc.stream_id, CONTROL_SLOT, 0, None, 1_000_000)
        return replay(doc.start_seq, doc.created_at, doc.first, markers)

    def visible_shards(self, doc: StreamDoc) -> list[Shard]:
        """Closed shards drop out once they closed longer than the stream's retention period ago."""
        horizon = self.clock.now() - doc.retention_seconds
        return sorted(
            (s for s in self.shards(doc) if s.closed_at is None or s.closed_at >= horizon),
            key=lambda s: s.slot,
        )

    def trim_mark(self, stream_id: int, slot: int) -> int:
        data = self.storage.meta_get(TRIM_MARK_KIND, trim_mark_key(stream_id, slot))
        return 0 if data is None else int(data)

    def shard_wire(self, doc: StreamDoc, shard: Shard) -> dict[str, Any]:
        seq_range = {"StartingSequenceNumber": format_seq(shard.starting, shard.slot)}
        if shard.hi is not None:
            last = self.storage.last_stream_seq(doc.stream_id, shard.slot, shard.lo + 1, shard.hi - 1)
            ending = last if last is not None else max(shard.starting, shard.hi - 1)
            seq_range["EndingSequenceNumber"] = format_seq(ending, shard.slot)
        out: dict[str, Any] = {"ShardId": shard_name(shard.slot)}
        if shard.parents:
            out["ParentShardId"] = shard_name(shard.parents[0][0])
        if len(shard.parents) > 1:
            out["AdjacentParentShardId"] = shard_name(shard.parents[1][0])
        out["HashKeyRange"] = {"StartingHashKey": str(shard.start), "EndingHashKey": str(shard.end)}
        out["SequenceNumberRange"] = seq_range
        return out

    @staticmethod
    def children(shards: list[Shard], key: ShardKey) -> list[Shard]:
        return [s for s in shards if key in s.parents]

    # -- writes

    async def put(self, doc: StreamDoc, puts: list[Put]) -> list[Appended]:
        """Append records (those over a shard's write throughput are refused, as Kinesis refuses them)
        and answer each one's shard and sequence number."""
        now = self.clock.now()
        routes = [doc.route(put.hash_key) for put in puts]
        throttled: dict[int, int] = {}
        if doc.mode == "PROVISIONED":
            by_slot: dict[int, list[int]] = {}
            for i, slot in enumerate(routes):
                by_slot.setdefault(slot, []).append(i)
            for slot, indexes in by_slot.items():
                sizes = [len(puts[i].data) + len(puts[i].partition_key) for i in indexes]
                fits = await self.throttle.write((doc.stream_id, slot), sizes, now)
                throttled.update((i, slot) for i, fit in zip(indexes, fits, strict=True) if not fit)
        accepted = [i for i in range(len(puts)) if i not in throttled]
        out: dict[int, Appended] = {
            i: Appended(shard_name(slot), None, slot) for i, slot in throttled.items()
        }
        if accepted:
            payloads = tuple((puts[i].hash_key, pack(puts[i].partition_key, puts[i].data)) for i in accepted)
            (_, slots), numbers = await self.storage.write(
                PutRecordsOp(doc.name, self.namespace, payloads, now)
            )
            for seq, i, slot in zip(numbers, accepted, slots, strict=True):
                out[i] = Appended(shard_name(slot), format_seq(seq, slot), slot)
        return [out[i] for i in range(len(puts))]

"""Kinesis write operations: each reads the stream's document in the single writer (see docs.py) and
commits the document, its records and its shard boundary markers together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..model.namespace import Namespace
from ..shardlog.markers import SlotRange, marker, reshard
from ..storage.base import CatalogView, ItemKey, ItemWrite, MetaWrite, Numbered, StreamWrite, WriteSet
from .docs import ACTIVE_STATES, StreamDoc, doc_key
from .errors import (
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from .hashing import shard_name, uniform_ranges


def not_found(name: str, account: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Stream {name} under account {account} not found.")


def not_active(doc: StreamDoc, account: str) -> ResourceInUseException:
    return ResourceInUseException(
        f"Stream {doc.name} under account {account} not ACTIVE, instead in state {doc.status}"
    )


def _doc(old: bytes | None, name: str, account: str) -> StreamDoc:
    if old is None:
        raise not_found(name, account)
    return StreamDoc.decode(old)


@dataclass(frozen=True, slots=True)
class CreateStreamOp:
    doc: StreamDoc
    namespace: Namespace
    counter: MetaWrite  # the next stream id, committed with the stream

    @property
    def account(self) -> str:
        return self.namespace.account

    @property
    def keys(self) -> Sequence[ItemKey]:
        return (doc_key(self.namespace, self.doc.name),)

    def resolve(self, catalog: CatalogView) -> CreateStreamOp:
        return self  # no table definition involved

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        if old_items[0] is not None:
            raise ResourceInUseException(
                f"Stream {self.doc.name} under account {self.account} already exists."
            )
        return WriteSet(items=[ItemWrite(self.keys[0], self.doc.encode())], meta=[self.counter])


@dataclass(frozen=True, slots=True)
class DeleteStreamOp:
    """The stream, its records and its markers go at once (DescribeStream answers ResourceNotFound)."""

    name: str
    namespace: Namespace

    @property
    def account(self) -> str:
        return self.namespace.account

    @property
    def keys(self) -> Sequence[ItemKey]:
        return (doc_key(self.namespace, self.name),)

    def resolve(self, catalog: CatalogView) -> DeleteStreamOp:
        return self  # no table definition involved

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        doc = _doc(old_items[0], self.name, self.account)
        return WriteSet(items=[ItemWrite(self.keys[0], None)], drop_streams=[doc.stream_id], result=doc)


@dataclass(frozen=True, slots=True)
class PutRecordsOp:
    """Append records, each routed by its hash key to the shard open for it when the write commits.
    Result: ((the stream's document, each record's slot), the records' sequence numbers in their
    order)."""

    name: str
    namespace: Namespace
    records: tuple[tuple[int, bytes], ...]  # (hash key, stored payload)
    now: float

    @property
    def account(self) -> str:
        return self.namespace.account

    @property
    def keys(self) -> Sequence[ItemKey]:
        return (doc_key(self.namespace, self.name),)

    def resolve(self, catalog: CatalogView) -> PutRecordsOp:
        return self  # no table definition involved

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        doc = _doc(old_items[0], self.name, self.account)
        if doc.status not in ACTIVE_STATES:
            raise not_found(self.name, self.account)
        slots = [doc.route(h) for h, _ in self.records]
        stream = [
            StreamWrite(doc.stream_id, slot, self.now, payload)
            for slot, (_, payload) in zip(slots, self.records, strict=True)
        ]
        return WriteSet(stream=stream, result=Numbered((doc, slots)))


@dataclass(frozen=True, slots=True)
class UpdateStreamOp:
    """Tags and retention: a change of the document alone. `require_active` refuses a stream in any
    other state (retention changes)."""

    name: str
    namespace: Namespace
    add_tags: tuple[tuple[str, str], ...] = ()
    remove_tags: tuple[str, ...] = ()
    retention_hours: int | None = None
    retention_direction: Literal["increase", "decrease", ""] = ""
    max_tags: int = 50

    @property
    def account(self) -> str:
        return self.namespace.account

    @property
    def keys(self) -> Sequence[ItemKey]:
        return (doc_key(self.namespace, self.name),)

    def resolve(self, catalog: CatalogView) -> UpdateStreamOp:
        return self  # no table definition involved

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        doc = _doc(old_items[0], self.name, self.account)
        tags = dict(doc.tags)
        tags.update(self.add_tags)
        for key in self.remove_tags:
            tags.pop(key, None)
        if len(tags) > self.max_tags:
            raise InvalidArgumentException(
                f"Failed to add tags to stream {self.name} under account {self.account} because a given "
                f"stream cannot have more than {self.max_tags} tags associated with it."
            )
        hours = doc.retention_hours
        if self.retention_hours is not None:
            hours = self._retention(doc)
        new = doc.evolve(tags=tuple(sorted(tags.items())), retention_hours=hours)
        return WriteSet(items=[ItemWrite(self.keys[0], new.encode())], result=new)

    def _retention(self, doc: StreamDoc) -> int:
        hours = self.retention_hours or 0
        if doc.status != "ACTIVE":
            raise not_active(doc, self.account)
        if self.retention_direction == "increase" and hours < doc.retention_hours:
            raise InvalidArgumentException(
                f"Requested retention period ({hours} hours) for stream {self.name} can not be shorter than "
                f"existing retention period ({doc.retention_hours} hours). Use DecreaseRetentionPeriod API."
            )
        if self.retention_direction == "decrease" and hours > doc.retention_hours:
            raise InvalidArgumentException(
                f"Requested retention period ({hours} hours) for stream {self.name} can not be longer than "
                f"existing retention period ({doc.retention_hours} hours). Use IncreaseRetentionPeriod API."
            )
        return hours


@dataclass(frozen=True, slots=True)
class ReshardOp:
    """SplitShard, MergeShards or UpdateShardCount: closes shards and opens their children at one marker
    per step, so lineage is exact. UpdateShardCount (UNIFORM_SCALING) is done as Kinesis does it, with
    splits and merges (short-lived shards in between): first every open shard is split at each target
    boundary inside it, then the pieces of each target range are merged left to right."""

    name: str
    namespace: Namespace
    now: float
    kind: Literal["split", "merge", "count"]
    shard: int = 0  # split: the slot to split; merge: the first slot
    other: int = 0  # merge: the adjacent slot
    hash_key: int = 0  # split: the new starting hash key
    target: int = 0  # count: the target shard count
    shard_limit: int = 500

    @property
    def account(self) -> str:
        return self.namespace.account

    @property
    def keys(self) -> Sequence[ItemKey]:
        return (doc_key(self.namespace, self.name),)

    def resolve(self, catalog: CatalogView) -> ReshardOp:
        return self  # no table definition involved

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        doc = _doc(old_items[0], self.name, self.account)
        if self.kind == "split":
            steps = [self._split_step(doc, self.shard, self.hash_key, check=True)]
        elif self.kind == "merge":
            steps = [self._merge_step(doc, self.shard, self.other)]
        else:
            steps = self._scale(doc)
        ws = WriteSet()
        for closed, opened in steps:
            doc = _after(doc, closed, opened)
            ws.stream.append(marker(doc.stream_id, reshard(closed, opened), self.now))
        ws.items.append(ItemWrite(self.keys[0], doc.encode()))
        ws.result = doc
        return ws

    def _find(self, doc: StreamDoc, slot: int) -> SlotRange:
        found = doc.open_range(slot)
        if found is None:
            raise ResourceNotFoundException(
                f"Could not find shard {shard_name(slot)} in stream {doc.name} under account {self.account}."
            )
        return found

    def _split_step(
        self, doc: StreamDoc, slot: int, at: int, *, check: bool = False
    ) -> tuple[tuple[int, ...], tuple[SlotRange, ...]]:
        shard = self._find(doc, slot)
        if check and not (shard.start + 1 < at <= shard.end):
            raise InvalidArgumentException(
                f"NewStartingHashKey {at} used in SplitShard() on shard {shard_name(slot)} in stream "
                f"{doc.name} under account {self.account} is not both greater than one plus the shard's "
                f"StartingHashKey {shard.start} and less than the shard's EndingHashKey {shard.end}."
            )
        if check:
            self._check_active(doc)
            self._check_limit(doc, 1)
        left = SlotRange(doc.next_slot, shard.start, at - 1, (slot,))
        right = SlotRange(doc.next_slot + 1, at, shard.end, (slot,))
        return (slot,), (left, right)

    def _merge_step(self, doc: StreamDoc, a: int, b: int) -> tuple[tuple[int, ...], tuple[SlotRange, ...]]:
        first, second = self._find(doc, a), self._find(doc, b)
        if first.end + 1 != second.start:
            raise InvalidArgumentException(
                f"Shards {shard_name(a)} and {shard_name(b)} in stream {doc.name} under account "
                f"{self.account} are not an adjacent pair of shards eligible for merging"
            )
        self._check_active(doc)
        return (a, b), (SlotRange(doc.next_slot, first.start, second.end, (a, b)),)

    def _scale(self, doc: StreamDoc) -> list[tuple[tuple[int, ...], tuple[SlotRange, ...]]]:
        self._check_active(doc)
        current = len(doc.open)
        if self.target == current:
            return []
        if self.target > current * 2 or self.target * 2 < current:
            raise scale_error(doc, self.account, current, self.target)
        self._check_limit(doc, self.target - current)
        targets = uniform_ranges(self.target)
        steps: list[tuple[tuple[int, ...], tuple[SlotRange, ...]]] = []
        work = doc
        for start, _ in targets[1:]:  # split at every target boundary inside an open shard
            for r in work.open:
                if r.start < start <= r.end:
                    step = self._split_step(work, r.slot, start)
                    steps.append(step)
                    work = _after(work, *step)
                    break
        for start, end in targets:  # merge the pieces of each target range, left to right
            while True:
                pieces = [r for r in work.open if start <= r.start and r.end <= end]
                if len(pieces) < 2:
                    break
                step = self._merge_step(work, pieces[0].slot, pieces[1].slot)
                steps.append(step)
                work = _after(work, *step)
        return steps

    def _check_active(self, doc: StreamDoc) -> None:
        if doc.status != "ACTIVE":
            raise not_active(doc, self.account)

    def _check_limit(self, doc: StreamDoc, extra: int) -> None:
        if len(doc.open) + extra > self.shard_limit:
            raise shard_limit_error(self.account, len(doc.open), self.shard_limit, extra)


def shard_limit_error(account: str, current: int, limit: int, extra: int) -> LimitExceededException:
    return LimitExceededException(
        f"This request would exceed the shard limit for the account {account}. Current shard count for "
        f"the stream: {current}. Limit: {limit}. Number of additional shards that would have resulted "
        f"from this request: {extra}."
    )


def scale_error(doc: StreamDoc, account: str, current: int, target: int) -> InvalidArgumentException:
    verb, bound = ("up", "double") if target > current else ("down", "half")
    return InvalidArgumentException(
        f"UpdateShardCount cannot scale {verb} to {target} shards for stream {doc.name} under account "
        f"{account}: the target must be at most {bound} the current open shard count ({current})."
    )


def _after(doc: StreamDoc, closed: tuple[int, ...], opened: tuple[SlotRange, ...]) -> StreamDoc:
    still = [r for r in doc.open if r.slot not in closed]
    return doc.evolve(
        open=tuple(sorted((*still, *opened), key=lambda r: r.start)),
        next_slot=max(doc.next_slot, *(o.slot + 1 for o in opened)),
    )


def first_shards(count: int) -> tuple[SlotRange, ...]:
    return tuple(SlotRange(i, start, end) for i, (start, end) in enumerate(uniform_ranges(count)))

"""Where a reader is in each shard: the last sequence number handled, or that the shard is done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ShardCheckpoint:
    """`sequence_number`: last record handled (resume AFTER it). `finished`: a closed shard fully read.

    `iterator`: a LATEST iterator taken when reading started and no record has been handled yet, so a
    reader created at LATEST does not miss writes made before its first poll.
    """

    sequence_number: str | None = None
    finished: bool = False
    iterator: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.sequence_number is not None:
            doc["seq"] = self.sequence_number
        if self.finished:
            doc["finished"] = True
        if self.iterator is not None:
            doc["iterator"] = self.iterator
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ShardCheckpoint:
        return cls(doc.get("seq"), bool(doc.get("finished", False)), doc.get("iterator"))


class CheckpointStore(Protocol):
    async def load(self, stream_arn: str) -> dict[str, ShardCheckpoint]: ...

    async def save(self, stream_arn: str, shard_id: str, checkpoint: ShardCheckpoint) -> None: ...


class MemoryCheckpoints:
    """Checkpoints that live as long as the object (tests, one-off tails)."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, ShardCheckpoint]] = {}

    async def load(self, stream_arn: str) -> dict[str, ShardCheckpoint]:
        return dict(self._data.get(stream_arn, {}))

    async def save(self, stream_arn: str, shard_id: str, checkpoint: ShardCheckpoint) -> None:
        self._data.setdefault(stream_arn, {})[shard_id] = checkpoint

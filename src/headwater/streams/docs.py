"""The stream document kept in meta (kind "stream"), written by core.tables when a stream opens/closes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

STREAM_KIND = "stream"


def stream_key(stream_id: int) -> str:
    return f"{stream_id:012d}"


@dataclass(frozen=True, slots=True)
class StreamDoc:
    stream_id: int
    table_id: int
    table_name: str
    label: str
    arn: str
    view_type: str
    key: list[dict[str, str]]
    created_at: float
    status: str
    disabled_at: float | None
    shards: int
    start_seq: int  # every record of the stream has a greater sequence number

    @classmethod
    def decode(cls, data: bytes) -> StreamDoc:
        doc: dict[str, Any] = orjson.loads(data)
        return cls(
            stream_id=doc["stream_id"],
            table_id=doc["table_id"],
            table_name=doc["table_name"],
            label=doc["label"],
            arn=doc["arn"],
            view_type=doc["view_type"],
            key=doc["key"],
            created_at=doc["created_at"],
            status=doc["status"],
            disabled_at=doc.get("disabled_at"),
            shards=doc.get("shards") or 1,
            start_seq=doc.get("start_seq") or 0,
        )

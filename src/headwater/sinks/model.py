"""A sink as a value, with its stored form."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SINK_KIND = "sink"
CHECKPOINT_KIND = "sink.checkpoint"  # key: "<sink name>/<shard id>"


@dataclass(frozen=True, slots=True)
class SinkConfig:
    name: str
    table: str
    stream_arn: str  # the table's DynamoDB stream when the sink was added
    nats_url: str
    subject: str
    created_at: float

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SinkConfig:
        return cls(**doc)

    def to_wire(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "TableName": self.table,
            "StreamArn": self.stream_arn,
            "Nats": self.nats_url,
            "Subject": self.subject,
        }

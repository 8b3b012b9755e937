"""Table, index, stream and TTL specifications: frozen values, serialised into the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .namespace import Namespace

KeyType = Literal["S", "N", "B"]
ProjectionType = Literal["ALL", "KEYS_ONLY", "INCLUDE"]
StreamViewType = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


@dataclass(frozen=True, slots=True)
class KeyAttribute:
    name: str
    type: KeyType


@dataclass(frozen=True, slots=True)
class KeySchema:
    """HASH attributes, then RANGE attributes, each in KeySchema order.

    Tables and LSIs have one HASH and at most one RANGE attribute; a GSI may have up to four of each
    (multi-attribute keys: the partition key is the tuple of the HASH values, the sort key the tuple of
    the RANGE values, compared attribute by attribute).
    """

    hashes: tuple[KeyAttribute, ...]
    ranges: tuple[KeyAttribute, ...] = ()
    # the attribute names, HASH first: made once (every write's stream or Kinesis record lists its keys)
    names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(attr.name for attr in (*self.hashes, *self.ranges)))

    @classmethod
    def single(cls, hash_key: KeyAttribute, range_key: KeyAttribute | None = None) -> KeySchema:
        return cls((hash_key,), (range_key,) if range_key is not None else ())

    @property
    def composite(self) -> bool:
        """More than one HASH or more than one RANGE attribute (a multi-attribute GSI key)."""
        return len(self.hashes) > 1 or len(self.ranges) > 1

    @property
    def hash(self) -> KeyAttribute:
        """The partition key attribute of a single-attribute schema (every table and LSI)."""
        if len(self.hashes) != 1:
            raise TypeError("a multi-attribute partition key has no single hash attribute")
        return self.hashes[0]

    @property
    def range(self) -> KeyAttribute | None:
        """The sort key attribute of a single-attribute schema, if any."""
        if len(self.ranges) > 1:
            raise TypeError("a multi-attribute sort key has no single range attribute")
        return self.ranges[0] if self.ranges else None

    def to_wire(self) -> list[dict[str, str]]:
        return [{"AttributeName": a.name, "KeyType": "HASH"} for a in self.hashes] + [
            {"AttributeName": a.name, "KeyType": "RANGE"} for a in self.ranges
        ]


@dataclass(frozen=True, slots=True)
class Projection:
    type: ProjectionType = "ALL"
    non_key_attributes: tuple[str, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ProjectionType": self.type}
        if self.type == "INCLUDE":
            out["NonKeyAttributes"] = list(self.non_key_attributes)
        return out


@dataclass(frozen=True, slots=True)
class Throughput:
    read: int = 0
    write: int = 0


@dataclass(frozen=True, slots=True)
class IndexSpec:
    index_id: int  # storage id, unique within the table (the table itself is 0)
    name: str
    kind: Literal["GSI", "LSI"]
    key: KeySchema
    projection: Projection
    throughput: Throughput = Throughput()
    status: str = "ACTIVE"
    backfilling: bool = False


@dataclass(frozen=True, slots=True)
class StreamSpec:
    enabled: bool
    view_type: StreamViewType | None = None
    shards: int = 1  # open shards (slots); an item's records go to slot partition_hash % shards


@dataclass(frozen=True, slots=True)
class TtlSpec:
    attribute: str | None = None
    status: Literal["ENABLED", "DISABLED", "ENABLING", "DISABLING"] = "DISABLED"


DestinationStatus = Literal["ENABLING", "ACTIVE", "DISABLING", "DISABLED", "ENABLE_FAILED", "UPDATING"]


@dataclass(frozen=True, slots=True)
class KinesisDestination:
    """A Kinesis data stream the table's changes are written to (Kinesis Data Streams for DynamoDB)."""

    stream_arn: str
    stream_name: str
    status: DestinationStatus
    precision: Literal["MILLISECOND", "MICROSECOND"] = "MILLISECOND"
    region: str = "us-east-1"

    @property
    def capturing(self) -> bool:
        return self.status in ("ACTIVE", "UPDATING")


ReplicaStatus = Literal["CREATING", "CREATION_FAILED", "UPDATING", "DELETING", "ACTIVE"]


@dataclass(frozen=True, slots=True)
class ReplicaSpec:
    """Another region's replica of a global table (version 2019.11.21), as this region's table knows it.

    `settings` keeps what the replica's Create/Update said that changes nothing here (KMS key, table
    class, throughput overrides, its GSIs' settings), to describe it back."""

    region: str
    status: ReplicaStatus = "ACTIVE"
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """Everything DescribeTable says about a table, plus the storage id."""

    table_id: int
    name: str
    table_uuid: str
    key: KeySchema
    attribute_definitions: tuple[KeyAttribute, ...]
    created_at: float
    namespace: Namespace  # the account and region it lives in
    status: str = "ACTIVE"
    billing_mode: Literal["PROVISIONED", "PAY_PER_REQUEST"] = "PROVISIONED"
    billing_mode_updated_at: float | None = None
    throughput: Throughput = Throughput()
    indexes: tuple[IndexSpec, ...] = ()
    stream: StreamSpec = StreamSpec(enabled=False)
    stream_id: int | None = None  # the latest stream (streams live on after being disabled)
    ttl: TtlSpec = TtlSpec()
    tags: tuple[tuple[str, str], ...] = ()
    sse: dict[str, Any] | None = None
    table_class: str = "STANDARD"
    deletion_protection: bool = False
    kinesis: tuple[KinesisDestination, ...] = ()
    replicas: tuple[ReplicaSpec, ...] = ()  # the other regions' replicas: non-empty for a global table
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return self.namespace.arn("dynamodb", f"table/{self.name}")

    @property
    def is_global(self) -> bool:
        return bool(self.replicas)

    def replica(self, region: str) -> ReplicaSpec | None:
        for spec in self.replicas:
            if spec.region == region:
                return spec
        return None

    def index(self, name: str) -> IndexSpec | None:
        for spec in self.indexes:
            if spec.name == name:
                return spec
        return None

    def evolve(self, **changes: Any) -> TableSpec:
        return replace(self, **changes)

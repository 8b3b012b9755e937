"""A global table's replicas on this server: each region's table lists the other regions' replicas."""

from __future__ import annotations

from typing import Any

from ..model.namespace import Namespace
from ..model.schema import ReplicaSpec, TableSpec
from .database import Database

SOURCE = "replica_source"  # TableSpec.extra: the region a CREATING replica is copied from
# ReplicaSpec.settings: changes of the table's settings (TTL, indexes) not yet made on the replica's
# server; the replica is UPDATING until the replication service has sent them (in order)
PENDING = "pending"


def group(db: Database, table: TableSpec) -> list[TableSpec]:
    """The other regions' replicas of `table` that live on this server."""
    out = []
    for replica in table.replicas:
        spec = db.scoped(Namespace(table.namespace.account, replica.region)).catalog.get(table.name)
        if spec is not None and spec.status != "DELETING":
            out.append(spec)
    return out


def with_replica(table: TableSpec, replica: ReplicaSpec) -> TableSpec:
    others = tuple(r for r in table.replicas if r.region != replica.region)
    return table.evolve(replicas=tuple(sorted((*others, replica), key=lambda r: r.region)))


def without_replica(table: TableSpec, region: str) -> TableSpec:
    return table.evolve(replicas=tuple(r for r in table.replicas if r.region != region))


def stream_arn(table: TableSpec) -> str | None:
    """The table's latest stream ARN, if it has one."""
    label = table.extra.get("stream_label")
    return f"{table.arn}/stream/{label}" if table.stream.enabled and label else None


def with_pending(table: TableSpec, remote: frozenset[str], change: dict[str, Any]) -> TableSpec:
    """`table` with `change` (a settings request) to be sent to each of its replicas in `remote` (the
    regions of other servers): those replicas UPDATING until it is."""
    replicas = []
    for replica in table.replicas:
        if replica.region in remote and replica.status in ("ACTIVE", "UPDATING"):
            settings = dict(replica.settings)
            settings[PENDING] = [*settings.get(PENDING, ()), change]
            replica = ReplicaSpec(replica.region, "UPDATING", settings)
        replicas.append(replica)
    return table.evolve(replicas=tuple(replicas))

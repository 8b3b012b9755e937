"""The DAX control plane's state: one metadata document per cluster, parameter group and subnet group,
keyed `<account>/<region>/<name>`, and the namespace's recent events. Read from storage on every call
(small documents); changed only by the core process, under `DaxRuntime.lock`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from ..core.catalog import MetaOp
from ..model.namespace import Namespace
from ..storage.base import MetaWrite, Storage

CLUSTER_KIND: Final = "dax_cluster"
PARAMETER_GROUP_KIND: Final = "dax_parameter_group"
SUBNET_GROUP_KIND: Final = "dax_subnet_group"
EVENT_KIND: Final = "dax_event"
EVENT_RETENTION_SECONDS: Final = 14 * 24 * 3600  # DescribeEvents reaches 14 days back

DEFAULT_PARAMETER_GROUP: Final = "default.dax1.0"
DEFAULT_SUBNET_GROUP: Final = "default"
QUERY_TTL: Final = "query-ttl-millis"
RECORD_TTL: Final = "record-ttl-millis"
DEFAULT_TTL_MILLIS: Final = "300000"  # five minutes, both caches
DEFAULT_PARAMETERS: Final = {QUERY_TTL: DEFAULT_TTL_MILLIS, RECORD_TTL: DEFAULT_TTL_MILLIS}

_event_numbers = itertools.count()  # orders the events of one instant (process-wide, never reset)


def cluster_arn(namespace: Namespace, name: str) -> str:
    return f"arn:aws:dax:{namespace.region}:{namespace.account}:cache/{name}"


@dataclass(frozen=True, slots=True)
class Event:
    source_name: str
    source_type: str  # CLUSTER | PARAMETER_GROUP | SUBNET_GROUP
    message: str


class DaxCatalog:
    """One namespace's DAX documents."""

    def __init__(self, storage: Storage, namespace: Namespace) -> None:
        self.storage = storage
        self.namespace = namespace

    def key(self, name: str) -> str:
        return f"{self.namespace.account}/{self.namespace.region}/{name}"

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        found = self.storage.meta_get(kind, self.key(name))
        return None if found is None else dict(orjson.loads(found))

    def every(self, kind: str) -> list[dict[str, Any]]:
        """The namespace's documents of `kind`, by name."""
        prefix = self.key("")
        return [
            dict(orjson.loads(value)) for key, value in self.storage.meta_list(kind) if key.startswith(prefix)
        ]

    def writes(self, kind: str, name: str, doc: dict[str, Any] | None) -> MetaWrite:
        return MetaWrite(kind, self.key(name), None if doc is None else orjson.dumps(doc))

    async def save(self, writes: Sequence[MetaWrite], events: Sequence[Event], now: float) -> None:
        """Commit `writes` and record `events`, dropping events past their retention, all together."""
        found = [*writes]
        for event in events:
            key = self.key(f"{now:017.6f}/{next(_event_numbers):012d}")
            doc = {"SourceName": event.source_name, "SourceType": event.source_type, "Message": event.message}
            found.append(MetaWrite(EVENT_KIND, key, orjson.dumps({**doc, "Date": now})))
        if events:
            prefix = self.key("")
            cut = self.key(f"{now - EVENT_RETENTION_SECONDS:017.6f}")
            for key, _ in self.storage.meta_list(EVENT_KIND):
                if key.startswith(prefix) and key < cut:
                    found.append(MetaWrite(EVENT_KIND, key, None))
        await self.storage.write(MetaOp(tuple(found)))

    def events(self) -> list[dict[str, Any]]:
        """The namespace's events, oldest first."""
        return self.every(EVENT_KIND)

    def parameter_group(self, name: str) -> dict[str, Any] | None:
        """A parameter group's document ({"ParameterGroupName", "Description", "Parameters": {...}});
        the default group always exists."""
        if name == DEFAULT_PARAMETER_GROUP:
            return {
                "ParameterGroupName": DEFAULT_PARAMETER_GROUP,
                "Description": "Default parameter group for dax1.0",
                "Parameters": dict(DEFAULT_PARAMETERS),
            }
        return self.get(PARAMETER_GROUP_KIND, name)

    def parameter_groups(self) -> list[dict[str, Any]]:
        default = self.parameter_group(DEFAULT_PARAMETER_GROUP)
        assert default is not None
        return [default, *self.every(PARAMETER_GROUP_KIND)]

    def subnet_group(self, name: str) -> dict[str, Any] | None:
        if name == DEFAULT_SUBNET_GROUP:
            return default_subnet_group(self.namespace)
        return self.get(SUBNET_GROUP_KIND, name)

    def subnet_groups(self) -> list[dict[str, Any]]:
        return [default_subnet_group(self.namespace), *self.every(SUBNET_GROUP_KIND)]


def default_subnet_group(namespace: Namespace) -> dict[str, Any]:
    return {
        "SubnetGroupName": DEFAULT_SUBNET_GROUP,
        "Description": "Default subnet group",
        "VpcId": "vpc-headwater",
        "Subnets": [],
    }

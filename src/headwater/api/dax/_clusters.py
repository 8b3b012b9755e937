"""Clusters as documents: what a cluster document holds, its description as the API shows it, and the
status changes that follow a request (creating, modifying, deleting -> available or gone)."""

from __future__ import annotations

import logging
import string
from typing import Any

import orjson

from ...core.database import Database
from ...core.namespace import Namespace
from ...dax.catalog import CLUSTER_KIND, Event
from ...dax.errors import ClusterNotFoundFault, InvalidClusterStateFault
from ...dax.names import cluster_name

log = logging.getLogger(__name__)

AVAILABLE = "available"
CREATING = "creating"
MODIFYING = "modifying"
DELETING = "deleting"
REBOOTING = "rebooting"


def find(db: Database, name: str) -> dict[str, Any]:
    """The cluster document named `name` (any case), or ClusterNotFoundFault."""
    found = db.dax.get(CLUSTER_KIND, name.lower())
    if found is None:
        raise ClusterNotFoundFault(f"Cluster {name} not found.")
    return found


def available(db: Database, name: str) -> dict[str, Any]:
    """The cluster document, which must be available."""
    doc = find(db, name)
    if doc["Status"] != AVAILABLE:
        raise InvalidClusterStateFault(f"Cluster {doc['ClusterName']} is not in the available state.")
    return doc


def valid_name(value: str) -> str:
    return cluster_name(value)


def node_id(cluster: str, index: int) -> str:
    """`<cluster>-a`, `-b`, ... `-z`, then `-aa`, ..."""
    letters = string.ascii_lowercase
    suffix = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        suffix = letters[rest] + suffix
    return f"{cluster}-{suffix}"


def new_nodes(
    doc: dict[str, Any], count: int, zones: list[str], now: float, region: str
) -> list[dict[str, Any]]:
    taken = {node["NodeId"] for node in doc["Nodes"]}
    made: list[dict[str, Any]] = []
    index = 0
    while len(made) < count:
        candidate = node_id(doc["ClusterName"], index)
        index += 1
        if candidate in taken:
            continue
        zone = (
            zones[len(made)] if len(made) < len(zones) else f"{region}{'abc'[(len(taken) + len(made)) % 3]}"
        )
        made.append(
            {"NodeId": candidate, "NodeCreateTime": now, "AvailabilityZone": zone, "NodeStatus": CREATING}
        )
    return made


def describe(db: Database, doc: dict[str, Any]) -> dict[str, Any]:
    """The API's Cluster: endpoints and node lists follow the status (a creating cluster shows only its
    own fields, a node being added no endpoint yet)."""
    address = db.dax_runtime.address
    port = doc["Port"]
    out = {k: v for k, v in doc.items() if k not in ("Nodes", "Port", "Tags")}
    nodes = doc["Nodes"]
    out["TotalNodes"] = len(nodes)
    out["ActiveNodes"] = sum(node["NodeStatus"] == AVAILABLE for node in nodes)
    if doc["Status"] == CREATING:
        out["ClusterDiscoveryEndpoint"] = {"Port": port}
    else:
        out["ClusterDiscoveryEndpoint"] = {"Address": address, "Port": port, "URL": f"dax://{address}:{port}"}
    if doc["Status"] not in (CREATING, DELETING):
        shown = []
        for node in nodes:
            node = dict(node)
            if node["NodeStatus"] != CREATING:
                node["Endpoint"] = {"Address": address, "Port": port, "URL": f"dax://{address}:{port}"}
                node["ParameterGroupStatus"] = "in-sync"
            shown.append(node)
        out["Nodes"] = shown
    return out


async def save(db: Database, doc: dict[str, Any] | None, name: str, *events: str) -> None:
    await db.dax.save(
        [db.dax.writes(CLUSTER_KIND, name, doc)],
        [Event(name, "CLUSTER", message) for message in events],
        db.clock.now(),
    )


def settle_later(db: Database, name: str) -> None:
    """Finish the cluster's change after the server's status delay: creating, modifying and rebooting
    become available, removed nodes go, a deleting cluster goes with its listener."""

    async def settle() -> None:
        async with db.dax_runtime.lock:
            doc = db.dax.get(CLUSTER_KIND, name)
            if doc is None:
                return
            status = doc["Status"]
            if status == DELETING:
                await db.dax_runtime.close(doc["ClusterArn"])  # first: a cluster gone serves nothing
                await save(db, None, name, "Cluster deleted.")
                return
            leaving = set(doc.pop("NodeIdsToRemove", ()))
            doc["Nodes"] = [
                dict(node, NodeStatus=AVAILABLE) for node in doc["Nodes"] if node["NodeId"] not in leaving
            ]
            doc["Status"] = AVAILABLE
            message = "Cluster created." if status == CREATING else "Cluster modified."
            await save(db, doc, name, message)

    db.later(db.settings.table_status_delay, settle)


async def restore(db: Database) -> None:
    """At start: listen again for every namespace's clusters (on their ports when free) and finish the
    changes a stop interrupted."""
    for _, value in db.storage.meta_list(CLUSTER_KIND):
        doc = orjson.loads(value)
        _, _, _, region, account, _ = doc["ClusterArn"].split(":", 5)
        view = db.scoped(Namespace(account, region))
        name = doc["ClusterName"]
        port = await db.dax_runtime.listen(doc["ClusterArn"], doc["Port"])
        if port != doc["Port"]:
            doc["Port"] = port
            await save(view, doc, name)
        if doc["Status"] != AVAILABLE:
            settle_later(view, name)

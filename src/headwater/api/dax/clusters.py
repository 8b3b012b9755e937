"""CreateCluster, DescribeClusters, UpdateCluster, DeleteCluster, IncreaseReplicationFactor,
DecreaseReplicationFactor, RebootNode."""

from __future__ import annotations

import re
from typing import Any

from ...core.database import Database
from ...dax.catalog import CLUSTER_KIND, DEFAULT_PARAMETER_GROUP, DEFAULT_SUBNET_GROUP, cluster_arn
from ...dax.errors import (
    ClusterAlreadyExistsFault,
    InvalidClusterStateFault,
    InvalidParameterCombinationException,
    InvalidParameterValueException,
    NodeNotFoundFault,
    ParameterGroupNotFoundFault,
    SubnetGroupNotFoundFault,
)
from ...dax.names import node_type, page, replication_factor
from ._clusters import (
    CREATING,
    DELETING,
    MODIFYING,
    REBOOTING,
    available,
    describe,
    find,
    new_nodes,
    save,
    settle_later,
    valid_name,
)
from ._tags import check_tags

_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
DEFAULT_WINDOW = "sun:05:00-sun:06:00"


def _parameter_group(db: Database, name: str) -> str:
    if db.dax.parameter_group(name) is None:
        raise ParameterGroupNotFoundFault(f"Parameter group {name} not found.")
    return name


async def create_cluster(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = valid_name(request["ClusterName"])
    kind = node_type(request["NodeType"])
    count = replication_factor(request["ReplicationFactor"])
    role = request["IamRoleArn"]
    if not _ROLE_ARN.fullmatch(role):
        raise InvalidParameterValueException(f"Invalid IAM role ARN: {role}")
    zones = list(request.get("AvailabilityZones") or ())
    if zones and len(zones) != count:
        raise InvalidParameterCombinationException(
            "The number of Availability Zones must equal the replication factor."
        )
    subnet_group = request.get("SubnetGroupName", DEFAULT_SUBNET_GROUP)
    if db.dax.subnet_group(subnet_group) is None:
        raise SubnetGroupNotFoundFault(f"Subnet group {subnet_group} not found.")
    parameter_group = _parameter_group(db, request.get("ParameterGroupName", DEFAULT_PARAMETER_GROUP))
    tags = check_tags(request.get("Tags") or [], [])
    async with db.dax_runtime.lock:
        if db.dax.get(CLUSTER_KIND, name) is not None:
            raise ClusterAlreadyExistsFault(f"Cluster {name} already exists.")
        arn = cluster_arn(db.namespace, name)
        port = await db.dax_runtime.listen(arn)
        now = db.clock.now()
        doc: dict[str, Any] = {
            "ClusterName": name,
            "ClusterArn": arn,
            "NodeType": kind,
            "Status": CREATING,
            "Nodes": [],
            "PreferredMaintenanceWindow": request.get("PreferredMaintenanceWindow", DEFAULT_WINDOW),
            "SubnetGroup": subnet_group,
            "SecurityGroups": [
                {"SecurityGroupIdentifier": group, "Status": "active"}
                for group in request.get("SecurityGroupIds") or ()
            ],
            "IamRoleArn": role,
            "ParameterGroup": {
                "ParameterGroupName": parameter_group,
                "ParameterApplyStatus": "in-sync",
                "NodeIdsToReboot": [],
            },
            "SSEDescription": {
                "Status": "ENABLED" if (request.get("SSESpecification") or {}).get("Enabled") else "DISABLED"
            },
            "ClusterEndpointEncryptionType": request.get("ClusterEndpointEncryptionType", "NONE"),
            "NetworkType": request.get("NetworkType", "ipv4"),
            "Port": port,
            "Tags": tags,
        }
        if "Description" in request:
            doc["Description"] = request["Description"]
        if "NotificationTopicArn" in request:
            doc["NotificationConfiguration"] = {
                "TopicArn": request["NotificationTopicArn"],
                "TopicStatus": "active",
            }
        doc["Nodes"] = new_nodes(doc, count, zones, now, db.region)
        await save(db, doc, name, "Cluster creation started.")
    settle_later(db, name)
    return {"Cluster": describe(db, doc)}


async def describe_clusters(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    names = request.get("ClusterNames")
    if names:
        docs = [find(db, name) for name in names]
    else:
        docs = sorted(db.dax.every(CLUSTER_KIND), key=lambda doc: str(doc["ClusterName"]))
    shown, token = page(request, docs)
    answer: dict[str, Any] = {"Clusters": [describe(db, doc) for doc in shown]}
    if token is not None:
        answer["NextToken"] = token
    return answer


async def update_cluster(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.dax_runtime.lock:
        doc = available(db, request["ClusterName"])
        if "Description" in request:
            doc["Description"] = request["Description"]
        if "PreferredMaintenanceWindow" in request:
            doc["PreferredMaintenanceWindow"] = request["PreferredMaintenanceWindow"]
        if "NotificationTopicArn" in request or "NotificationTopicStatus" in request:
            current = doc.get("NotificationConfiguration") or {}
            topic = request.get("NotificationTopicArn", current.get("TopicArn"))
            if topic is None:
                raise InvalidParameterCombinationException(
                    "NotificationTopicStatus needs a NotificationTopicArn."
                )
            status = request.get("NotificationTopicStatus", current.get("TopicStatus", "active"))
            if status not in ("active", "inactive"):
                raise InvalidParameterValueException(f"Invalid NotificationTopicStatus: {status}")
            doc["NotificationConfiguration"] = {"TopicArn": topic, "TopicStatus": status}
        if "ParameterGroupName" in request:
            doc["ParameterGroup"]["ParameterGroupName"] = _parameter_group(db, request["ParameterGroupName"])
        if "SecurityGroupIds" in request:
            doc["SecurityGroups"] = [
                {"SecurityGroupIdentifier": group, "Status": "active"}
                for group in request["SecurityGroupIds"]
            ]
        await save(db, doc, doc["ClusterName"], "Cluster modified.")
    return {"Cluster": describe(db, doc)}


async def delete_cluster(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.dax_runtime.lock:
        doc = find(db, request["ClusterName"])
        if doc["Status"] == DELETING:
            raise InvalidClusterStateFault(f"Cluster {doc['ClusterName']} is already being deleted.")
        doc["Status"] = DELETING
        await save(db, doc, doc["ClusterName"], "Cluster deletion started.")
    settle_later(db, doc["ClusterName"])
    return {"Cluster": describe(db, doc)}


async def increase_replication_factor(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.dax_runtime.lock:
        doc = available(db, request["ClusterName"])
        target = replication_factor(request["NewReplicationFactor"])
        current = len(doc["Nodes"])
        if target <= current:
            raise InvalidParameterValueException(
                f"The new replication factor ({target}) must be greater than the current one ({current})."
            )
        zones = list(request.get("AvailabilityZones") or ())
        if zones and len(zones) != target - current:
            raise InvalidParameterCombinationException(
                "The number of Availability Zones must equal the number of nodes added."
            )
        doc["Nodes"] += new_nodes(doc, target - current, zones, db.clock.now(), db.region)
        doc["Status"] = MODIFYING
        await save(db, doc, doc["ClusterName"], f"Adding {target - current} node(s).")
    settle_later(db, doc["ClusterName"])
    return {"Cluster": describe(db, doc)}


async def decrease_replication_factor(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.dax_runtime.lock:
        doc = available(db, request["ClusterName"])
        target = replication_factor(request["NewReplicationFactor"])
        nodes = [node["NodeId"] for node in doc["Nodes"]]
        if target >= len(nodes):
            raise InvalidParameterValueException(
                f"The new replication factor ({target}) must be less than the current one ({len(nodes)})."
            )
        chosen = list(request.get("NodeIdsToRemove") or ())
        for node in chosen:
            if node not in nodes:
                raise NodeNotFoundFault(f"Node {node} not found in cluster {doc['ClusterName']}.")
        if chosen and len(set(chosen)) != len(nodes) - target:
            raise InvalidParameterCombinationException(
                "The number of NodeIdsToRemove must equal the number of nodes removed."
            )
        doc["NodeIdsToRemove"] = chosen or nodes[target:]
        doc["Status"] = MODIFYING
        await save(db, doc, doc["ClusterName"], f"Removing {len(nodes) - target} node(s).")
    settle_later(db, doc["ClusterName"])
    return {"Cluster": describe(db, doc)}


async def reboot_node(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.dax_runtime.lock:
        doc = available(db, request["ClusterName"])
        wanted = request["NodeId"]
        for node in doc["Nodes"]:
            if node["NodeId"] == wanted:
                node["NodeStatus"] = REBOOTING
                caches = db.dax_runtime.caches.get(doc["ClusterArn"])
                if caches is not None:  # a node that restarts starts with empty caches
                    caches.clear()
                break
        else:
            raise NodeNotFoundFault(f"Node {wanted} not found in cluster {doc['ClusterName']}.")
        doc["Status"] = MODIFYING
        await save(db, doc, doc["ClusterName"], f"Rebooting node {wanted}.")
    settle_later(db, doc["ClusterName"])
    return {"Cluster": describe(db, doc)}

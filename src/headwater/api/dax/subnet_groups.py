"""CreateSubnetGroup, DescribeSubnetGroups, UpdateSubnetGroup, DeleteSubnetGroup. Headwater has no VPC:
a group records its subnets, each placed in one of the region's zones, and the `default` group always
exists."""

from __future__ import annotations

import re
from typing import Any

from ...core.database import Database
from ...dax.catalog import CLUSTER_KIND, DEFAULT_SUBNET_GROUP, SUBNET_GROUP_KIND, Event
from ...dax.errors import (
    InvalidParameterValueException,
    SubnetGroupAlreadyExistsFault,
    SubnetGroupInUseFault,
    SubnetGroupNotFoundFault,
)
from ...dax.names import group_name, page

_SUBNET = re.compile(r"subnet-[0-9a-f]{1,32}")
MAX_SUBNETS = 20


def _find(db: Database, name: str) -> dict[str, Any]:
    found = db.dax.subnet_group(name)
    if found is None:
        raise SubnetGroupNotFoundFault(f"Subnet group {name} not found.")
    return found


def _subnets(db: Database, ids: list[str]) -> list[dict[str, Any]]:
    if not 1 <= len(ids) <= MAX_SUBNETS:
        raise InvalidParameterValueException(f"A subnet group takes 1 to {MAX_SUBNETS} subnets.")
    for subnet in ids:
        if not _SUBNET.fullmatch(subnet):
            raise InvalidParameterValueException(f"Invalid subnet identifier: {subnet}")
    return [
        {
            "SubnetIdentifier": subnet,
            "SubnetAvailabilityZone": f"{db.region}{'abc'[i % 3]}",
            "SupportedNetworkTypes": ["ipv4"],
        }
        for i, subnet in enumerate(dict.fromkeys(ids))
    ]


async def _save(db: Database, name: str, doc: dict[str, Any] | None, message: str) -> None:
    await db.dax.save(
        [db.dax.writes(SUBNET_GROUP_KIND, name, doc)], [Event(name, "SUBNET_GROUP", message)], db.clock.now()
    )


async def create_subnet_group(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = group_name(request["SubnetGroupName"], "Subnet group name")
    subnets = _subnets(db, request["SubnetIds"])
    async with db.dax_runtime.lock:
        if db.dax.subnet_group(name) is not None:
            raise SubnetGroupAlreadyExistsFault(f"Subnet group {name} already exists.")
        doc = {
            "SubnetGroupName": name,
            "Description": request.get("Description", ""),
            "VpcId": "vpc-headwater",
            "Subnets": subnets,
            "SupportedNetworkTypes": ["ipv4"],
        }
        await _save(db, name, doc, "Subnet group created.")
    return {"SubnetGroup": doc}


async def describe_subnet_groups(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    names = request.get("SubnetGroupNames")
    docs = [_find(db, name) for name in names] if names else db.dax.subnet_groups()
    shown, token = page(request, docs)
    answer: dict[str, Any] = {"SubnetGroups": shown}
    if token is not None:
        answer["NextToken"] = token
    return answer


async def update_subnet_group(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.dax_runtime.lock:
        doc = _find(db, request["SubnetGroupName"])
        if doc["SubnetGroupName"] == DEFAULT_SUBNET_GROUP:
            raise InvalidParameterValueException("The default subnet group cannot be modified.")
        if "Description" in request:
            doc["Description"] = request["Description"]
        if "SubnetIds" in request:
            doc["Subnets"] = _subnets(db, request["SubnetIds"])
        await _save(db, doc["SubnetGroupName"], doc, "Subnet group modified.")
    return {"SubnetGroup": doc}


async def delete_subnet_group(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.dax_runtime.lock:
        doc = _find(db, request["SubnetGroupName"])
        name = doc["SubnetGroupName"]
        if name == DEFAULT_SUBNET_GROUP or any(c["SubnetGroup"] == name for c in db.dax.every(CLUSTER_KIND)):
            raise SubnetGroupInUseFault(f"Subnet group {name} is in use.")
        await _save(db, name, None, "Subnet group deleted.")
    return {"DeletionMessage": f"Subnet group {name} has been deleted."}

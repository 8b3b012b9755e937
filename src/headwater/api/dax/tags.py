"""TagResource, UntagResource, ListTags."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...dax.errors import TagNotFoundFault
from ._clusters import save
from ._tags import check_tags, cluster_of


async def tag_resource(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.dax_runtime.lock:
        doc = cluster_of(db, request["ResourceName"])
        doc["Tags"] = check_tags(request["Tags"], doc["Tags"])
        await save(db, doc, doc["ClusterName"])
    return {"Tags": doc["Tags"]}


async def untag_resource(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.dax_runtime.lock:
        doc = cluster_of(db, request["ResourceName"])
        present = {tag["Key"] for tag in doc["Tags"]}
        for key in request["TagKeys"]:
            if key not in present:
                raise TagNotFoundFault(f"Tag key {key} not found.")
        removed = set(request["TagKeys"])
        doc["Tags"] = [tag for tag in doc["Tags"] if tag["Key"] not in removed]
        await save(db, doc, doc["ClusterName"])
    return {"Tags": doc["Tags"]}


async def list_tags(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    doc = cluster_of(db, request["ResourceName"])
    return {"Tags": doc["Tags"]}

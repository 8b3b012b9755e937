"""CreateParameterGroup, DescribeParameterGroups, UpdateParameterGroup, DeleteParameterGroup,
DescribeParameters, DescribeDefaultParameters. A group holds the caches' two TTLs; a change applies at
once to every cluster that uses the group (ChangeType IMMEDIATE)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...dax.catalog import (
    CLUSTER_KIND,
    DEFAULT_PARAMETER_GROUP,
    DEFAULT_PARAMETERS,
    PARAMETER_GROUP_KIND,
    QUERY_TTL,
    RECORD_TTL,
    Event,
)
from ...dax.errors import (
    InvalidParameterGroupStateFault,
    InvalidParameterValueException,
    ParameterGroupAlreadyExistsFault,
    ParameterGroupNotFoundFault,
)
from ...dax.names import group_name, page

MAX_CHANGES = 20  # parameters one UpdateParameterGroup may set
_DESCRIPTIONS = {
    QUERY_TTL: "Duration in milliseconds for queries to remain cached",
    RECORD_TTL: "Duration in milliseconds for records to remain valid in cache (Default: 0 = infinite)",
}
_MAX_TTL_DIGITS = 15


def _find(db: Database, name: str) -> dict[str, Any]:
    found = db.dax.parameter_group(name)
    if found is None:
        raise ParameterGroupNotFoundFault(f"Parameter group {name} not found.")
    return found


def _shown(doc: dict[str, Any]) -> dict[str, Any]:
    shown = {"ParameterGroupName": doc["ParameterGroupName"]}
    if "Description" in doc:
        shown["Description"] = doc["Description"]
    return shown


def _parameters(values: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "ParameterName": name,
            "ParameterType": "DEFAULT",
            "ParameterValue": values[name],
            "NodeTypeSpecificValues": [],
            "Description": _DESCRIPTIONS[name],
            "Source": "user",
            "DataType": "integer",
            "AllowedValues": "0-",
            "IsModifiable": "TRUE",
            "ChangeType": "IMMEDIATE",
        }
        for name in (QUERY_TTL, RECORD_TTL)
    ]


async def _save(db: Database, name: str, doc: dict[str, Any] | None, message: str) -> None:
    await db.dax.save(
        [db.dax.writes(PARAMETER_GROUP_KIND, name, doc)],
        [Event(name, "PARAMETER_GROUP", message)],
        db.clock.now(),
    )


async def create_parameter_group(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = group_name(request["ParameterGroupName"], "Parameter group name")
    async with db.dax_runtime.lock:
        if db.dax.parameter_group(name) is not None:
            raise ParameterGroupAlreadyExistsFault(f"Parameter group {name} already exists.")
        doc: dict[str, Any] = {"ParameterGroupName": name, "Parameters": dict(DEFAULT_PARAMETERS)}
        if "Description" in request:
            doc["Description"] = request["Description"]
        await _save(db, name, doc, "Parameter group created.")
    return {"ParameterGroup": _shown(doc)}


async def describe_parameter_groups(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    names = request.get("ParameterGroupNames")
    docs = [_find(db, name) for name in names] if names else db.dax.parameter_groups()
    shown, token = page(request, docs)
    answer: dict[str, Any] = {"ParameterGroups": [_shown(doc) for doc in shown]}
    if token is not None:
        answer["NextToken"] = token
    return answer


async def update_parameter_group(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    changes = request["ParameterNameValues"]
    if not changes or len(changes) > MAX_CHANGES:
        raise InvalidParameterValueException(
            f"Between 1 and {MAX_CHANGES} parameters can be modified at once."
        )
    async with db.dax_runtime.lock:
        doc = _find(db, request["ParameterGroupName"])
        if doc["ParameterGroupName"] == DEFAULT_PARAMETER_GROUP:
            raise InvalidParameterGroupStateFault("The default parameter group cannot be modified.")
        for change in changes:
            name, value = change.get("ParameterName"), change.get("ParameterValue")
            if name not in _DESCRIPTIONS:
                raise InvalidParameterValueException(f"Unknown parameter: {name}")
            if not isinstance(value, str) or not value.isdigit() or len(value) > _MAX_TTL_DIGITS:
                raise InvalidParameterValueException(f"Invalid value for parameter {name}: {value}")
            doc["Parameters"][name] = str(int(value))
        await _save(db, doc["ParameterGroupName"], doc, "Parameter group modified.")
    return {"ParameterGroup": _shown(doc)}


async def delete_parameter_group(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.dax_runtime.lock:
        doc = _find(db, request["ParameterGroupName"])
        name = doc["ParameterGroupName"]
        if name == DEFAULT_PARAMETER_GROUP:
            raise InvalidParameterGroupStateFault("The default parameter group cannot be deleted.")
        if any(c["ParameterGroup"]["ParameterGroupName"] == name for c in db.dax.every(CLUSTER_KIND)):
            raise InvalidParameterGroupStateFault(f"Parameter group {name} is in use by a cluster.")
        await _save(db, name, None, "Parameter group deleted.")
    return {"DeletionMessage": f"Parameter group {name} has been deleted."}


async def describe_parameters(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    doc = _find(db, request["ParameterGroupName"])
    source = request.get("Source")
    found = _parameters(doc["Parameters"])
    if source is not None:
        if source not in ("user", "system"):
            raise InvalidParameterValueException(f"Invalid Source: {source}")
        found = [p for p in found if p["Source"] == source]
    shown, token = page(request, found)
    answer: dict[str, Any] = {"Parameters": shown}
    if token is not None:
        answer["NextToken"] = token
    return answer


async def describe_default_parameters(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    shown, token = page(request, _parameters(dict(DEFAULT_PARAMETERS)))
    answer: dict[str, Any] = {"Parameters": shown}
    if token is not None:
        answer["NextToken"] = token
    return answer

"""CreateTable."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from ...core import resource_policies
from ...core.database import Database
from ...core.tables import create_table
from ...core.throughput import ON_DEMAND
from ...core.warm import INDEX_ON_DEMAND, WARM
from ...errors import ResourceInUseException
from ...model.namespace import Namespace
from ...model.schema import KeyAttribute, StreamSpec, TableSpec, Throughput
from ._describe import table_description
from ._policy_document import checked_policy
from ._resource_policy import stored_entry
from ._stream_spec import parse_stream_specification
from ._table_spec import (
    attribute_types,
    check_billing,
    check_definitions_used,
    key_schema,
    on_demand_throughput,
    secondary_indexes,
)
from ._tags import check_tags
from ._warm import check_initial


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    spec = table_spec(db, request)
    async with db.catalog.lock:
        if db.catalog.get(request["TableName"]) is not None:
            raise ResourceInUseException(f"Table already exists: {spec.name}")
        created = await create_table(db, spec)
    described = table_description(db, created)
    if request.get("WarmThroughput") is None:  # AWS's CreateTable answer has it only when asked for
        described.pop("WarmThroughput")
    return {"TableDescription": described}


def table_spec(db: Database, request: dict[str, Any]) -> TableSpec:
    """The table a CreateTable request (or an ImportTable's TableCreationParameters) describes."""
    namespace, name = db.catalog.resolve(request["TableName"])  # a name, or the new table's ARN
    billing_mode: Literal["PROVISIONED", "PAY_PER_REQUEST"] = request.get("BillingMode") or "PROVISIONED"
    throughput = check_billing(billing_mode, request.get("ProvisionedThroughput"))
    types = attribute_types(request["AttributeDefinitions"])
    key = key_schema(request["KeySchema"], types)
    indexes = secondary_indexes(request, key, types, billing_mode)
    check_definitions_used(types, key, indexes)
    stream = parse_stream_specification(request.get("StreamSpecification"), current=None)
    if request.get("Tags"):
        check_tags(request["Tags"])
    sse = request.get("SSESpecification")
    extra: dict[str, Any] = {}
    if request.get("ResourcePolicy") is not None:
        # kept with the table from its first commit; its revision is the table's creation time
        policy = checked_policy(request["ResourcePolicy"], stream=False)
        extra[resource_policies.TABLE_POLICY] = stored_entry(policy, str(int(db.clock.now() * 1000)))
    on_demand = on_demand_throughput(request.get("OnDemandThroughput"), {}, removable=False)
    if on_demand:
        extra[ON_DEMAND] = on_demand
    extra.update(warm_settings(request, billing_mode, throughput))
    return TableSpec(
        table_id=0,
        name=name,
        table_uuid=str(uuid.uuid4()),
        key=key,
        attribute_definitions=tuple(KeyAttribute(attr, kind) for attr, kind in types.items()),
        created_at=round(db.clock.now(), 3),
        namespace=namespace,
        billing_mode=billing_mode,
        billing_mode_updated_at=None,
        throughput=throughput,
        indexes=indexes,
        stream=stream or StreamSpec(enabled=False),
        tags=tuple((t["Key"], t["Value"]) for t in request.get("Tags") or ()),
        sse=sse_description(namespace, sse),
        table_class=request.get("TableClass") or "STANDARD",
        deletion_protection=bool(request.get("DeletionProtectionEnabled", False)),
        extra=extra,
    )


def warm_settings(request: dict[str, Any], billing_mode: str, throughput: Throughput) -> dict[str, Any]:
    """The table's and its GSIs' WarmThroughput and the GSIs' OnDemandThroughput, for TableSpec.extra."""
    out: dict[str, Any] = {}
    warm: dict[str, list[int]] = {}
    table_warm = check_initial(
        request.get("WarmThroughput"), billing_mode, (throughput.read, throughput.write), None
    )
    if table_warm is not None:
        warm[""] = list(table_warm)
    index_on_demand: dict[str, Any] = {}
    for raw in request.get("GlobalSecondaryIndexes") or ():
        name = raw["IndexName"]
        capacity = raw.get("ProvisionedThroughput") or {}
        units = (capacity.get("ReadCapacityUnits") or 0, capacity.get("WriteCapacityUnits") or 0)
        index_warm = check_initial(raw.get("WarmThroughput"), billing_mode, units, name)
        if index_warm is not None:
            warm[name] = list(index_warm)
        maximums = on_demand_throughput(raw.get("OnDemandThroughput"), {}, removable=False)
        if maximums:
            index_on_demand[name] = maximums
    if warm:
        out[WARM] = warm
    if index_on_demand:
        out[INDEX_ON_DEMAND] = index_on_demand
    return out


def sse_description(namespace: Namespace, sse: dict[str, Any] | None) -> dict[str, Any] | None:
    """Encryption at rest is only described (a local database has no KMS): the key is named, not used."""
    if not sse or not sse.get("Enabled"):
        return None
    default_key = namespace.arn("kms", "key/headwater")
    return {
        "Status": "ENABLED",
        "SSEType": sse.get("SSEType") or "KMS",
        "KMSMasterKeyArn": sse.get("KMSMasterKeyId") or default_key,
    }

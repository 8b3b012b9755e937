"""The table a restore creates: the source's key, attributes and indexes, with the overrides AWS allows
(which secondary indexes to keep, billing mode, throughput, encryption). Streams, TTL, tags, deletion
protection, resource policies and Kinesis destinations are not restored (as on AWS: they are set again
on the new table)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from ...core.table_restore import RESTORE_SUMMARY
from ...errors import ValidationException
from ...model.namespace import Namespace
from ...model.schema import IndexSpec, StreamSpec, TableSpec, Throughput, TtlSpec
from ._table_spec import INVALID, check_billing, parse_throughput
from .create_table import sse_description


def restored_spec(
    source: TableSpec, request: dict[str, Any], namespace: Namespace, name: str, now: float, summary: Any
) -> TableSpec:
    billing: Literal["PROVISIONED", "PAY_PER_REQUEST"] = (
        request.get("BillingModeOverride") or source.billing_mode
    )
    throughput_override = request.get("ProvisionedThroughputOverride")
    if billing == "PROVISIONED" and throughput_override is None and source.billing_mode == "PROVISIONED":
        throughput = source.throughput
    else:
        throughput = check_billing(billing, throughput_override)
    indexes = (
        *_kept(source, "LSI", request.get("LocalSecondaryIndexOverride"), billing, throughput),
        *_kept(source, "GSI", request.get("GlobalSecondaryIndexOverride"), billing, throughput),
    )
    sse = request.get("SSESpecificationOverride")
    used = {attr for ix in indexes for attr in ix.key.names} | set(source.key.names)
    return TableSpec(
        table_id=0,
        name=name,
        table_uuid=str(uuid.uuid4()),
        key=source.key,
        attribute_definitions=tuple(a for a in source.attribute_definitions if a.name in used),
        created_at=round(now, 3),
        namespace=namespace,
        billing_mode=billing,
        throughput=throughput,
        indexes=indexes,
        stream=StreamSpec(enabled=False),
        ttl=TtlSpec(),
        sse=source.sse if sse is None else sse_description(namespace, sse),
        table_class=source.table_class,
        extra={RESTORE_SUMMARY: summary},
    )


def _kept(
    source: TableSpec,
    kind: Literal["GSI", "LSI"],
    override: list[dict[str, Any]] | None,
    billing: str,
    throughput: Throughput,
) -> list[IndexSpec]:
    """The source's indexes of `kind` the restore keeps: all of them, or those the override lists (each
    must be one of the source's, with the same key schema and projection)."""
    have = [ix for ix in source.indexes if ix.kind == kind]
    if override is None:
        return [_billed(ix, billing, throughput, None) for ix in have]
    kept: list[IndexSpec] = []
    seen: set[str] = set()
    for wanted in override:
        name = wanted["IndexName"]
        index = next((ix for ix in have if ix.name == name), None)
        if index is None:
            raise ValidationException(f"{INVALID}{_label(kind)} {name} is not an index of the source table")
        if name in seen:
            raise ValidationException(f"{INVALID}Duplicate index name: {name}")
        seen.add(name)
        if wanted["KeySchema"] != index.key.to_wire() or _projection(wanted) != index.projection.to_wire():
            raise ValidationException(
                f"{INVALID}{_label(kind)} {name} does not match the source table's index definition"
            )
        kept.append(_billed(index, billing, throughput, wanted.get("ProvisionedThroughput")))
    return kept


def _label(kind: str) -> str:
    return "Global secondary index" if kind == "GSI" else "Local secondary index"


def _projection(wanted: dict[str, Any]) -> dict[str, Any]:
    projection = dict(wanted.get("Projection") or {})
    if projection.get("ProjectionType") != "INCLUDE":
        projection.pop("NonKeyAttributes", None)
    return projection


def _billed(index: IndexSpec, billing: str, table: Throughput, wanted: dict[str, Any] | None) -> IndexSpec:
    if index.kind == "LSI":
        return index
    if billing == "PAY_PER_REQUEST":
        if wanted:
            raise ValidationException(
                f"{INVALID}ProvisionedThroughput should not be specified for index: {index.name} "
                "when BillingMode is PAY_PER_REQUEST"
            )
        return IndexSpec(index.index_id, index.name, "GSI", index.key, index.projection, Throughput(0, 0))
    if wanted:
        throughput = parse_throughput(wanted)
    elif index.throughput.read and index.throughput.write:
        throughput = index.throughput
    else:
        throughput = table
    return IndexSpec(index.index_id, index.name, "GSI", index.key, index.projection, throughput)

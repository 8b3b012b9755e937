"""TableSpec <-> catalog document (JSON bytes). Kept apart from the catalog's lifecycle logic."""

from __future__ import annotations

from typing import Any, cast

import orjson

from ..model.namespace import Namespace
from ..model.schema import (
    IndexSpec,
    KeyAttribute,
    KeySchema,
    KeyType,
    KinesisDestination,
    Projection,
    ProjectionType,
    ReplicaSpec,
    StreamSpec,
    StreamViewType,
    TableSpec,
    Throughput,
    TtlSpec,
)


def _attribute(pair: list[str]) -> KeyAttribute:
    return KeyAttribute(pair[0], cast(KeyType, pair[1]))


def _key_schema(doc: dict[str, Any]) -> KeySchema:
    if "hashes" in doc:  # a multi-attribute GSI key
        return KeySchema(
            tuple(_attribute(p) for p in doc["hashes"]), tuple(_attribute(p) for p in doc["ranges"])
        )
    rng = doc.get("range")
    return KeySchema.single(_attribute(doc["hash"]), _attribute(rng) if rng else None)


def _key_schema_doc(key: KeySchema) -> dict[str, Any]:
    # Single-attribute schemas keep the original document shape, so catalogs stay readable both ways.
    if key.composite:
        return {
            "hashes": [[a.name, a.type] for a in key.hashes],
            "ranges": [[a.name, a.type] for a in key.ranges],
        }
    return {
        "hash": [key.hash.name, key.hash.type],
        "range": [key.range.name, key.range.type] if key.range else None,
    }


def encode_spec(spec: TableSpec) -> bytes:
    doc: dict[str, Any] = {
        "table_id": spec.table_id,
        "name": spec.name,
        "table_uuid": spec.table_uuid,
        "key": _key_schema_doc(spec.key),
        "attribute_definitions": [[a.name, a.type] for a in spec.attribute_definitions],
        "created_at": spec.created_at,
        "namespace": [spec.namespace.account, spec.namespace.region],
        "status": spec.status,
        "billing_mode": spec.billing_mode,
        "billing_mode_updated_at": spec.billing_mode_updated_at,
        "throughput": [spec.throughput.read, spec.throughput.write],
        "indexes": [
            {
                "index_id": ix.index_id,
                "name": ix.name,
                "kind": ix.kind,
                "key": _key_schema_doc(ix.key),
                "projection": [ix.projection.type, list(ix.projection.non_key_attributes)],
                "throughput": [ix.throughput.read, ix.throughput.write],
                "status": ix.status,
                "backfilling": ix.backfilling,
            }
            for ix in spec.indexes
        ],
        "stream": [spec.stream.enabled, spec.stream.view_type, spec.stream.shards],
        "stream_id": spec.stream_id,
        "ttl": [spec.ttl.attribute, spec.ttl.status],
        "tags": [list(t) for t in spec.tags],
        "sse": spec.sse,
        "table_class": spec.table_class,
        "deletion_protection": spec.deletion_protection,
        "extra": spec.extra,
        "kinesis": [[d.stream_arn, d.stream_name, d.status, d.precision, d.region] for d in spec.kinesis],
    }
    if spec.replicas:
        doc["replicas"] = [[r.region, r.status, r.settings] for r in spec.replicas]
    return orjson.dumps(doc)


def decode_spec(data: bytes) -> TableSpec:
    doc = orjson.loads(data)
    return TableSpec(
        table_id=doc["table_id"],
        name=doc["name"],
        table_uuid=doc["table_uuid"],
        key=_key_schema(doc["key"]),
        attribute_definitions=tuple(
            KeyAttribute(n, cast(KeyType, t)) for n, t in doc["attribute_definitions"]
        ),
        created_at=doc["created_at"],
        namespace=Namespace(*doc["namespace"]),
        status=doc["status"],
        billing_mode=doc["billing_mode"],
        billing_mode_updated_at=doc["billing_mode_updated_at"],
        throughput=Throughput(*doc["throughput"]),
        indexes=tuple(
            IndexSpec(
                index_id=ix["index_id"],
                name=ix["name"],
                kind=ix["kind"],
                key=_key_schema(ix["key"]),
                projection=Projection(cast(ProjectionType, ix["projection"][0]), tuple(ix["projection"][1])),
                throughput=Throughput(*ix["throughput"]),
                status=ix["status"],
                backfilling=ix["backfilling"],
            )
            for ix in doc["indexes"]
        ),
        stream=StreamSpec(
            doc["stream"][0], cast("StreamViewType | None", doc["stream"][1]), doc["stream"][2]
        ),
        stream_id=doc["stream_id"],
        ttl=TtlSpec(doc["ttl"][0], doc["ttl"][1]),
        tags=tuple((k, v) for k, v in doc["tags"]),
        sse=doc["sse"],
        table_class=doc["table_class"],
        deletion_protection=doc["deletion_protection"],
        extra=doc["extra"],
        kinesis=tuple(KinesisDestination(*d) for d in doc.get("kinesis", ())),
        replicas=tuple(ReplicaSpec(*r) for r in doc.get("replicas", ())),
    )

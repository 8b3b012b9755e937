"""Small table specs for the pure core tests."""

from __future__ import annotations

from headwater.model.namespace import Namespace
from headwater.model.schema import IndexSpec, KeyAttribute, KeySchema, Projection, TableSpec

NAMESPACE = Namespace("000000000000", "us-east-1")


def table(*indexes: IndexSpec, range_key: bool = True) -> TableSpec:
    key = KeySchema.single(KeyAttribute("p", "S"), KeyAttribute("s", "S") if range_key else None)
    return TableSpec(1, "t", "uuid", key, key_attributes(key), 0.0, NAMESPACE, indexes=indexes)


def key_attributes(key: KeySchema) -> tuple[KeyAttribute, ...]:
    return (key.hash,) if key.range is None else (key.hash, key.range)


def index(
    kind: str = "GSI",
    *,
    hash_key: str = "g",
    range_key: str | None = None,
    projection: str = "ALL",
    include: tuple[str, ...] = (),
    index_id: int = 1,
) -> IndexSpec:
    key = KeySchema.single(KeyAttribute(hash_key, "S"), KeyAttribute(range_key, "S") if range_key else None)
    return IndexSpec(index_id, f"i{index_id}", kind, key, Projection(projection, include))  # type: ignore[arg-type]

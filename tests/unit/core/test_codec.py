"""Catalog documents (core/codec.py)."""

from __future__ import annotations

from headwater.core.codec import decode_spec, encode_spec
from headwater.model.namespace import Namespace
from headwater.model.schema import IndexSpec, KeyAttribute, KeySchema, Projection, TableSpec

MULTI = KeySchema(
    (KeyAttribute("h1", "S"), KeyAttribute("h2", "N")),
    (KeyAttribute("r1", "S"), KeyAttribute("r2", "B")),
)
GSI = IndexSpec(1, "gsi", "GSI", MULTI, Projection())
ONE = IndexSpec(
    2, "one", "GSI", KeySchema.single(KeyAttribute("x", "S"), KeyAttribute("y", "S")), Projection()
)


def test_catalog_documents_round_trip_multi_attribute_keys() -> None:
    table_key = KeySchema.single(KeyAttribute("pk", "S"))
    spec = TableSpec(
        7,
        "t",
        "uuid",
        table_key,
        (KeyAttribute("pk", "S"),),
        1.0,
        Namespace("123456789012", "eu-west-1"),
        indexes=(GSI, ONE),
    )
    assert decode_spec(encode_spec(spec)) == spec
    # a single-attribute key keeps the document shape earlier versions wrote and read
    assert b'"key":{"hash":["x","S"],"range":["y","S"]}' in encode_spec(spec)

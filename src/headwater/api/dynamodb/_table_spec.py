"""CreateTable's request -> TableSpec, with DynamoDB's cross-field rules and messages."""

from __future__ import annotations

from typing import Any, cast

from ...errors import ValidationException
from ...model.schema import (
    IndexSpec,
    KeyAttribute,
    KeySchema,
    KeyType,
    Projection,
    ProjectionType,
    Throughput,
)

INVALID = "One or more parameter values were invalid: "
MAX_LSIS = 5
MAX_GSIS = 20
MAX_CAPACITY = 1_000_000_000_000
MAX_KEY_ATTRIBUTES = 4  # HASH attributes, and RANGE attributes, of a GSI's multi-attribute key
KEY_SCHEMA_TOO_BIG = (
    "Key Schema too big.  Key Schema must at most consist of the hash and range key of a table"
)


def check_billing(billing_mode: str, throughput: dict[str, Any] | None) -> Throughput:
    if billing_mode == "PAY_PER_REQUEST":
        if throughput:
            raise ValidationException(
                INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                "BillingMode is PAY_PER_REQUEST"
            )
        return Throughput(0, 0)
    if not throughput or not throughput.get("ReadCapacityUnits") or not throughput.get("WriteCapacityUnits"):
        raise ValidationException(
            INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
            "BillingMode is PROVISIONED"
        )
    return parse_throughput(throughput)


def on_demand_throughput(
    value: dict[str, Any] | None, current: dict[str, Any], *, removable: bool
) -> dict[str, Any]:
    """OnDemandThroughput over the table's current maximums: a value of at least 1 sets one; -1 removes
    it (UpdateTable only: `removable`). DynamoDB Local's text for any other value."""
    out = dict(current)
    for name in ("MaxReadRequestUnits", "MaxWriteRequestUnits"):
        units = (value or {}).get(name)
        if units is None:
            continue
        if units == -1 and removable:
            out.pop(name, None)
        elif units >= 1:
            out[name] = units
        else:
            raise ValidationException(
                "Table read and write throughput must be at least 1, and cannot be null"
            )
    return out


def parse_throughput(throughput: dict[str, Any]) -> Throughput:
    for name in ("ReadCapacityUnits", "WriteCapacityUnits"):
        if throughput[name] > MAX_CAPACITY:
            raise ValidationException(f"Given value {throughput[name]} for {name} is out of bounds")
    return Throughput(throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"])


def key_schema(
    elements: list[dict[str, Any]], types: dict[str, KeyType], *, multi_attribute: bool = False
) -> KeySchema:
    """Check the HASH-then-RANGE shape and resolve attribute types from AttributeDefinitions.

    Tables and LSIs: one HASH, then at most one RANGE attribute. A GSI (`multi_attribute`) may name up to
    four HASH attributes, then up to four RANGE attributes.
    """
    names = [e["AttributeName"] for e in elements]
    kinds = [e["KeyType"] for e in elements]
    if len(elements) > 2:
        if not multi_attribute:
            raise ValidationException(KEY_SCHEMA_TOO_BIG)
        return _multi_attribute_key_schema(names, kinds, types)
    _check_defined(names, types)
    if len(names) == 2 and names[0] == names[1]:
        raise ValidationException(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if kinds[0] != "HASH":
        raise ValidationException("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(kinds) == 2 and kinds[1] != "RANGE" and not multi_attribute:
        raise ValidationException("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
    return _resolved(names, kinds, types)


def _multi_attribute_key_schema(names: list[str], kinds: list[str], types: dict[str, KeyType]) -> KeySchema:
    hashes = kinds.count("HASH")
    if len(names) > 2 * MAX_KEY_ATTRIBUTES:
        raise ValidationException(KEY_SCHEMA_TOO_BIG)
    if len(set(names)) != len(names):
        raise ValidationException("Two keys can not have the same name")
    if not hashes:
        raise ValidationException(
            "No Hash Key specified in schema.  All Dynamo DB tables must have exactly one hash key"
        )
    if kinds != ["HASH"] * hashes + ["RANGE"] * (len(kinds) - hashes):
        raise ValidationException(
            "Invalid key order. Hash Key must be specified first in key schema, Range Key must be specifed "
            "second"  # sic
        )
    if hashes > MAX_KEY_ATTRIBUTES:
        raise ValidationException(
            f"Too many partition keys. GSI can have at most {MAX_KEY_ATTRIBUTES} partition keys"
        )
    if len(kinds) - hashes > MAX_KEY_ATTRIBUTES:
        raise ValidationException(f"Too many sort keys. GSI can have at most {MAX_KEY_ATTRIBUTES} sort keys")
    _check_defined(names, types)
    return _resolved(names, kinds, types)


def _check_defined(names: list[str], types: dict[str, KeyType]) -> None:
    if any(name not in types for name in names):
        raise ValidationException(
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(names)}], AttributeDefinitions: [{', '.join(types)}]"
        )


def _resolved(names: list[str], kinds: list[str], types: dict[str, KeyType]) -> KeySchema:
    attrs = [KeyAttribute(name, types[name]) for name in names]
    hashes = kinds.count("HASH")
    return KeySchema(tuple(attrs[:hashes]), tuple(attrs[hashes:]))


def projection(raw: dict[str, Any]) -> Projection:
    kind = raw.get("ProjectionType")
    if kind is None:
        raise ValidationException(INVALID + "Unknown ProjectionType: null")
    non_key = raw.get("NonKeyAttributes")
    if non_key is not None and kind != "INCLUDE":
        raise ValidationException(INVALID + f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    return Projection(cast(ProjectionType, kind), tuple(non_key or ()))


def attribute_types(definitions: list[dict[str, Any]]) -> dict[str, KeyType]:
    types: dict[str, KeyType] = {}
    for d in definitions:
        if d["AttributeName"] in types:
            raise ValidationException("Cannot have two attributes with the same name")
        types[d["AttributeName"]] = cast(KeyType, d["AttributeType"])
    return types


def secondary_indexes(
    request: dict[str, Any], table_key: KeySchema, types: dict[str, KeyType], billing_mode: str
) -> tuple[IndexSpec, ...]:
    indexes: list[IndexSpec] = []
    seen: set[str] = set()
    next_id = 1
    lsis = request.get("LocalSecondaryIndexes")
    if lsis is not None:
        if not lsis:
            raise ValidationException(INVALID + "List of LocalSecondaryIndexes is empty")
        if table_key.range is None:
            raise ValidationException(
                INVALID + "Table KeySchema does not have a range key, which is required when specifying "
                "a LocalSecondaryIndex"
            )
        for raw in lsis:
            name = raw["IndexName"]
            key = key_schema(raw["KeySchema"], types)
            if key.range is None:
                raise ValidationException(
                    INVALID + f"Index KeySchema does not have a range key for index: {name}"
                )
            if key.hash.name != table_key.hash.name:
                raise ValidationException(
                    INVALID + "Index KeySchema does not have the same leading hash key as table KeySchema "
                    f"for index: {name}. index hash key: {key.hash.name}, "
                    f"table hash key: {table_key.hash.name}"
                )
            proj = projection(raw["Projection"])
            if name in seen:
                raise ValidationException(INVALID + f"Duplicate index name: {name}")
            seen.add(name)
            indexes.append(IndexSpec(next_id, name, "LSI", key, proj))
            next_id += 1
        if len(lsis) > MAX_LSIS:
            raise ValidationException(
                INVALID + f"Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}"
            )
    gsis = request.get("GlobalSecondaryIndexes")
    if gsis is not None:
        if not gsis:
            raise ValidationException(INVALID + "List of GlobalSecondaryIndexes is empty")
        for raw in gsis:
            indexes.append(global_index(raw, types, billing_mode, next_id, seen))
            next_id += 1
        if len(gsis) > MAX_GSIS:
            raise ValidationException(
                INVALID + f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}"
            )
    return tuple(indexes)


def global_index(
    raw: dict[str, Any], types: dict[str, KeyType], billing_mode: str, index_id: int, seen: set[str]
) -> IndexSpec:
    name = raw["IndexName"]
    key = key_schema(raw["KeySchema"], types, multi_attribute=True)
    proj = projection(raw["Projection"])
    throughput = Throughput(0, 0)
    if billing_mode == "PAY_PER_REQUEST":
        if raw.get("ProvisionedThroughput"):
            raise ValidationException(
                INVALID + f"ProvisionedThroughput should not be specified for index: {name} when "
                "BillingMode is PAY_PER_REQUEST"
            )
    else:
        if not raw.get("ProvisionedThroughput"):
            raise ValidationException(INVALID + f"ProvisionedThroughput is not specified for index: {name}")
        throughput = parse_throughput(raw["ProvisionedThroughput"])
    if name in seen:
        raise ValidationException(INVALID + f"Duplicate index name: {name}")
    seen.add(name)
    return IndexSpec(index_id, name, "GSI", key, proj, throughput)


def check_definitions_used(
    definitions: dict[str, KeyType], table_key: KeySchema, indexes: tuple[IndexSpec, ...]
) -> None:
    """Every AttributeDefinition must be a key attribute of the table or an index. The documentation does
    not say how strictly, so DynamoDB Local decides: with both kinds of index it counts the attributes of
    the table and its GSIs, then adds the LSIs' sort keys that are not the table's, without noticing one
    already counted for a GSI, and accepts as many definitions as that count (PynamoDB's own integration
    suite declares one attribute more than its keys use this way)."""
    used = set(table_key.names)
    for index in indexes:
        used.update(index.key.names)
    if set(definitions) == used:
        return
    with_globals = set(table_key.names).union(*(i.key.names for i in indexes if i.kind == "GSI"))
    local_sorts = set().union(*(i.key.names for i in indexes if i.kind == "LSI")) - set(table_key.names)
    if indexes and used <= set(definitions) and len(definitions) <= len(with_globals) + len(local_sorts):
        return
    if not indexes:
        raise ValidationException(
            INVALID + "Number of attributes in KeySchema does not exactly match number of attributes "
            "defined in AttributeDefinitions"
        )
    raise ValidationException(
        INVALID + "Some AttributeDefinitions are not used. AttributeDefinitions: "
        f"[{', '.join(definitions)}], keys used: [{', '.join(sorted(used))}]"
    )

"""Data written before accounts and regions were namespaces becomes the default namespace's.

Until then every table, stream, Kinesis stream, function, layer and mapping lived in one unnamed
namespace: catalog documents under the bare table name, Kinesis documents under the bare stream name,
Lambda state under the bare function name, layer name or mapping id, ARNs made from the settings of the
day. On the first start of a version that knows namespaces, one write moves all of it into the server's
default namespace (`--account-id`, `--region`): keys get their `<account>/<region>/` prefix, table
documents their namespace, ARNs that named the old account and region name the default one. The same
write records that the layout is current, so it happens once, and all or nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .core.catalog import TABLE_KIND
from .kinesis.docs import STREAMS_TABLE_ID, doc_key
from .model.namespace import Namespace, rerooted
from .storage.base import CatalogView, ItemKey, ItemWrite, MetaWrite, Storage, WriteSet
from .streams.docs import STREAM_KIND
from .triggers.layers import LAYER_KIND, LAYER_NUMBERS_KIND
from .triggers.state import CHECKPOINT_KIND, FAILURE_KIND, FUNCTION_KIND, MAPPING_KIND

log = logging.getLogger(__name__)

LAYOUT_KIND = "layout"
NAMESPACES = "namespaces"  # present once the layout has namespaces
LAMBDA_KINDS = (FUNCTION_KIND, MAPPING_KIND, CHECKPOINT_KIND, FAILURE_KIND, LAYER_KIND, LAYER_NUMBERS_KIND)


@dataclass(frozen=True, slots=True)
class UpgradeOp:
    """Moves the legacy Kinesis documents (read by the writer with the operation, like any write of them)
    and writes the prepared metadata changes."""

    kinesis_keys: tuple[ItemKey, ...]
    meta: tuple[MetaWrite, ...]
    namespace: Namespace

    @property
    def keys(self) -> Sequence[ItemKey]:
        return self.kinesis_keys

    def resolve(self, catalog: CatalogView) -> UpgradeOp:
        return self  # the catalog changes it makes are in `meta`, built before any other write

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        ws = WriteSet(meta=list(self.meta))
        for key, old in zip(self.kinesis_keys, old_items, strict=True):
            if old is None:
                continue
            doc = orjson.loads(old)
            doc["arn"] = rerooted(doc["arn"], self.namespace)
            ws.items.append(ItemWrite(key, None))
            ws.items.append(ItemWrite(doc_key(self.namespace, doc["name"]), orjson.dumps(doc)))
        return ws


def pending(storage: Storage, namespace: Namespace) -> UpgradeOp | None:
    """The write that brings a legacy layout into `namespace`, or None if the layout is current."""
    if storage.meta_get(LAYOUT_KIND, NAMESPACES) is not None:
        return None
    prefix = namespace.prefix
    meta: list[MetaWrite] = []
    for name, document in storage.catalog().items():
        if "/" not in name:
            meta += [
                MetaWrite(TABLE_KIND, name, None),
                MetaWrite(TABLE_KIND, prefix + name, _table(document, namespace)),
            ]
    for key, document in storage.meta_list(STREAM_KIND):
        doc = orjson.loads(document)
        if doc["arn"] != rerooted(doc["arn"], namespace):
            doc["arn"] = rerooted(doc["arn"], namespace)
            meta.append(MetaWrite(STREAM_KIND, key, orjson.dumps(doc)))
    for kind in LAMBDA_KINDS:
        for key, document in storage.meta_list(kind):
            meta += [
                MetaWrite(kind, key, None),
                MetaWrite(kind, prefix + key, _lambda(kind, document, namespace)),
            ]
    kinesis = tuple(
        ItemKey(STREAMS_TABLE_ID, row.h, row.pk, row.sk)
        for row in storage.scan(STREAMS_TABLE_ID, 0)
        if b"/" not in row.pk
    )
    meta.append(MetaWrite(LAYOUT_KIND, NAMESPACES, b"1"))
    return UpgradeOp(kinesis, tuple(meta), namespace)


async def upgrade(storage: Storage, namespace: Namespace) -> None:
    """Bring a legacy layout into the default namespace (nothing to do for a current one)."""
    op = pending(storage, namespace)
    if op is None:
        return
    await storage.write(op)
    if len(op.meta) > 1 or op.kinesis_keys:
        log.info("data written before namespaces now lives in %s (account/region)", namespace.prefix)


def _table(document: bytes, namespace: Namespace) -> bytes:
    doc: dict[str, Any] = orjson.loads(document)
    doc["namespace"] = [namespace.account, namespace.region]
    doc["kinesis"] = [
        [rerooted(arn, namespace), name, status, precision, namespace.region]
        for arn, name, status, precision, _ in doc.get("kinesis", ())
    ]
    return orjson.dumps(doc)


def _lambda(kind: str, document: bytes, namespace: Namespace) -> bytes:
    if kind == MAPPING_KIND:
        doc: dict[str, Any] = orjson.loads(document)
        doc["event_source_arn"] = rerooted(doc["event_source_arn"], namespace)
        if doc.get("on_failure"):
            doc["on_failure"] = rerooted(doc["on_failure"], namespace)
        return orjson.dumps(doc)
    if kind == FUNCTION_KIND:
        doc = orjson.loads(document)
        for layer in doc.get("layers", ()):
            layer["arn"] = rerooted(layer["arn"], namespace)
        return orjson.dumps(doc)
    return document

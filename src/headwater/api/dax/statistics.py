"""A DAX cluster's cache counters, beside DescribeClusters (whose answer stays AWS's shape): what
`headwater dax status` and `POST /_headwater/dax/status` show. The counters are the process's since the
cluster's caches were made (its first request after the server started), as /metrics counts them."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...dax.cache import LruCache
from ...errors import ValidationException
from ._clusters import find


def cache_statistics(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = request.get("ClusterName")
    if not isinstance(name, str) or not name:
        raise ValidationException("ClusterName is required")
    doc = find(db, name)
    caches = db.dax_runtime.caches.get(doc["ClusterArn"])
    return {
        "ClusterName": doc["ClusterName"],
        "ClusterArn": doc["ClusterArn"],
        "Status": doc["Status"],
        "NodeType": doc["NodeType"],
        "ItemCache": _counts(caches.items if caches is not None else None),
        "QueryCache": _counts(caches.queries if caches is not None else None),
    }


def _counts(cache: LruCache | None) -> dict[str, Any]:
    if cache is None:  # no request has reached the cluster since the server started
        return {"Hits": 0, "Misses": 0, "Evictions": 0, "Entries": 0, "SizeBytes": 0}
    return {
        "Hits": cache.counts.hits,
        "Misses": cache.counts.misses,
        "Evictions": cache.counts.evictions,
        "Entries": len(cache),
        "SizeBytes": cache.size,
        "CapacityBytes": cache.capacity,
        "TtlMillis": round(cache.ttl * 1000),
    }

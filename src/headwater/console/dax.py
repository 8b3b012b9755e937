"""DAX: the clusters (DescribeClusters) with their caches' counters (POST /_headwater/dax/status, which
DescribeClusters does not carry), and a form creating a cluster (CreateCluster). Every call is the
principal's: under --auth sigv4, dax:DescribeClusters, dax:CreateCluster and
headwater:GetDaxCacheStatistics on the cluster's ARN."""

from __future__ import annotations

import asyncio
from typing import Any

from ..http.messages import Response
from .client import ApiError
from .html import csrf_field, e, error_box, html_response, notice, options, page, redirect, table, url
from .web import Ask, attempt, bounded_int, route

NODE_TYPES = ("dax.t3.small", "dax.t3.medium", "dax.r5.large", "dax.r5.xlarge", "dax.r5.2xlarge")
MAX_NODES = 11  # a primary and ten read replicas
HEADINGS = ("Cluster", "Status", "Node type", "Nodes", "Endpoint", "Item cache", "Query cache")


async def clusters_page(ask: Ask, error: ApiError | None = None) -> Response:
    described, listing_error = await attempt(ask.api.dax("DescribeClusters", {"MaxResults": 100}))
    clusters: list[dict[str, Any]] = described.get("Clusters", [])  # type: ignore[assignment]
    counted = await asyncio.gather(
        *(attempt(ask.api.admin("dax/status", {"ClusterName": c["ClusterName"]})) for c in clusters)
    )
    refusals = {err.type_name: err for _, err in counted if err is not None}
    rows = [_row(cluster, counts) for cluster, (counts, _) in zip(clusters, counted, strict=True)]
    hint = (
        '<p class="hint">The counters are the server\'s since it started (also on /metrics and from '
        "<code>headwater dax status CLUSTER</code>); DescribeClusters does not carry them.</p>"
    )
    counters_error = next(iter(refusals.values()), None)
    body = (
        error_box(error)
        + error_box(listing_error)
        + notice(_done(ask.arg("done")))
        + hint
        + (f'<div id="dax-counters-refused">{error_box(counters_error)}</div>' if counters_error else "")
        + table(HEADINGS, rows, "No DAX cluster yet.")
        + _create_form(ask)
    )
    return html_response(page("DAX clusters", body, ask.viewer, section="dax"))


def _done(done: str) -> str:
    return f"Cluster {done} is being created." if done else ""


def _row(cluster: dict[str, Any], counts: dict[str, Any]) -> list[str]:
    endpoint = (cluster.get("ClusterDiscoveryEndpoint") or {}).get("URL", "")
    items: dict[str, Any] = counts.get("ItemCache") or {}
    queries: dict[str, Any] = counts.get("QueryCache") or {}
    return [
        e(cluster["ClusterName"]),
        e(cluster.get("Status", "")),
        e(cluster.get("NodeType", "")),
        f"{e(cluster.get('ActiveNodes', 0))} of {e(cluster.get('TotalNodes', 0))}",
        f"<code>{e(endpoint)}</code>" if endpoint else "",
        _cache_cell(items),
        _cache_cell(queries),
    ]


def _cache_cell(counts: dict[str, Any]) -> str:
    """Hits, misses and evictions, then what the cache holds; a dash when the counters were refused."""
    if not counts:
        return "—"
    return (
        f'<span class="counts">{counts["Hits"]} hits · {counts["Misses"]} misses · '
        f'{counts["Evictions"]} evictions</span><br><span class="hint">{counts["Entries"]} entries, '
        f"{counts['SizeBytes']} bytes</span>"
    )


def _create_form(ask: Ask) -> str:
    return (
        f'<section><h2>Create a cluster</h2><form method="post" action="{url("dax")}" class="card" '
        f'id="create-cluster">{csrf_field(ask.viewer)}<div class="row">'
        '<label>name <input name="name" required maxlength="20"></label>'
        f'<label>node type <select name="node_type">{options((t, t) for t in NODE_TYPES)}</select></label>'
        f'<label>nodes <input name="nodes" type="number" min="1" max="{MAX_NODES}" value="1"></label>'
        '<label>IAM role ARN <input name="role" required maxlength="1600" '
        'placeholder="arn:aws:iam::123456789012:role/DAXServiceRole"></label>'
        "<button>Create cluster</button></div></form></section>"
    )


async def create_cluster(ask: Ask) -> Response:
    name = ask.arg("name")
    request = {
        "ClusterName": name,
        "NodeType": ask.arg("node_type"),
        "ReplicationFactor": bounded_int(ask.arg("nodes", "1"), 1, 1, MAX_NODES),
        "IamRoleArn": ask.arg("role"),
    }
    _, error = await attempt(ask.api.dax("CreateCluster", request))
    if error is not None:
        return await clusters_page(ask, error)
    return redirect(url("dax", done=name))


ROUTES = [route("GET", "/dax", clusters_page), route("POST", "/dax", create_cluster)]

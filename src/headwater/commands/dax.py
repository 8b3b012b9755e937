"""`headwater dax status CLUSTER`: a DAX cluster's cache counters (hits, misses, evictions, entries), which
DescribeClusters does not carry."""

from __future__ import annotations

import json
from typing import Any, cast

import click

from .admin import DEFAULT_ENDPOINT, _post, region_option


@click.group()
def dax() -> None:
    """DAX clusters, as this server runs them."""


@dax.command()
@click.argument("cluster")
@region_option
@click.option("--json", "as_json", is_flag=True, help="Print the counters as JSON.")
@click.option("--endpoint-url", default=DEFAULT_ENDPOINT, show_default=True, envvar="HEADWATER_ENDPOINT_URL")
def status(cluster: str, region: str | None, as_json: bool, endpoint_url: str) -> None:
    """CLUSTER's item cache and query cache: hits, misses, evictions, entries and bytes held, since the
    server started (the same counters as /metrics' headwater_dax_cache_*)."""
    body: dict[str, object] = {"ClusterName": cluster}
    if region is not None:
        body["Region"] = region
    report = _post(endpoint_url, "dax/status", body)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{report['ClusterName']} ({report['Status']}, {report['NodeType']})")
    for label, member in (("item cache", "ItemCache"), ("query cache", "QueryCache")):
        click.echo(f"  {label}: {_line(cast(dict[str, Any], report[member]))}")


def _line(counts: dict[str, Any]) -> str:
    asked = counts["Hits"] + counts["Misses"]
    ratio = f" ({counts['Hits'] / asked:.0%} hits)" if asked else ""
    held = f"{counts['Entries']} entries, {counts['SizeBytes']} bytes"
    if "CapacityBytes" in counts:
        held += f" of {counts['CapacityBytes']}, TTL {counts['TtlMillis']} ms"
    return f"{counts['Hits']} hits, {counts['Misses']} misses{ratio}, {counts['Evictions']} evictions; {held}"

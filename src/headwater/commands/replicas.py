"""`headwater replicas status [TABLE]`: the replication links of global tables on a server."""

from __future__ import annotations

import json

import click

from .admin import DEFAULT_ENDPOINT, _post


@click.group()
def replicas() -> None:
    """Global tables' replication, as this server runs it."""


@replicas.command()
@click.argument("table", required=False)
@click.option("--endpoint-url", default=DEFAULT_ENDPOINT, show_default=True, envvar="HEADWATER_ENDPOINT_URL")
def status(table: str | None, endpoint_url: str) -> None:
    """Each link (source region > this server's region) of TABLE, or of every global table: changes
    applied and skipped, the last applied change's latency, whether it has caught up, its last error."""
    body: dict[str, object] = {"TableName": table} if table else {}
    click.echo(json.dumps(_post(endpoint_url, "replicas/status", body)["Links"], indent=2))

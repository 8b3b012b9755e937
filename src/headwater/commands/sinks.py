"""`headwater sinks add|list|remove|status`: a table's changes delivered to NATS JetStream."""

from __future__ import annotations

import json

import click

from .admin import DEFAULT_ENDPOINT, _post, region_option

_endpoint = click.option(
    "--endpoint-url", default=DEFAULT_ENDPOINT, show_default=True, envvar="HEADWATER_ENDPOINT_URL"
)


@click.group()
def sinks() -> None:
    """Deliver tables' changes elsewhere (NATS JetStream), at least once, in order per item."""


@sinks.command()
@click.argument("table")
@click.option("--nats", "nats_url", required=True, help="nats://host:4222")
@click.option("--subject", required=True, help="The JetStream subject, e.g. orders.changes")
@click.option("--name", default=None, help="The sink's name (default TABLE-SUBJECT).")
@_endpoint
@region_option
def add(
    table: str, nats_url: str, subject: str, name: str | None, endpoint_url: str, region: str | None
) -> None:
    """Publish every change of TABLE's stream (DynamoDB Streams record JSON) to SUBJECT."""
    body: dict[str, object] = {"TableName": table, "Nats": nats_url, "Subject": subject}
    if name:
        body["Name"] = name
    if region is not None:
        body["Region"] = region
    click.echo(json.dumps(_post(endpoint_url, "sinks/add", body)["Sink"], indent=2))


@sinks.command(name="list")
@_endpoint
def list_(endpoint_url: str) -> None:
    """Every sink."""
    click.echo(json.dumps(_post(endpoint_url, "sinks/list", {})["Sinks"], indent=2))


@sinks.command()
@click.argument("name")
@_endpoint
def remove(name: str, endpoint_url: str) -> None:
    """Stop a sink and forget its checkpoints."""
    _post(endpoint_url, "sinks/remove", {"Name": name})


@sinks.command()
@click.argument("name", required=False)
@_endpoint
def status(name: str | None, endpoint_url: str) -> None:
    """Published counts, lag and the last error, of one sink or all."""
    click.echo(
        json.dumps(_post(endpoint_url, "sinks/status", {"Name": name} if name else {})["Sinks"], indent=2)
    )

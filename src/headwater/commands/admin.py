"""`headwater admin ...`: Headwater's own admin calls against a running server."""

from __future__ import annotations

import json
import urllib.error

import click

from .signed import call_json

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"


def _post(endpoint: str, path: str, body: dict[str, object]) -> dict[str, object]:
    url = endpoint.rstrip("/") + "/_headwater/" + path
    try:
        data = json.dumps(body).encode()
        region = body.get("Region")  # signed for the table's region: the namespace it is checked in
        answer: dict[str, object] = call_json(
            url, "POST", data, service="dynamodb", region=region if isinstance(region, str) else None
        )
        return answer
    except urllib.error.HTTPError as err:
        detail = json.loads(err.read() or b"{}")
        kind = detail.get("__type") or err.headers.get("x-amzn-ErrorType") or err.code
        message = detail.get("message") or detail.get("Message") or ""  # AccessDeniedException: "Message"
        raise click.ClickException(f"{kind}: {message}") from None
    except urllib.error.URLError as err:
        raise click.ClickException(f"cannot reach {endpoint}: {err.reason}") from None


region_option = click.option(
    "--region",
    envvar="HEADWATER_REGION",
    default=None,
    help="The region the table (or function) is in (default: the server's --region).",
)


def region_of(endpoint: str, region: str | None) -> str:
    """`region`, or the server's default region when none was given."""
    if region is not None:
        return region
    return str(_post(endpoint, "namespace", {})["Region"])


@click.group()
def admin() -> None:
    """Admin calls that no AWS API has (forced shard rollover, TTL sweep)."""


@admin.command()
@click.argument("table")
@click.option("--endpoint-url", default=DEFAULT_ENDPOINT, show_default=True, envvar="HEADWATER_ENDPOINT_URL")
@region_option
def rollover(table: str, endpoint_url: str, region: str | None) -> None:
    """Close the open shards of TABLE's stream now; their children take the next records."""
    body: dict[str, object] = {"TableName": table}
    if region is not None:
        body["Region"] = region
    _post(endpoint_url, "streams/rollover", body)
    click.echo(f"rolled over the shards of {table}'s stream")


@admin.command("sweep-ttl")
@click.option("--endpoint-url", default=DEFAULT_ENDPOINT, show_default=True, envvar="HEADWATER_ENDPOINT_URL")
def sweep_ttl(endpoint_url: str) -> None:
    """Delete every item whose TTL has passed, now (each deletion writes its REMOVE record)."""
    answer = _post(endpoint_url, "ttl/sweep", {})
    click.echo(f"deleted {answer.get('Deleted', 0)} expired items")

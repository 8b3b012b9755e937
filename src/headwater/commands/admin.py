"""`headwater admin ...`: Headwater's own admin calls against a running server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import click

from .client import signed_headers

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"


def _post(endpoint: str, path: str, body: dict[str, object]) -> dict[str, object]:
    url = endpoint.rstrip("/") + "/_headwater/" + path
    data = json.dumps(body).encode()
    headers = signed_headers("POST", url, data, {"Content-Type": "application/json"})
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, object] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as err:
        detail = json.loads(err.read() or b"{}")
        message = detail.get("message") or detail.get("Message") or ""  # AccessDeniedException: "Message"
        raise click.ClickException(f"{detail.get('__type', err.code)}: {message}") from None
    except urllib.error.URLError as err:
        raise click.ClickException(f"cannot reach {endpoint}: {err.reason}") from None


@click.group()
def admin() -> None:
    """Admin calls that no AWS API has (forced shard rollover, TTL sweep)."""


@admin.command()
@click.argument("table")
@click.option("--endpoint-url", default=DEFAULT_ENDPOINT, show_default=True, envvar="HEADWATER_ENDPOINT_URL")
def rollover(table: str, endpoint_url: str) -> None:
    """Close the open shards of TABLE's stream now; their children take the next records."""
    _post(endpoint_url, "streams/rollover", {"TableName": table})
    click.echo(f"rolled over the shards of {table}'s stream")


@admin.command("sweep-ttl")
@click.option("--endpoint-url", default=DEFAULT_ENDPOINT, show_default=True, envvar="HEADWATER_ENDPOINT_URL")
def sweep_ttl(endpoint_url: str) -> None:
    """Delete every item whose TTL has passed, now (each deletion writes its REMOVE record)."""
    answer = _post(endpoint_url, "ttl/sweep", {})
    click.echo(f"deleted {answer.get('Deleted', 0)} expired items")

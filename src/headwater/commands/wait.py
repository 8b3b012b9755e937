"""`headwater wait index TABLE INDEX`, `headwater wait export ARN` and `headwater wait import ARN`: wait
for long work on a running server to finish, with a progress bar (on a terminal). A backfill's and an
export's bar is fed by the server's /metrics gauges (`headwater_index_backfill_items_done` / `_total`,
`headwater_export_items_done` / `_total`), an import's by DescribeImport's own counters.

The state comes from the public API (DescribeTable, DescribeExport, DescribeImport), the progress from a
signed GET /metrics; a server that refuses the scrape (no headwater:GetMetrics under --auth sigv4) only
costs the bar its numbers, never the wait.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import click

from .admin import DEFAULT_ENDPOINT, region_of, region_option
from .progress import progress_bar
from .signed import client, signed_request

Labels = Mapping[str, str]


def gauge(samples: Mapping[str, list[tuple[Labels, float]]], name: str, labels: Labels) -> int | None:
    """The value of `name` whose labels include `labels`, if the scrape had it."""
    for found, value in samples.get(name, ()):
        if all(found.get(k) == v for k, v in labels.items()):
            return int(value)
    return None


def scrape(endpoint: str, region: str, prefix: str) -> dict[str, list[tuple[Labels, float]]]:
    """The samples of /metrics whose name starts with `prefix`; none when the server refuses or fails."""
    from prometheus_client.parser import text_string_to_metric_families

    request = signed_request(endpoint.rstrip("/") + "/metrics", "GET", None, "dynamodb", region)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError):
        return {}
    out: dict[str, list[tuple[Labels, float]]] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.startswith(prefix):
                    out.setdefault(sample.name, []).append((sample.labels, sample.value))
    except ValueError:  # not Prometheus' text format: not a Headwater server's /metrics
        return {}
    return out


def _poll(check: Callable[[], str | None], interval: float, timeout: float, what: str) -> str:
    """Call `check` every `interval` seconds until it gives the command's result line."""
    deadline = time.monotonic() + timeout
    while True:
        done = check()
        if done is not None:
            return done
        if time.monotonic() >= deadline:
            raise click.ClickException(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(interval)


ENDPOINT = click.option(
    "--endpoint-url", default=DEFAULT_ENDPOINT, show_default=True, envvar="HEADWATER_ENDPOINT_URL"
)
INTERVAL = click.option(
    "--interval",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0.01, 60.0),
    help="Seconds between polls.",
)
TIMEOUT = click.option(
    "--timeout",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(0.0, 7 * 86400.0),
    help="Seconds to wait before giving up.",
)


@click.group()
def wait() -> None:
    """Wait for long work (a new index's backfill, an export, an import) to finish, showing its progress."""


@wait.command("index")
@click.argument("table")
@click.argument("index")
@ENDPOINT
@region_option
@INTERVAL
@TIMEOUT
def wait_index(
    table: str, index: str, endpoint_url: str, region: str | None, interval: float, timeout: float
) -> None:
    """Wait until global secondary index INDEX of TABLE is ACTIVE (its backfill done)."""
    region = region_of(endpoint_url, region)
    ddb = client("dynamodb", endpoint_url, region)
    with progress_bar(f"backfilling {index}") as bar:

        def check() -> str | None:
            found = _call(lambda: ddb.describe_table(TableName=table)["Table"])
            indexes = found.get("GlobalSecondaryIndexes", ())
            current = next((ix for ix in indexes if ix["IndexName"] == index), None)
            if current is None:
                raise click.ClickException(f"table {table} has no global secondary index {index}")
            status = current["IndexStatus"]
            if status == "DELETING":
                raise click.ClickException(f"index {index} of table {table} is being deleted")
            account = found["TableArn"].split(":")[4]
            labels = {"account": account, "region": region, "table": table, "index": index}
            samples = scrape(endpoint_url, region, "headwater_index_backfill_items")
            done = gauge(samples, "headwater_index_backfill_items_done", labels)
            total = gauge(samples, "headwater_index_backfill_items_total", labels)
            if status == "ACTIVE":  # done; without the gauges (a refused scrape), the table's count
                done = total = max(done or 0, total or 0) or int(found.get("ItemCount", 0))
            bar.show(f"backfilling {index} ({status})", done or 0, total)
            if status != "ACTIVE":
                return None
            return f"index {index} of table {table} is ACTIVE ({current.get('ItemCount', 0)} items)"

        line = _poll(check, interval, timeout, f"index {index} of table {table}")
    click.echo(line)


@wait.command("export")
@click.argument("export_arn")
@ENDPOINT
@click.option("--region", default=None, help="The export's region (default: its ARN's).")
@INTERVAL
@TIMEOUT
def wait_export(
    export_arn: str, endpoint_url: str, region: str | None, interval: float, timeout: float
) -> None:
    """Wait until export EXPORT_ARN (ExportTableToPointInTime) is COMPLETED; fails if it FAILED."""
    region = region or _arn_region(export_arn, "EXPORT_ARN")
    ddb = client("dynamodb", endpoint_url, region)
    labels = {"export_arn": export_arn}
    with progress_bar("exporting") as bar:

        def check() -> str | None:
            found = _call(lambda: ddb.describe_export(ExportArn=export_arn)["ExportDescription"])
            status = found["ExportStatus"]
            samples = scrape(endpoint_url, region, "headwater_export_items")
            done = gauge(samples, "headwater_export_items_done", labels) or 0
            total = gauge(samples, "headwater_export_items_total", labels)
            if status == "FAILED":
                reason = f"{found.get('FailureCode', '')}: {found.get('FailureMessage', '')}"
                raise click.ClickException(f"export {export_arn} FAILED ({reason})")
            if status == "COMPLETED":
                done = total = int(found.get("ItemCount", done))
            bar.show(f"exporting ({status})", done, total)
            if status != "COMPLETED":
                return None
            return (
                f"export {export_arn} COMPLETED: {found.get('ItemCount', 0)} items, "
                f"{found.get('BilledSizeBytes', 0)} bytes, manifest {found.get('ExportManifest', '')}"
            )

        line = _poll(check, interval, timeout, f"export {export_arn}")
    click.echo(line)


@wait.command("import")
@click.argument("import_arn")
@ENDPOINT
@click.option("--region", default=None, help="The import's region (default: its ARN's).")
@INTERVAL
@TIMEOUT
def wait_import(
    import_arn: str, endpoint_url: str, region: str | None, interval: float, timeout: float
) -> None:
    """Wait until import IMPORT_ARN (ImportTable) is COMPLETED; fails if it FAILED or was CANCELLED."""
    ddb = client("dynamodb", endpoint_url, region or _arn_region(import_arn, "IMPORT_ARN"))
    with progress_bar("importing") as bar:

        def check() -> str | None:
            found = _call(lambda: ddb.describe_import(ImportArn=import_arn)["ImportTableDescription"])
            status = found["ImportStatus"]
            if status in ("FAILED", "CANCELLED"):
                reason = f"{found.get('FailureCode', '')}: {found.get('FailureMessage', '')}"
                raise click.ClickException(f"import {import_arn} {status} ({reason})")
            processed = int(found.get("ProcessedItemCount", 0))
            bar.show(f"importing ({status})", processed, processed if status == "COMPLETED" else None)
            if status != "COMPLETED":
                return None
            return (
                f"import {import_arn} COMPLETED: {found.get('ImportedItemCount', 0)} items imported of "
                f"{processed} read ({found.get('ErrorCount', 0)} errors), "
                f"{found.get('ProcessedSizeBytes', 0)} bytes"
            )

        line = _poll(check, interval, timeout, f"import {import_arn}")
    click.echo(line)


def _arn_region(arn: str, hint: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[3]:
        raise click.BadParameter(f"{arn!r} is not an ARN", param_hint=hint)
    return parts[3]


def _call(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The API's answer; its error (or an unreachable server) as the command's."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as err:
        error = err.response.get("Error", {})
        raise click.ClickException(f"{error.get('Code', 'Error')}: {error.get('Message', '')}") from None
    except BotoCoreError as err:
        raise click.ClickException(str(err)) from None

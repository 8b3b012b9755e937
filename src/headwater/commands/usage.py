"""`headwater usage`: what each table consumed, and what the workload would cost a month on AWS."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import click

from .. import pricing
from .admin import DEFAULT_ENDPOINT, _post

_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)([mhd])")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def load_prices(path: Path | None) -> dict[str, Any]:
    try:
        return pricing.load_prices(path.read_text() if path is not None else None)
    except ValueError as err:
        raise click.ClickException(f"{path}: {err}") from None


def parse_since(text: str | None, now: float) -> float | None:
    """`24h`, `90m`, `7d` ago, an ISO 8601 time (UTC unless it says), or epoch seconds."""
    if text is None:
        return None
    relative = _RELATIVE.fullmatch(text.strip())
    if relative:
        return now - float(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: expected 24h, 90m, 7d, an ISO 8601 time or epoch seconds"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


@click.command()
@click.option(
    "--since", default=None, help="Count from then: 24h, 90m, 7d, an ISO 8601 time, or epoch seconds."
)
@click.option(
    "--region", default=None, help="Only this region's tables (the server's regions: all by default)."
)
@click.option(
    "--price-region",
    default="us-east-1",
    show_default=True,
    help="The AWS region whose prices the monthly cost uses.",
)
@click.option(
    "--prices",
    "prices_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A price file of the same shape as the built-in one (headwater/commands/prices.json).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--endpoint-url", default=DEFAULT_ENDPOINT, show_default=True, envvar="HEADWATER_ENDPOINT_URL")
def usage(
    since: str | None,
    region: str | None,
    price_region: str,
    prices_file: Path | None,
    as_json: bool,
    endpoint_url: str,
) -> None:
    """Per table: the request units (or RCU/WCU-hours) consumed, GSI and replicated writes, stream reads,
    storage, and the month's cost of this workload on AWS under on-demand and provisioned pricing.

    Units are counted by a server running with --meter-usage (or --enforce-capacity)."""
    prices = load_prices(prices_file)
    if price_region not in prices["regions"]:
        known = ", ".join(sorted(prices["regions"]))
        raise click.BadParameter(
            f"no prices for {price_region} (the file has {known})", param_hint="--price-region"
        )
    now = dt.datetime.now(dt.UTC).timestamp()
    body: dict[str, object] = {}
    start = parse_since(since, now)
    if start is not None:
        body["Since"] = start
    if region is not None:
        body["Region"] = region
    out = pricing.priced(_post(endpoint_url, "usage", body), prices, price_region, start)
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    _print(out)


def _print(report: dict[str, Any]) -> None:
    if not report["Metered"]:
        click.echo("note: the server does not run with --meter-usage: units are not counted", err=True)
    click.echo(
        f"over {report['Hours']:.2f} h; monthly cost at {report['PriceRegion']} prices of "
        f"{report['PricesDate']} ({report['Currency']}; prices change)"
    )
    header = (
        "TABLE", "REGION", "MODE", "READ", "WRITE", "GSI WRITE", "REPLICATED", "STREAM READS",
        "RCU-h", "WCU-h", "STORAGE B", "ON-DEMAND/mo", "PROVISIONED/mo",
    )  # fmt: skip
    rows = [header]
    for t in report["Tables"]:
        rows.append(
            (
                t["TableName"] + (" (deleted)" if t["Deleted"] else ""),
                t["Region"],
                "PROVISIONED" if t["BillingMode"] == "PROVISIONED" else "ON-DEMAND",
                f"{t['ReadUnits']:g}",
                f"{t['WriteUnits']:g}",
                f"{t['GsiWriteUnits']:g}",
                f"{t['ReplicatedWriteUnits']:g}",
                f"{t['StreamReadRequests']:g}",
                f"{t['ProvisionedRcuHours']:.3f}",
                f"{t['ProvisionedWcuHours']:.3f}",
                str(t["StorageBytes"]),
                f"{t['OnDemandMonthly']:.4f}",
                f"{t['ProvisionedMonthly']:.4f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())

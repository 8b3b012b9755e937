"""`headwater usage`: what each table consumed, and what the workload would cost a month on AWS."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import click

from .admin import DEFAULT_ENDPOINT, _post

HOURS_PER_MONTH = 730  # AWS's pricing examples' month
_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)([mhd])")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def load_prices(path: Path | None) -> dict[str, Any]:
    text = (
        path.read_text()
        if path is not None
        else resources.files(__package__).joinpath("prices.json").read_text()
    )
    prices: dict[str, Any] = json.loads(text)
    if not isinstance(prices.get("regions"), dict):
        raise click.ClickException(f"{path}: a price file has a 'regions' object")
    return prices


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


def monthly(entry: dict[str, Any], price: dict[str, float], hours: float) -> dict[str, float]:
    """The month's cost of the workload `entry` counted over `hours`, under each capacity mode.

    On-demand: every unit counted, at its price, scaled to a month. Provisioned: a provisioned table's
    capacity for the whole month (what it is provisioned now); an on-demand table's average rate of
    units per second, rounded up, provisioned for the month (no headroom: a lower bound). Both add
    storage (with DynamoDB's 100 bytes per item) and stream reads."""
    scale = HOURS_PER_MONTH / hours
    writes = entry["WriteUnits"] + entry["GsiWriteUnits"]
    shared = (
        entry["BillableStorageBytes"] / 2**30 * price["storage_gb_month"]
        + entry["StreamReadRequests"] / 100_000 * price["stream_read_requests_per_100000"] * scale
    )
    replicated = entry["ReplicatedWriteUnits"] / 1e6 * price["replicated_write_request_units_per_million"]
    on_demand = (
        entry["ReadUnits"] / 1e6 * price["read_request_units_per_million"]
        + writes / 1e6 * price["write_request_units_per_million"]
        + replicated
    ) * scale + shared
    if entry["BillingMode"] == "PROVISIONED":
        rcu, wcu = entry["ProvisionedReadCapacityUnits"], entry["ProvisionedWriteCapacityUnits"]
    else:
        seconds = hours * 3600
        rcu = math.ceil(entry["ReadUnits"] / seconds)
        wcu = math.ceil((writes + entry["ReplicatedWriteUnits"]) / seconds)
    provisioned = HOURS_PER_MONTH * (rcu * price["rcu_hour"] + wcu * price["wcu_hour"]) + shared
    if entry["BillingMode"] == "PROVISIONED":
        provisioned += replicated * scale  # replicated writes beside the table's own capacity
    return {"OnDemandMonthly": round(on_demand, 6), "ProvisionedMonthly": round(provisioned, 6)}


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
    price = prices["regions"].get(price_region)
    if price is None:
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
    report = _post(endpoint_url, "usage", body)
    tables: list[dict[str, Any]] = report["Tables"]  # type: ignore[assignment]
    server_now = float(report["Now"])  # type: ignore[arg-type]
    first = [t["FirstCounted"] for t in tables if t.get("FirstCounted") is not None]
    began = start if start is not None else min(first, default=server_now)
    hours = max(1.0, (server_now - began) / 3600)  # the counters' resolution is an hour
    for entry in tables:
        entry.update(monthly(entry, price, hours))
    out = {
        "Metered": report["Metered"],
        "Hours": hours,
        "PriceRegion": price_region,
        "Currency": prices.get("currency", "USD"),
        "PricesDate": prices.get("date"),
        "Tables": tables,
    }
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

"""What a workload would cost a month on AWS: the price table (commands/prices.json, or the user's file of
its shape) applied to what `POST /_headwater/usage` reports. Pure: `headwater usage` and the console's
usage page both price a report with it."""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

HOURS_PER_MONTH = 730  # AWS's pricing examples' month


def load_prices(text: str | None = None) -> dict[str, Any]:
    """The price table from `text` (a file's JSON), else the built-in one; ValueError if malformed."""
    if text is None:
        text = resources.files("headwater.commands").joinpath("prices.json").read_text()
    prices = json.loads(text)
    if not isinstance(prices, dict) or not isinstance(prices.get("regions"), dict):
        raise ValueError("a price file has a 'regions' object")
    return prices


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


def priced(
    report: dict[str, Any], prices: dict[str, Any], price_region: str, since: float | None
) -> dict[str, Any]:
    """A usage report with each table's monthly cost at `price_region`'s prices (KeyError: no prices for
    it). The counted span is from `since` (else the first hour counted) to the server's now, an hour at
    least (the counters' resolution)."""
    price = prices["regions"][price_region]
    tables: list[dict[str, Any]] = report["Tables"]
    server_now = float(report["Now"])
    first = [t["FirstCounted"] for t in tables if t.get("FirstCounted") is not None]
    began = since if since is not None else min(first, default=server_now)
    hours = max(1.0, (server_now - began) / 3600)
    return {
        "Metered": report["Metered"],
        "Hours": hours,
        "PriceRegion": price_region,
        "Currency": prices.get("currency", "USD"),
        "PricesDate": prices.get("date"),
        "Tables": [{**entry, **monthly(entry, price, hours)} for entry in tables],
    }

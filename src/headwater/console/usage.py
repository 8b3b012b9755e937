"""Usage: what `headwater usage` prints, as a page. The counts come from POST /_headwater/usage, called as
the signed-in principal (under --auth sigv4 it needs headwater:GetUsage); the monthly cost is the same
computation as the command's (pricing.py) with the built-in price table."""

from __future__ import annotations

import time
from typing import Any

from .. import pricing
from ..http.messages import Response
from .client import ApiError
from .html import e, error_box, html_response, options, page, table, url
from .web import Ask, route

SPANS = (
    ("24h", "the last 24 hours"),
    ("1h", "the last hour"),
    ("7d", "the last 7 days"),
    ("30d", "the last 30 days"),
    ("all", "everything counted"),
)
SPAN_SECONDS = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
HEADINGS = (
    "Table", "Mode", "Read units", "Write units", "Stream reads", "Storage", "RCU / WCU-hours",
    "On demand / month", "Provisioned / month",
)  # fmt: skip


async def usage_page(ask: Ask) -> Response:
    prices = pricing.load_prices()
    regions = sorted(prices["regions"])
    span = ask.arg("since") if ask.arg("since") in (*SPAN_SECONDS, "all") else "24h"
    price_region = ask.arg("price_region") if ask.arg("price_region") in regions else "us-east-1"
    since = time.time() - SPAN_SECONDS[span] if span in SPAN_SECONDS else None
    form = (
        f'<form method="get" action="{url("usage")}" class="card" id="usage-form"><div class="row">'
        f'<label>counted over <select name="since">{options(SPANS, span)}</select></label>'
        f'<label>priced at <select name="price_region">'
        f"{options(((r, r) for r in regions), price_region)}</select></label>"
        "<button>Show</button></div></form>"
    )
    try:
        report = await ask.api.admin("usage", {} if since is None else {"Since": since})
    except ApiError as err:
        return html_response(page("Usage", form + error_box(err), ask.viewer, section="usage"))
    out = pricing.priced(report, prices, price_region, since)
    note = (
        ""
        if out["Metered"]
        else '<p class="notice" id="usage-unmetered">This server does not run with --meter-usage (or '
        "--enforce-capacity): request units are not counted, only storage and provisioned capacity.</p>"
    )
    summary = (
        f'<p class="hint" id="usage-summary">Over {out["Hours"]:.2f} h; the monthly cost of this workload at '
        f"{e(out['PriceRegion'])} prices of {e(out['PricesDate'])} (in {e(out['Currency'])}; prices change). "
        "On demand: every request unit at its price; provisioned: the table's capacity, or an on-demand "
        "table's average rate rounded up (a lower bound). Both add storage and stream reads.</p>"
    )
    rows = [_row(entry, ask.viewer.region) for entry in out["Tables"]]
    total = (
        f'<p id="usage-total">All tables: <strong>{sum(t["OnDemandMonthly"] for t in out["Tables"]):.4f}'
        f"</strong> a month on demand, <strong>{sum(t['ProvisionedMonthly'] for t in out['Tables']):.4f}"
        f"</strong> provisioned ({e(out['Currency'])}).</p>"
        if rows
        else ""
    )
    body = form + note + summary + table(HEADINGS, rows, "No table has been counted yet.") + total
    return html_response(page("Usage", body, ask.viewer, section="usage"))


def _row(t: dict[str, Any], region: str) -> list[str]:
    """A table's counts and costs; its name links to its page when it is in the console's region."""
    name = e(t["TableName"]) + (" (deleted)" if t["Deleted"] else "")
    linked = not t["Deleted"] and t["Region"] == region
    writes = (
        f'{t["WriteUnits"]:g}<br><span class="hint">GSI {t["GsiWriteUnits"]:g} · replicated '
        f"{t['ReplicatedWriteUnits']:g}</span>"
    )
    return [
        (f'<a href="{url("tables", t["TableName"])}">{name}</a>' if linked else name)
        + f'<br><span class="hint">{e(t["Region"])}</span>',
        "Provisioned" if t["BillingMode"] == "PROVISIONED" else "On-demand",
        f"{t['ReadUnits']:g}",
        writes,
        f"{t['StreamReadRequests']:g}",
        f"{t['StorageBytes']} bytes",
        f"{t['ProvisionedRcuHours']:.3f} / {t['ProvisionedWcuHours']:.3f}",
        f'<span class="cost">{t["OnDemandMonthly"]:.4f}</span>',
        f'<span class="cost">{t["ProvisionedMonthly"]:.4f}</span>',
    ]


ROUTES = [route("GET", "/usage", usage_page)]

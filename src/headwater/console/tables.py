"""Tables: the list, the create-table form, a table's page with its settings, deletion.

Each page is the API calls a user could make: ListTables, DescribeTable, DescribeTimeToLive, CreateTable,
UpdateTable, UpdateTimeToLive, DeleteTable, ListExports."""

from __future__ import annotations

import asyncio
from typing import Any

from ..http.messages import Response
from . import table_forms
from .client import ApiError
from .html import (
    csrf_field,
    e,
    error_box,
    html_response,
    notice,
    page,
    redirect,
    table,
    url,
)
from .web import Ask, attempt, bounded_int, route

PAGE_SIZE = 25  # tables a list page describes


async def list_tables(ask: Ask) -> Response:
    request: dict[str, Any] = {"Limit": PAGE_SIZE}
    start = ask.arg("start")
    if start:
        request["ExclusiveStartTableName"] = start[:255]
    listed, error = await attempt(ask.api.dynamodb("ListTables", request))
    names: list[str] = list(listed.get("TableNames", []))  # type: ignore[call-overload]
    described = await asyncio.gather(*(_describe(ask, name) for name in names))
    rows, hidden = [], 0
    for name, (desc, ttl, denied) in zip(names, described, strict=True):
        if denied:
            hidden += 1  # the principal may not describe it: the console does not show it
            continue
        rows.append(_row(name, desc, ttl))
    heads = ["Name", "Status", "Items", "Size", "Stream", "TTL", "Indexes", "Capacity", "Region"]
    body = (
        f'{error_box(error)}<p class="actions"><a class="button" href="{url("create-table")}">Create '
        "table</a></p>" + table(heads, rows, "No tables yet.")
    )
    if hidden:
        why = "your policies deny describing them"
        body += f'<p class="hint">{hidden} table(s) on this page are not shown: {why}.</p>'
    last = listed.get("LastEvaluatedTableName")
    if last:
        body += f'<p class="pager"><a href="{url("tables", start=str(last))}">Next page</a></p>'
    return html_response(page("Tables", body, ask.viewer, section="tables"))


async def _describe(ask: Ask, name: str) -> tuple[dict[str, Any], dict[str, Any], bool]:
    try:
        desc, ttl = await asyncio.gather(
            ask.api.dynamodb("DescribeTable", {"TableName": name}),
            ask.api.dynamodb("DescribeTimeToLive", {"TableName": name}),
        )
    except ApiError as err:
        return {}, {}, err.type_name == "AccessDeniedException"
    return desc.get("Table", {}), ttl.get("TimeToLiveDescription", {}), False


def _row(name: str, desc: dict[str, Any], ttl: dict[str, Any]) -> list[str]:
    stream = desc.get("StreamSpecification", {})
    gsis, lsis = desc.get("GlobalSecondaryIndexes", []), desc.get("LocalSecondaryIndexes", [])
    indexes = ", ".join(e(i["IndexName"]) for i in [*gsis, *lsis]) or "—"
    return [
        f'<a href="{url("tables", name)}">{e(name)}</a>',
        e(desc.get("TableStatus", "?")),
        e(desc.get("ItemCount", 0)),
        e(human_bytes(int(desc.get("TableSizeBytes", 0)))),
        e(stream.get("StreamViewType", "")) if stream.get("StreamEnabled") else "off",
        e(ttl.get("AttributeName", "")) if ttl.get("TimeToLiveStatus") == "ENABLED" else "off",
        indexes,
        e(_capacity(desc)),
        e(region_of(desc.get("TableArn", ""))),
    ]


def human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def _capacity(desc: dict[str, Any]) -> str:
    if desc.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST":
        return "on-demand"
    throughput = desc.get("ProvisionedThroughput", {})
    return f"{throughput.get('ReadCapacityUnits', 0)} RCU / {throughput.get('WriteCapacityUnits', 0)} WCU"


async def new_table(ask: Ask) -> Response:
    return html_response(_new_page(ask, None))


def _new_page(ask: Ask, error: ApiError | None) -> str:
    body = error_box(error) + table_forms.create_form(ask.viewer, ask.form)
    return page("Create table", body, ask.viewer, section="tables")


async def create_table(ask: Ask) -> Response:
    try:
        request = table_forms.create_request(ask.form)
    except ApiError as err:
        return html_response(_new_page(ask, err), 400)
    name = request["TableName"]
    _, error = await attempt(ask.api.dynamodb("CreateTable", request))
    if error is not None:
        return html_response(_new_page(ask, error), 400)
    ttl_attribute = ask.arg("ttl")
    if ttl_attribute:
        spec = {"Enabled": True, "AttributeName": ttl_attribute}
        _, error = await attempt(
            ask.api.dynamodb("UpdateTimeToLive", {"TableName": name, "TimeToLiveSpecification": spec})
        )
        if error is not None:
            return await _table_page(ask, name, error, "The table was created; its TTL setting was refused.")
    return redirect(url("tables", name, done="created"))


async def show_table(ask: Ask, name: str) -> Response:
    done = {"created": "Table created.", "updated": "Change sent.", "index": "Index change sent."}
    return await _table_page(ask, name, None, done.get(ask.arg("done"), ""))


async def _table_page(ask: Ask, name: str, error: ApiError | None, message: str = "") -> Response:
    try:
        desc, ttl = await asyncio.gather(
            ask.api.dynamodb("DescribeTable", {"TableName": name}),
            ask.api.dynamodb("DescribeTimeToLive", {"TableName": name}),
        )
    except ApiError as err:
        body = error_box(err) + f'<p><a href="{url("tables")}">Back to the tables</a></p>'
        return html_response(page(name, body, ask.viewer, section="tables"), 200)
    info: dict[str, Any] = desc.get("Table", {})
    ttl_info: dict[str, Any] = ttl.get("TimeToLiveDescription", {})
    exports = await _exports_in_progress(ask, info.get("TableArn", ""))
    body = (
        error_box(error)
        + notice(message)
        + f'<p class="actions"><a class="button" href="{url("tables", name, "items")}">Items</a> '
        + f'<a class="button" href="{url("tables", name, "stream")}">Stream</a></p>'
        + table_forms.summary(info, ttl_info)
        + table_forms.indexes(name, info, ask.viewer)
        + progress_section(name, info, exports)
        + table_forms.settings_forms(name, info, ttl_info, ask.viewer)
        + _delete_form(name, ask)
    )
    return html_response(page(name, body, ask.viewer, section="tables", scripts=["progress.js"]))


async def _exports_in_progress(ask: Ask, arn: str) -> list[str]:
    if not arn:
        return []
    listed, _ = await attempt(ask.api.dynamodb("ListExports", {"TableArn": arn, "MaxResults": 25}))
    found: list[dict[str, Any]] = listed.get("ExportSummaries", [])  # type: ignore[assignment]
    return [s["ExportArn"] for s in found if s.get("ExportStatus") == "IN_PROGRESS"]


def progress_section(name: str, info: dict[str, Any], exports: list[str]) -> str:
    """Long work under way: a GSI backfilling (CREATING) or an export IN_PROGRESS. progress.js fills the
    bars from /metrics' headwater_index_backfill_items_* and headwater_export_items_done when the server
    reports them; without them the status alone is shown."""
    bars = []
    for index in info.get("GlobalSecondaryIndexes", []):
        if index.get("IndexStatus") == "CREATING" or index.get("Backfilling"):
            bars.append(
                f'<div class="progress" data-kind="backfill" data-table="{e(name)}" '
                f'data-index="{e(index["IndexName"])}">Index {e(index["IndexName"])}: backfilling '
                '<progress max="1"></progress> <span class="count"></span></div>'
            )
    for arn in exports:
        bars.append(
            f'<div class="progress" data-kind="export" data-export="{e(arn)}">Export '
            f"{e(arn.rpartition('/')[2])}: "
            'in progress <progress max="1"></progress> <span class="count"></span></div>'
        )
    return f"<section><h2>Work in progress</h2>{''.join(bars)}</section>" if bars else ""


def _delete_form(name: str, ask: Ask) -> str:
    return (
        '<section class="danger"><h2>Delete table</h2><form method="post" '
        f'action="{url("tables", name, "delete")}">'
        f"{csrf_field(ask.viewer)}<label>Type the table's name to confirm "
        f'<input name="confirm" autocomplete="off" maxlength="255" required></label>'
        '<button class="danger" type="submit">Delete table</button></form></section>'
    )


async def delete_table(ask: Ask, name: str) -> Response:
    if ask.arg("confirm") != name:
        refusal = ApiError(400, "ConfirmationMismatch", "type the table's name exactly to delete it")
        return await _table_page(ask, name, refusal)
    _, error = await attempt(ask.api.dynamodb("DeleteTable", {"TableName": name}))
    if error is not None:
        return await _table_page(ask, name, error)
    return redirect(url("tables"))


async def update_settings(ask: Ask, name: str) -> Response:
    change = ask.arg("change")
    if change == "ttl":
        enabled = ask.arg("enabled") == "on"
        spec = {"Enabled": enabled, "AttributeName": ask.arg("attribute")}
        call = ask.api.dynamodb("UpdateTimeToLive", {"TableName": name, "TimeToLiveSpecification": spec})
    else:
        call = ask.api.dynamodb("UpdateTable", table_forms.update_request(name, change, ask))
    _, error = await attempt(call)
    if error is not None:
        return await _table_page(ask, name, error)
    return redirect(url("tables", name, done="updated"))


async def update_indexes(ask: Ask, name: str) -> Response:
    _, error = await attempt(ask.api.dynamodb("UpdateTable", table_forms.index_request(name, ask)))
    if error is not None:
        return await _table_page(ask, name, error)
    return redirect(url("tables", name, done="index"))


def capacity_units(ask: Ask, prefix: str = "") -> dict[str, int]:
    return {
        "ReadCapacityUnits": bounded_int(ask.arg(prefix + "rcu", "5"), 5, 0, 10**12),
        "WriteCapacityUnits": bounded_int(ask.arg(prefix + "wcu", "5"), 5, 0, 10**12),
    }


ROUTES = [
    route("GET", "/tables", list_tables),
    route("GET", "/create-table", new_table),
    route("POST", "/create-table", create_table),
    route("GET", "/tables/([^/]+)", show_table),
    route("POST", "/tables/([^/]+)/delete", delete_table),
    route("POST", "/tables/([^/]+)/settings", update_settings),
    route("POST", "/tables/([^/]+)/indexes", update_indexes),
]

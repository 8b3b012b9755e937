"""The table forms: what they show, and the API request each one becomes. The console checks nothing the
API checks: an empty or wrong field goes to the API, and its error is what the page shows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .html import Viewer, csrf_field, e, options, pretty, table, url
from .web import bounded_int

if TYPE_CHECKING:
    from .web import Ask

KEY_TYPES = (("S", "String"), ("N", "Number"), ("B", "Binary"))
VIEW_TYPES = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
GSI_ROWS = 2  # index rows of the create form (more can be added on the table's page)
LSI_ROWS = 2


def _key_inputs(prefix: str, form: dict[str, str], label: str, required: bool = False) -> str:
    need = " required" if required else ""
    return (
        f'<span class="key"><label>{e(label)} <input name="{prefix}" value="{e(form.get(prefix, ""))}" '
        f'maxlength="255"{need}></label><label>type <select name="{prefix}_type">'
        f"{options(KEY_TYPES, form.get(prefix + '_type', 'S'))}</select></label></span>"
    )


def _projection_inputs(prefix: str, form: dict[str, str]) -> str:
    return (
        f'<label>projection <select name="{prefix}proj">'
        f"{options([(p, p) for p in PROJECTIONS], form.get(prefix + 'proj', 'ALL'))}</select></label>"
        f'<label>included attributes <input name="{prefix}include" placeholder="a, b" '
        f'value="{e(form.get(prefix + "include", ""))}" maxlength="2048"></label>'
    )


def create_form(viewer: Viewer, form: dict[str, str]) -> str:
    gsis = "".join(
        f'<fieldset><legend>Global secondary index {n + 1}</legend><label>name <input name="gsi{n}_name" '
        f'value="{e(form.get(f"gsi{n}_name", ""))}" maxlength="255"></label>'
        f"{_key_inputs(f'gsi{n}_pk', form, 'partition key')}{_key_inputs(f'gsi{n}_sk', form, 'sort key')}"
        f"{_projection_inputs(f'gsi{n}_', form)}</fieldset>"
        for n in range(GSI_ROWS)
    )
    lsis = "".join(
        f'<fieldset><legend>Local secondary index {n + 1}</legend><label>name <input name="lsi{n}_name" '
        f'value="{e(form.get(f"lsi{n}_name", ""))}" maxlength="255"></label>'
        f"{_key_inputs(f'lsi{n}_sk', form, 'sort key')}{_projection_inputs(f'lsi{n}_', form)}</fieldset>"
        for n in range(LSI_ROWS)
    )
    billing = form.get("billing", "PAY_PER_REQUEST")
    view = form.get("view", "NEW_AND_OLD_IMAGES")
    return (
        f'<form method="post" action="{url("create-table")}" class="card" '
        f'id="create-table">{csrf_field(viewer)}'
        f'<label>Table name <input name="name" value="{e(form.get("name", ""))}" required '
        'maxlength="255"></label>'
        f"{_key_inputs('pk', form, 'Partition key', True)}{_key_inputs('sk', form, 'Sort key (optional)')}"
        "<fieldset><legend>Capacity</legend>"
        f'<label><input type="radio" name="billing" value="PAY_PER_REQUEST"'
        f"{' checked' if billing == 'PAY_PER_REQUEST' else ''}> On-demand</label>"
        f'<label><input type="radio" name="billing" value="PROVISIONED"'
        f"{' checked' if billing == 'PROVISIONED' else ''}> Provisioned</label>"
        '<label>read units <input name="rcu" type="number" min="1" '
        f'value="{e(form.get("rcu", "5"))}"></label>'
        '<label>write units <input name="wcu" type="number" min="1" '
        f'value="{e(form.get("wcu", "5"))}"></label>'
        "<small>Provisioned units apply to the table and its global indexes.</small></fieldset>"
        "<fieldset><legend>Stream</legend>"
        f'<label><input type="checkbox" name="stream"{" checked" if form.get("stream") else ""}> '
        "Enabled</label>"
        f'<label>view type <select name="view">{options([(v, v) for v in VIEW_TYPES], view)}</select></label>'
        "</fieldset>"
        f'<fieldset><legend>Settings</legend><label>TTL attribute <input name="ttl" '
        f'value="{e(form.get("ttl", ""))}" maxlength="255" placeholder="off"></label>'
        f'<label><input type="checkbox" name="protect"{" checked" if form.get("protect") else ""}> '
        "Deletion protection</label></fieldset>"
        f"<details{' open' if any(form.get(f'gsi{n}_name') for n in range(GSI_ROWS)) else ''}>"
        f"<summary>Global secondary indexes</summary>{gsis}</details>"
        f"<details{' open' if any(form.get(f'lsi{n}_name') for n in range(LSI_ROWS)) else ''}>"
        f"<summary>Local secondary indexes</summary>{lsis}</details>"
        '<button type="submit">Create table</button></form>'
    )


def _projection(form: dict[str, str], prefix: str) -> dict[str, Any]:
    kind = form.get(prefix + "proj", "ALL")
    projection: dict[str, Any] = {"ProjectionType": kind}
    if kind == "INCLUDE":
        projection["NonKeyAttributes"] = [
            a.strip() for a in form.get(prefix + "include", "").split(",") if a.strip()
        ]
    return projection


def create_request(form: dict[str, str]) -> dict[str, Any]:
    """CreateTable from the form: key attributes defined once each, empty index rows left out."""
    definitions: dict[tuple[str, str], None] = {}

    def key(prefix: str, kind: str) -> list[dict[str, str]]:
        name = form.get(prefix, "").strip()
        if not name:
            return []
        definitions[(name, form.get(prefix + "_type", "S"))] = None
        return [{"AttributeName": name, "KeyType": kind}]

    request: dict[str, Any] = {"TableName": form.get("name", "").strip()}
    request["KeySchema"] = key("pk", "HASH") + key("sk", "RANGE")
    provisioned = form.get("billing") == "PROVISIONED"
    throughput = {
        "ReadCapacityUnits": bounded_int(form.get("rcu", "5"), 5, 0, 10**12),
        "WriteCapacityUnits": bounded_int(form.get("wcu", "5"), 5, 0, 10**12),
    }
    request["BillingMode"] = "PROVISIONED" if provisioned else "PAY_PER_REQUEST"
    if provisioned:
        request["ProvisionedThroughput"] = throughput
    gsis = []
    for n in range(GSI_ROWS):
        name = form.get(f"gsi{n}_name", "").strip()
        if name:
            index: dict[str, Any] = {
                "IndexName": name,
                "KeySchema": key(f"gsi{n}_pk", "HASH") + key(f"gsi{n}_sk", "RANGE"),
                "Projection": _projection(form, f"gsi{n}_"),
            }
            if provisioned:
                index["ProvisionedThroughput"] = throughput
            gsis.append(index)
    lsis = []
    for n in range(LSI_ROWS):
        name = form.get(f"lsi{n}_name", "").strip()
        if name:
            schema = (
                [{"AttributeName": request["KeySchema"][0]["AttributeName"], "KeyType": "HASH"}]
                if (request["KeySchema"])
                else []
            )
            lsis.append(
                {
                    "IndexName": name,
                    "KeySchema": schema + key(f"lsi{n}_sk", "RANGE"),
                    "Projection": _projection(form, f"lsi{n}_"),
                }
            )
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    if lsis:
        request["LocalSecondaryIndexes"] = lsis
    request["AttributeDefinitions"] = [{"AttributeName": n, "AttributeType": t} for n, t in definitions]
    if form.get("stream"):
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": form.get("view", "")}
    if form.get("protect"):
        request["DeletionProtectionEnabled"] = True
    return request


def _keys(schema: list[dict[str, str]], definitions: dict[str, str]) -> str:
    return ", ".join(
        f"{e(k['AttributeName'])} ({e(definitions.get(k['AttributeName'], '?'))}, {k['KeyType'].lower()})"
        for k in schema
    )


def summary(info: dict[str, Any], ttl: dict[str, Any]) -> str:
    definitions = {d["AttributeName"]: d["AttributeType"] for d in info.get("AttributeDefinitions", [])}
    stream = info.get("StreamSpecification", {})
    billing = info.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    throughput = info.get("ProvisionedThroughput", {})
    rows = [
        ("Status", e(info.get("TableStatus", ""))),
        ("ARN", f"<code>{e(info.get('TableArn', ''))}</code>"),
        ("Keys", _keys(info.get("KeySchema", []), definitions)),
        ("Items", e(info.get("ItemCount", 0))),
        ("Size (bytes)", e(info.get("TableSizeBytes", 0))),
        (
            "Capacity",
            "on-demand"
            if billing == "PAY_PER_REQUEST"
            else f"provisioned: {e(throughput.get('ReadCapacityUnits'))} read, "
            f"{e(throughput.get('WriteCapacityUnits'))} write units",
        ),
        ("Warm throughput", _warm(info)),
        (
            "Stream",
            f"{e(stream.get('StreamViewType'))} <code>{e(info.get('LatestStreamArn', ''))}</code>"
            if stream.get("StreamEnabled")
            else "off",
        ),
        ("TTL", f"{e(ttl.get('TimeToLiveStatus', 'DISABLED'))} {e(ttl.get('AttributeName', ''))}"),
        ("Deletion protection", "on" if info.get("DeletionProtectionEnabled") else "off"),
    ]
    cells = "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<section id="overview"><h2>Overview</h2><dl class="facts">{cells}</dl></section>'


def _warm(info: dict[str, Any]) -> str:
    """What the table serves at once (WarmThroughput), and its on-demand maximums (OnDemandThroughput)."""
    warm = info.get("WarmThroughput") or {}
    text = (
        f"{e(warm.get('ReadUnitsPerSecond'))} read, {e(warm.get('WriteUnitsPerSecond'))} write units a "
        f"second ({e(warm.get('Status', ''))})"
        if warm
        else "—"
    )
    maximums = info.get("OnDemandThroughput") or {}
    limits = [
        f"{e(maximums[member])} {kind}"
        for member, kind in (("MaxReadRequestUnits", "read"), ("MaxWriteRequestUnits", "write"))
        if member in maximums
    ]
    return text + (f"; at most {', '.join(limits)} request units a second" if limits else "")


def indexes(name: str, info: dict[str, Any], viewer: Viewer) -> str:
    definitions = {d["AttributeName"]: d["AttributeType"] for d in info.get("AttributeDefinitions", [])}
    rows = []
    for kind, key in (("global", "GlobalSecondaryIndexes"), ("local", "LocalSecondaryIndexes")):
        for index in info.get(key, []):
            delete = ""
            if kind == "global":
                delete = (
                    f'<form method="post" action="{url("tables", name, "indexes")}" class="inline">'
                    f'{csrf_field(viewer)}<input type="hidden" name="action" value="delete">'
                    f'<input type="hidden" name="index" value="{e(index["IndexName"])}">'
                    '<button class="link danger">Delete</button></form>'
                )
            rows.append(
                [
                    e(index["IndexName"]),
                    kind,
                    _keys(index.get("KeySchema", []), definitions),
                    e(index.get("Projection", {}).get("ProjectionType", "")),
                    e(index.get("IndexStatus", "ACTIVE")),
                    e(index.get("ItemCount", 0)),
                    delete,
                ]
            )
    billing = info.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    throughput = info.get("ProvisionedThroughput", {})
    units = (
        '<label>read units <input name="rcu" type="number" '
        f'value="{e(throughput.get("ReadCapacityUnits") or 5)}"></label>'
        '<label>write units <input name="wcu" type="number" '
        f'value="{e(throughput.get("WriteCapacityUnits") or 5)}"></label>'
        if billing == "PROVISIONED"
        else ""
    )
    add = (
        f'<details><summary>Add a global secondary index</summary><form method="post" '
        f'action="{url("tables", name, "indexes")}" class="card">{csrf_field(viewer)}'
        '<input type="hidden" name="action" value="create">'
        '<label>name <input name="index" maxlength="255" required></label>'
        f"{_key_inputs('gsi_pk', {}, 'partition key', True)}{_key_inputs('gsi_sk', {}, 'sort key')}"
        f"{_projection_inputs('gsi_', {})}{units}"
        f'<input type="hidden" name="billing" value="{e(billing)}">'
        '<button type="submit">Add index</button></form></details>'
    )
    heads = ["Index", "Kind", "Keys", "Projection", "Status", "Items", ""]
    listed = table(heads, rows, "No secondary indexes.")
    return f'<section id="indexes"><h2>Indexes</h2>{listed}{add}</section>'


def index_request(name: str, ask: Ask) -> dict[str, Any]:
    index = ask.arg("index")
    if ask.arg("action") == "delete":
        return {"TableName": name, "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": index}}]}
    form = ask.form
    schema = [{"AttributeName": ask.arg("gsi_pk"), "KeyType": "HASH"}]
    definitions = [{"AttributeName": ask.arg("gsi_pk"), "AttributeType": form.get("gsi_pk_type", "S")}]
    if ask.arg("gsi_sk"):
        schema.append({"AttributeName": ask.arg("gsi_sk"), "KeyType": "RANGE"})
        definitions.append(
            {"AttributeName": ask.arg("gsi_sk"), "AttributeType": form.get("gsi_sk_type", "S")}
        )
    create: dict[str, Any] = {
        "IndexName": index,
        "KeySchema": schema,
        "Projection": _projection(form, "gsi_"),
    }
    if ask.arg("billing") == "PROVISIONED":
        create["ProvisionedThroughput"] = {
            "ReadCapacityUnits": bounded_int(ask.arg("rcu"), 5, 0, 10**12),
            "WriteCapacityUnits": bounded_int(ask.arg("wcu"), 5, 0, 10**12),
        }
    return {
        "TableName": name,
        "AttributeDefinitions": definitions,
        "GlobalSecondaryIndexUpdates": [{"Create": create}],
    }


def settings_forms(name: str, info: dict[str, Any], ttl: dict[str, Any], viewer: Viewer) -> str:
    action = url("tables", name, "settings")
    billing = info.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    throughput = info.get("ProvisionedThroughput", {})
    stream = info.get("StreamSpecification", {})
    enabled_ttl = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")

    def form(change: str, inner: str, button: str) -> str:
        return (
            f'<form method="post" action="{action}" class="card">{csrf_field(viewer)}'
            f'<input type="hidden" name="change" value="{change}">{inner}<button '
            f'type="submit">{button}</button></form>'
        )

    capacity = form(
        "capacity",
        '<label>mode <select name="billing">'
        f"{options([('PAY_PER_REQUEST', 'On-demand'), ('PROVISIONED', 'Provisioned')], billing)}"
        "</select></label>"
        '<label>read units <input name="rcu" type="number" '
        f'value="{e(throughput.get("ReadCapacityUnits") or 5)}">'
        f'</label><label>write units <input name="wcu" type="number" '
        f'value="{e(throughput.get("WriteCapacityUnits") or 5)}"></label>',
        "Save capacity",
    )
    streams = form(
        "stream",
        f'<label><input type="checkbox" name="enabled"{" checked" if stream.get("StreamEnabled") else ""}> '
        f'Stream enabled</label><label>view type <select name="view">'
        f"{options([(v, v) for v in VIEW_TYPES], stream.get('StreamViewType', 'NEW_AND_OLD_IMAGES'))}"
        "</select></label>",
        "Save stream",
    )
    ttl_form = form(
        "ttl",
        f'<label><input type="checkbox" name="enabled"{" checked" if enabled_ttl else ""}> TTL '
        "enabled</label>"
        f'<label>attribute <input name="attribute" value="{e(ttl.get("AttributeName", ""))}" maxlength="255">'
        "</label>",
        "Save TTL",
    )
    protection = form(
        "protection",
        '<label><input type="checkbox" '
        f'name="enabled"{" checked" if info.get("DeletionProtectionEnabled") else ""}>'
        " Deletion protection</label>",
        "Save protection",
    )
    raw = f"<details><summary>DescribeTable</summary><pre>{e(pretty(info))}</pre></details>"
    forms = f"{capacity}{streams}{ttl_form}{protection}"
    return f'<section id="settings"><h2>Settings</h2><div class="grid">{forms}</div>{raw}</section>'


def update_request(name: str, change: str, ask: Ask) -> dict[str, Any]:
    request: dict[str, Any] = {"TableName": name}
    enabled = ask.arg("enabled") == "on"
    if change == "capacity":
        request["BillingMode"] = ask.arg("billing")
        if ask.arg("billing") == "PROVISIONED":
            request["ProvisionedThroughput"] = {
                "ReadCapacityUnits": bounded_int(ask.arg("rcu"), 5, 0, 10**12),
                "WriteCapacityUnits": bounded_int(ask.arg("wcu"), 5, 0, 10**12),
            }
    elif change == "stream":
        request["StreamSpecification"] = (
            {"StreamEnabled": True, "StreamViewType": ask.arg("view")}
            if enabled
            else {"StreamEnabled": False}
        )
    elif change == "protection":
        request["DeletionProtectionEnabled"] = enabled
    return request

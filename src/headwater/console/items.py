"""Items: Scan and Query one page at a time (never more than the page asked for), the JSON editor that
puts an item, deletion. The form builds the expressions; a raw expression box overrides them; whatever is
wrong in them the API says."""

from __future__ import annotations

from typing import Any

from ..http.messages import Response
from .client import ApiError
from .html import (
    Viewer,
    csrf_field,
    e,
    error_box,
    html_response,
    notice,
    options,
    page,
    pretty,
    redirect,
    table,
    url,
)
from .itemjson import decode_key, encode_key, item_from_text, json_object, plain_text
from .web import Ask, attempt, bounded_int, route

PAGE_SIZE = 25
MAX_PAGE = 100
CELL_CHARS = 80
SORT_OPS: tuple[tuple[str, str], ...] = (("", "(any)"), ("=", "="), ("<", "<"), ("<=", "<="), (">", ">"))
SORT_OPS += ((">=", ">="), ("begins_with", "begins with"), ("between", "between"))
FILTER_OPS = (
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "begins_with",
    "contains",
    "attribute_exists",
    "attribute_not_exists",
)
VALUE_TYPES = (("S", "string"), ("N", "number"), ("BOOL", "boolean"))


async def _describe(ask: Ask, name: str) -> dict[str, Any]:
    desc = await ask.api.dynamodb("DescribeTable", {"TableName": name})
    table_info: dict[str, Any] = desc.get("Table", {})
    return table_info


def _keys_of(info: dict[str, Any], index: str) -> tuple[list[str], dict[str, str]]:
    """The key attribute names (partition first) of the table or one of its indexes, and every key type."""
    types = {d["AttributeName"]: d["AttributeType"] for d in info.get("AttributeDefinitions", [])}
    schema = info.get("KeySchema", [])
    for found in [*info.get("GlobalSecondaryIndexes", []), *info.get("LocalSecondaryIndexes", [])]:
        if found["IndexName"] == index:
            schema = found["KeySchema"]
    ordered = sorted(schema, key=lambda k: k["KeyType"] != "HASH")
    return [k["AttributeName"] for k in ordered], types


def _typed(value: str, kind: str) -> dict[str, Any]:
    if kind == "BOOL":
        return {"BOOL": value.lower() in ("true", "1", "yes")}
    return {kind if kind in ("S", "N", "B") else "S": value}


def build_request(ask: Ask, name: str, info: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(Scan | Query, its request) from the form; ApiError for a values box that is not JSON."""
    query = ask.arg("mode") == "query"
    index = ask.arg("index")
    request: dict[str, Any] = {
        "TableName": name,
        "Limit": bounded_int(ask.arg("limit"), PAGE_SIZE, 1, MAX_PAGE),
    }
    if index:
        request["IndexName"] = index
    names = json_object(ask.arg("names"), "ExpressionAttributeNames") if ask.arg("names") else {}
    values = json_object(ask.arg("values"), "ExpressionAttributeValues") if ask.arg("values") else {}
    keys, types = _keys_of(info, index)
    if query:
        raw = ask.arg("key_condition")
        if raw:
            request["KeyConditionExpression"] = raw
        elif keys:
            names["#hwpk"] = keys[0]
            values[":hwpk"] = _typed(ask.arg("pk"), types.get(keys[0], "S"))
            condition = "#hwpk = :hwpk"
            op = ask.arg("sk_op")
            if op and len(keys) > 1:
                names["#hwsk"] = keys[1]
                kind = types.get(keys[1], "S")
                values[":hwsk"] = _typed(ask.arg("sk"), kind)
                if op == "begins_with":
                    condition += " AND begins_with(#hwsk, :hwsk)"
                elif op == "between":
                    values[":hwsk2"] = _typed(ask.arg("sk2"), kind)
                    condition += " AND #hwsk BETWEEN :hwsk AND :hwsk2"
                else:
                    condition += f" AND #hwsk {op} :hwsk"
            request["KeyConditionExpression"] = condition
        if ask.arg("order") == "desc":
            request["ScanIndexForward"] = False
    raw_filter = ask.arg("filter")
    attribute, op = ask.arg("f_attr"), ask.arg("f_op")
    if raw_filter:
        request["FilterExpression"] = raw_filter
    elif attribute and op in FILTER_OPS:
        names["#hwf"] = attribute
        if op in ("attribute_exists", "attribute_not_exists"):
            request["FilterExpression"] = f"{op}(#hwf)"
        else:
            values[":hwf"] = _typed(ask.arg("f_value"), ask.arg("f_type") or "S")
            request["FilterExpression"] = (
                f"{op}(#hwf, :hwf)" if op in ("begins_with", "contains") else f"#hwf {op} :hwf"
            )
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = values
    start = decode_key(ask.arg("start"))
    if start is not None:
        request["ExclusiveStartKey"] = start
    return ("Query" if query else "Scan"), request


async def list_items(ask: Ask, name: str) -> Response:
    try:
        info = await _describe(ask, name)
    except ApiError as err:
        return html_response(page(f"{name}: items", error_box(err), ask.viewer, section="tables"))
    error: ApiError | None = None
    found: dict[str, Any] = {}
    try:
        operation, request = build_request(ask, name, info)
        found = await ask.api.dynamodb(operation, request)
    except ApiError as err:
        error = err
    done = {"saved": "Item saved.", "deleted": "Item deleted."}.get(ask.arg("done"), "")
    body = (
        f'<p class="actions"><a href="{url("tables", name)}">Table</a> · '
        f'<a class="button" href="{url("tables", name, "item")}">New item</a></p>'
        + notice(done)
        + _search_form(ask, name, info)
        + error_box(error)
        + _results(ask, name, info, found)
    )
    return html_response(page(f"{name}: items", body, ask.viewer, section="tables"))


def _search_form(ask: Ask, name: str, info: dict[str, Any]) -> str:
    indexes = [("", "(table)")] + [
        (i["IndexName"], i["IndexName"])
        for i in [*info.get("GlobalSecondaryIndexes", []), *info.get("LocalSecondaryIndexes", [])]
    ]
    keys, _ = _keys_of(info, ask.arg("index"))
    mode = ask.arg("mode") or "scan"
    sk_label = keys[1] if len(keys) > 1 else "sort key"

    def text(field: str, label: str, size: str = "") -> str:
        value = e(ask.arg(field))
        return f'<label>{e(label)} <input name="{field}" value="{value}" maxlength="4096"{size}></label>'

    def area(field: str, label: str) -> str:
        value = e(ask.arg(field))
        return (
            f'<label>{e(label)} <textarea name="{field}" rows="2" maxlength="4096">{value}</textarea></label>'
        )

    return (
        f'<form method="get" action="{url("tables", name, "items")}" class="card" id="search">'
        '<div class="row"><label>operation <select '
        f'name="mode">{options([("scan", "Scan"), ("query", "Query")], mode)}'
        "</select></label><label>index <select "
        f'name="index">{options(indexes, ask.arg("index"))}</select></label>'
        f'<label>page size <input name="limit" type="number" min="1" max="{MAX_PAGE}" '
        f'value="{e(ask.arg("limit") or PAGE_SIZE)}"></label>'
        "<label>order <select "
        f'name="order">{options([("asc", "ascending"), ("desc", "descending")], ask.arg("order"))}'
        "</select></label></div>"
        "<fieldset><legend>Key condition "
        f"(Query)</legend>{text('pk', (keys[0] if keys else 'partition key') + ' =')}"
        f'<label>{e(sk_label)} <select name="sk_op">{options(SORT_OPS, ask.arg("sk_op"))}</select></label>'
        f"{text('sk', 'value')}{text('sk2', 'and (between)')}</fieldset>"
        "<fieldset><legend>Filter</legend>"
        f'{text("f_attr", "attribute")}<label>condition <select name="f_op">'
        f"{options([('', '(none)'), *((o, o) for o in FILTER_OPS)], ask.arg('f_op'))}</select></label>"
        f"{text('f_value', 'value')}<label>type <select "
        f'name="f_type">{options(VALUE_TYPES, ask.arg("f_type"))}'
        "</select></label></fieldset>"
        "<details><summary>Raw expressions</summary>"
        f"{area('key_condition', 'KeyConditionExpression')}{area('filter', 'FilterExpression')}"
        f"{area('names', 'ExpressionAttributeNames (JSON)')}"
        f"{area('values', 'ExpressionAttributeValues (DynamoDB JSON)')}"
        "</details>"
        '<button type="submit">Run</button></form>'
    )


def _results(ask: Ask, name: str, info: dict[str, Any], found: dict[str, Any]) -> str:
    items: list[dict[str, Any]] = found.get("Items", [])
    table_keys = [
        k["AttributeName"] for k in sorted(info.get("KeySchema", []), key=lambda k: k["KeyType"] != "HASH")
    ]
    columns = list(table_keys)
    for item in items:
        columns += [a for a in item if a not in columns]
    columns = columns[:20]  # a wide item scrolls in its editor, not across the page
    rows = []
    for item in items:
        key = {k: item[k] for k in table_keys if k in item}
        cells = [e(_cell(item[c])) if c in item else "" for c in columns]
        edit = f'<a href="{url("tables", name, "item", key=encode_key(key))}">edit</a>'
        delete = (
            f'<form method="post" action="{url("tables", name, "item", "delete")}" class="inline">'
            f'{csrf_field(ask.viewer)}<input type="hidden" name="key" value="{e(encode_key(key))}">'
            '<button class="link danger">delete</button></form>'
        )
        rows.append([f"{edit} {delete}", *cells])
    summary = ""
    if found:
        summary = (
            f'<p class="hint">{e(found.get("Count", 0))} item(s) returned, {e(found.get("ScannedCount", 0))} '
            "read (ScannedCount) on this page.</p>"
        )
    pager = ""
    last = found.get("LastEvaluatedKey")
    if last:
        query = {k: v for k, v in ask.query.items() if k not in ("start", "done")}
        following = url("tables", name, "items", **query, start=encode_key(last))
        pager = f'<p class="pager"><a rel="next" href="{following}">Next page</a></p>'
    return summary + table(["", *columns], rows, "No items on this page.") + pager


def _cell(value: dict[str, Any]) -> str:
    text = plain_text(value)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


async def edit_item(ask: Ask, name: str, failed: ApiError | None = None) -> Response:
    text, error = "{\n  \n}", failed
    key = decode_key(ask.arg("key"))
    if key is not None:
        got, error = await attempt(
            ask.api.dynamodb("GetItem", {"TableName": name, "Key": key, "ConsistentRead": True})
        )
        if got.get("Item") is not None:
            text = pretty(got["Item"])
        elif error is None:
            error = ApiError(404, "NotFound", "no item has that key (it may have been deleted)")
    done = notice("Item updated.") if ask.arg("done") == "updated" else ""
    updating = _update_form(ask, name) if key is not None else ""
    page_text = _editor_page(ask.viewer, name, text, "ddb", failed or error, done + updating)
    return html_response(page_text, 400 if failed else 200)


def _update_form(ask: Ask, name: str) -> str:
    """UpdateItem on the item shown: an update expression, an optional condition, their names and values."""

    def area(field: str, label: str, rows: int = 2) -> str:
        return (
            f'<label>{e(label)} <textarea name="{field}" rows="{rows}" maxlength="4096">'
            f"{e(ask.form.get(field, ''))}</textarea></label>"
        )

    return (
        f"<details{' open' if ask.form.get('update') else ''}><summary>Update with an expression</summary>"
        f'<form method="post" action="{url("tables", name, "item", "update")}" class="card" id="update">'
        f"{csrf_field(ask.viewer)}"
        f'<input type="hidden" name="key" value="{e(ask.arg("key"))}">'
        f"{area('update', 'UpdateExpression')}{area('condition', 'ConditionExpression (optional)')}"
        f"{area('names', 'ExpressionAttributeNames (JSON)')}"
        f"{area('values', 'ExpressionAttributeValues (DynamoDB JSON)', 3)}"
        '<button type="submit">Update item</button></form></details>'
    )


async def update_item(ask: Ask, name: str) -> Response:
    key = decode_key(ask.arg("key"))
    request: dict[str, Any] = {"TableName": name, "Key": key, "UpdateExpression": ask.arg("update")}
    try:
        if key is None:
            raise ApiError(400, "BadRequest", "the form's key is not one the console wrote")
        if ask.arg("condition"):
            request["ConditionExpression"] = ask.arg("condition")
        if ask.arg("names"):
            request["ExpressionAttributeNames"] = json_object(ask.arg("names"), "ExpressionAttributeNames")
        if ask.arg("values"):
            request["ExpressionAttributeValues"] = json_object(ask.arg("values"), "ExpressionAttributeValues")
        await ask.api.dynamodb("UpdateItem", request)
    except ApiError as err:
        return await edit_item(ask, name, err)
    return redirect(url("tables", name, "item", key=ask.arg("key"), done="updated"))


def _editor_page(
    viewer: Viewer, name: str, text: str, fmt: str, error: ApiError | None, extra: str = ""
) -> str:
    body = (
        f'<p class="actions"><a href="{url("tables", name, "items")}">Back to the items</a></p>'
        + error_box(error)
        + f'<form method="post" action="{url("tables", name, "item")}" class="card editor" id="editor">'
        + csrf_field(viewer)
        + '<fieldset class="row"><legend>View</legend>'
        f'<label><input type="radio" name="format" value="ddb"{" checked" if fmt == "ddb" else ""}> '
        "DynamoDB JSON</label>"
        f'<label><input type="radio" name="format" value="plain"{" checked" if fmt == "plain" else ""}> '
        "Plain JSON</label>"
        "</fieldset>"
        f'<textarea name="item" rows="18" spellcheck="false" maxlength="1048576">{e(text)}</textarea>'
        '<p class="hint">Saving puts the whole item (PutItem): its key says which item it replaces.</p>'
        '<button type="submit">Save item</button></form>' + extra
    )
    return page(f"{name}: item", body, viewer, section="tables", scripts=["editor.js"])


async def put_item(ask: Ask, name: str) -> Response:
    text, fmt = ask.form.get("item", ""), ask.arg("format") or "ddb"
    try:
        item = item_from_text(text, fmt == "plain")
        await ask.api.dynamodb("PutItem", {"TableName": name, "Item": item})
    except ApiError as err:
        return html_response(_editor_page(ask.viewer, name, text, fmt, err), 400)
    return redirect(url("tables", name, "items", done="saved"))


async def delete_item(ask: Ask, name: str) -> Response:
    key = decode_key(ask.arg("key"))
    if key is None:
        bad = ApiError(400, "BadRequest", "the form's key is not one the console wrote")
        return html_response(page(f"{name}: items", error_box(bad), ask.viewer, section="tables"), 400)
    _, error = await attempt(ask.api.dynamodb("DeleteItem", {"TableName": name, "Key": key}))
    if error is not None:
        return html_response(page(f"{name}: items", error_box(error), ask.viewer, section="tables"), 400)
    return redirect(url("tables", name, "items", done="deleted"))


ROUTES = [
    route("GET", "/tables/([^/]+)/items", list_items),
    route("GET", "/tables/([^/]+)/item", edit_item),
    route("POST", "/tables/([^/]+)/item", put_item),
    route("POST", "/tables/([^/]+)/item/delete", delete_item),
    route("POST", "/tables/([^/]+)/item/update", update_item),
]

"""Triggers: functions and event source mappings through the Lambda API (ListFunctions,
ListEventSourceMappings, CreateEventSourceMapping, DeleteEventSourceMapping), a function's log tail
(Headwater's GET .../headwater-logs), a mapping's on-failure records (GET .../headwater-failures) and their
replay: the failed batch read again from the stream (GetShardIterator AT_SEQUENCE_NUMBER, GetRecords) and
handed to the function by Invoke, all calls the principal could make itself."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

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
from .web import Ask, attempt, bounded_int, route

FUNCTIONS = "/2015-03-31/functions"
MAPPINGS = "/2015-03-31/event-source-mappings"
LOG_TAIL_BYTES = 16384
MAX_REPLAY_RECORDS = 1000


def _q(name: str) -> str:
    return quote(name, safe="")


async def overview(ask: Ask, error: ApiError | None = None, message: str = "") -> Response:
    (functions, f_error), (mappings, m_error), (tables, _) = await asyncio.gather(
        attempt(ask.api.lambda_api("GET", FUNCTIONS + "/", query={"MaxItems": "50"})),
        attempt(ask.api.lambda_api("GET", MAPPINGS + "/", query={"MaxItems": "100"})),
        attempt(ask.api.dynamodb("ListTables", {"Limit": 100})),
    )
    fns: list[dict[str, Any]] = functions.get("Functions", [])  # type: ignore[assignment]
    esms: list[dict[str, Any]] = mappings.get("EventSourceMappings", [])  # type: ignore[assignment]
    fn_rows = [
        [
            f'<a href="{url("triggers", "functions", f["FunctionName"])}">{e(f["FunctionName"])}</a>',
            e(f.get("Runtime", "")),
            e(f.get("Handler", "")),
            e(f.get("State", "Active")),
            e(f.get("LastModified", "")),
        ]
        for f in fns
    ]
    esm_rows = [
        [
            f'<a href="{url("triggers", "mappings", m["UUID"])}"><code>{e(m["UUID"][:8])}</code></a>',
            e(m.get("FunctionArn", "").rpartition(":")[2]),
            f"<code>{e(_stream_label(m.get('EventSourceArn', '')))}</code>",
            e(m.get("State", "")),
            e(m.get("LastProcessingResult", "")),
            e(m.get("BatchSize", "")),
        ]
        for m in esms
    ]
    sources = await _stream_sources(ask, tables.get("TableNames", []))  # type: ignore[arg-type]
    body = (
        error_box(error or f_error or m_error)
        + notice(message)
        + "<section><h2>Functions</h2>"
        + table(["Function", "Runtime", "Handler", "State", "Last modified"], fn_rows, "No functions.")
        + "</section><section><h2>Event source mappings</h2>"
        + table(
            ["Mapping", "Function", "Stream", "State", "Last processing result", "Batch size"],
            esm_rows,
            "No mappings.",
        )
        + _mapping_form(ask.viewer, fns, sources)
        + "</section>"
    )
    return html_response(page("Triggers", body, ask.viewer, section="triggers"))


def _stream_label(arn: str) -> str:
    """table/NAME/stream/LABEL -> NAME (LABEL)."""
    parts = arn.split("/")
    return f"{parts[1]} ({parts[3]})" if len(parts) >= 4 else arn


async def _stream_sources(ask: Ask, names: list[str]) -> list[tuple[str, str]]:
    described = await asyncio.gather(
        *(attempt(ask.api.dynamodb("DescribeTable", {"TableName": n})) for n in names[:100])
    )
    found = []
    for desc, _ in described:
        info: dict[str, Any] = desc.get("Table", {})  # type: ignore[assignment]
        if info.get("LatestStreamArn") and info.get("StreamSpecification", {}).get("StreamEnabled"):
            found.append((info["LatestStreamArn"], info["TableName"]))
    return found


def _mapping_form(viewer: Viewer, functions: list[dict[str, Any]], sources: list[tuple[str, str]]) -> str:
    if not functions or not sources:
        return '<p class="hint">A mapping needs a function and a table with a stream.</p>'
    return (
        '<details open><summary>Create a mapping</summary><form method="post" '
        f'action="{url("triggers", "mappings")}" '
        f'class="card" id="create-mapping">{csrf_field(viewer)}'
        "<label>function <select "
        f'name="function">{options([(f["FunctionName"], f["FunctionName"]) for f in functions])}'
        f'</select></label><label>table stream <select name="source">{options(sources)}</select></label>'
        '<label>starting position <select name="start">'
        f"{options([('LATEST', 'LATEST'), ('TRIM_HORIZON', 'TRIM_HORIZON')])}</select></label>"
        '<label>batch size <input name="batch" type="number" min="1" max="10000" value="100"></label>'
        '<label>on-failure destination ARN <input name="on_failure" maxlength="1024" '
        'placeholder="optional"></label>'
        '<label>retry attempts <input name="retries" type="number" min="-1" max="10000" value="-1"></label>'
        '<button type="submit">Create mapping</button></form></details>'
    )


async def create_mapping(ask: Ask) -> Response:
    request: dict[str, Any] = {
        "FunctionName": ask.arg("function"),
        "EventSourceArn": ask.arg("source"),
        "StartingPosition": ask.arg("start"),
        "BatchSize": bounded_int(ask.arg("batch"), 100, 0, 100000),
        "MaximumRetryAttempts": bounded_int(ask.arg("retries"), -1, -2, 100000),
    }
    if ask.arg("on_failure"):
        request["DestinationConfig"] = {"OnFailure": {"Destination": ask.arg("on_failure")}}
    created, error = await attempt(ask.api.lambda_api("POST", MAPPINGS + "/", request))
    if error is not None:
        return await overview(ask, error)
    return redirect(url("triggers", "mappings", str(created["UUID"])))


async def show_function(ask: Ask, name: str) -> Response:
    (config, error), (logs, log_error) = await asyncio.gather(
        attempt(ask.api.lambda_api("GET", f"{FUNCTIONS}/{_q(name)}/configuration")),
        attempt(
            ask.api.lambda_api(
                "GET", f"{FUNCTIONS}/{_q(name)}/headwater-logs", query={"offset": str(-LOG_TAIL_BYTES)}
            )
        ),
    )
    body = (
        f'<p class="actions"><a href="{url("triggers")}">Triggers</a></p>'
        + error_box(error)
        + (f"<section><h2>Configuration</h2><pre>{e(pretty(config))}</pre></section>" if config else "")
        + "<section><h2>Recent invocations (log tail)</h2>"
        + error_box(log_error)
        + f'<pre class="logs" id="logs">{e(logs.get("data", "")) or "(no output yet)"}</pre></section>'
    )
    return html_response(page(name, body, ask.viewer, section="triggers"))


async def show_mapping(ask: Ask, uuid: str, error: ApiError | None = None, message: str = "") -> Response:
    (mapping, get_error), (failures, f_error) = await asyncio.gather(
        attempt(ask.api.lambda_api("GET", f"{MAPPINGS}/{_q(uuid)}")),
        attempt(ask.api.lambda_api("GET", f"{MAPPINGS}/{_q(uuid)}/headwater-failures")),
    )
    records: list[dict[str, Any]] = failures.get("Failures", [])  # type: ignore[assignment]
    rows = []
    for n, record in enumerate(records):
        batch = record.get("DDBStreamBatchInfo", {})
        replay = (
            f'<form method="post" action="{url("triggers", "mappings", uuid, "replay")}" class="inline">'
            f'{csrf_field(ask.viewer)}<input type="hidden" name="n" value="{n}"><button '
            'class="link">replay</button></form>'
        )
        rows.append(
            [
                e(record.get("timestamp", "")),
                e(
                    record.get("responseContext", {}).get("functionError", "")
                    or record.get("requestContext", {}).get("condition", "")
                ),
                f"<code>{e(batch.get('shardId', ''))}</code>",
                e(batch.get("batchSize", "")),
                replay,
            ]
        )
    done = {"replayed": "Batch replayed: the function was invoked with it."}.get(ask.arg("done"), message)
    facts = ""
    if mapping:
        keys = (
            "State",
            "LastProcessingResult",
            "FunctionArn",
            "EventSourceArn",
            "StartingPosition",
            "BatchSize",
        )
        facts = (
            '<dl class="facts">'
            + "".join(f"<dt>{k}</dt><dd>{e(mapping.get(k, ''))}</dd>" for k in keys)
            + "</dl>"
        )
    delete = (
        f'<form method="post" action="{url("triggers", "mappings", uuid, "delete")}">{csrf_field(ask.viewer)}'
        '<button class="danger">Delete mapping</button></form>'
    )
    body = (
        f'<p class="actions"><a href="{url("triggers")}">Triggers</a></p>'
        + error_box(error or get_error)
        + notice(done)
        + f"<section><h2>Mapping</h2>{facts}</section>"
        + "<section><h2>On-failure records</h2>"
        + error_box(f_error)
        + table(["Time", "Condition", "Shard", "Records", ""], rows, "No failed batches.")
        + f"</section><section>{delete}</section>"
    )
    return html_response(page(f"Mapping {uuid[:8]}", body, ask.viewer, section="triggers"))


async def delete_mapping(ask: Ask, uuid: str) -> Response:
    _, error = await attempt(ask.api.lambda_api("DELETE", f"{MAPPINGS}/{_q(uuid)}"))
    if error is not None:
        return await show_mapping(ask, uuid, error)
    return await overview(ask, None, "Mapping deleted.")


async def replay(ask: Ask, uuid: str) -> Response:
    """The failed batch again, as the mapping would have sent it: its records read from the stream by
    their sequence numbers, one synchronous Invoke of the mapping's function."""
    try:
        mapping = await ask.api.lambda_api("GET", f"{MAPPINGS}/{_q(uuid)}")
        failures = (await ask.api.lambda_api("GET", f"{MAPPINGS}/{_q(uuid)}/headwater-failures")).get(
            "Failures", []
        )
        n = bounded_int(ask.arg("n"), -1, -1, len(failures))
        if not 0 <= n < len(failures):
            raise ApiError(400, "ResourceNotFoundException", "that failure record is no longer kept")
        records = await _batch_records(ask, failures[n].get("DDBStreamBatchInfo", {}))
        function = str(mapping.get("FunctionArn", "")).rpartition(":")[2]
        failed = await ask.api.invoke(function, {"Records": records})
    except ApiError as err:
        return await show_mapping(ask, uuid, err)
    if failed is not None:
        return await show_mapping(
            ask, uuid, ApiError(200, "FunctionError", f"the replay failed again: {failed}")
        )
    return redirect(url("triggers", "mappings", uuid, done="replayed"))


async def _batch_records(ask: Ask, batch: dict[str, Any]) -> list[dict[str, Any]]:
    arn, shard = batch.get("streamArn", ""), batch.get("shardId", "")
    first, last = batch.get("startSequenceNumber", ""), batch.get("endSequenceNumber", "")
    got = await ask.api.streams(
        "GetShardIterator",
        {
            "StreamArn": arn,
            "ShardId": shard,
            "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "SequenceNumber": first,
        },
    )
    iterator, records = got.get("ShardIterator"), list[dict[str, Any]]()
    while iterator and len(records) < MAX_REPLAY_RECORDS:
        read = await ask.api.streams("GetRecords", {"ShardIterator": iterator, "Limit": 1000})
        for record in read.get("Records", []):
            if int(record["dynamodb"]["SequenceNumber"]) > int(last or 0):
                return records
            records.append(_as_delivered(record, arn))
        if not read.get("Records"):
            break
        iterator = read.get("NextShardIterator")
    return records


def _as_delivered(record: dict[str, Any], arn: str) -> dict[str, Any]:
    """A GetRecords record as a mapping hands it to a function (Lambda's event shape): eventSourceARN
    added, userIdentity's members in lowercase."""
    out = {**record, "eventSourceARN": arn}
    identity = out.get("userIdentity")
    if isinstance(identity, dict):
        out["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
    return out


ROUTES = [
    route("GET", "/triggers", overview),
    route("POST", "/triggers/mappings", create_mapping),
    route("GET", "/triggers/functions/([^/]+)", show_function),
    route("GET", "/triggers/mappings/([^/]+)", show_mapping),
    route("POST", "/triggers/mappings/([^/]+)/delete", delete_mapping),
    route("POST", "/triggers/mappings/([^/]+)/replay", replay),
]

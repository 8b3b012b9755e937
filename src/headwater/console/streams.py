"""Streams: a table's stream with its shards and their lineage (an inline SVG graph), and a live tail of
its records by Server-Sent Events.

The tail is plain DynamoDB Streams calls (DescribeStream, GetShardIterator, GetRecords) made for the
browser. Each event-stream response waits up to WAIT_SECONDS for records, sends them, and ends with a
`position` event whose id holds the shard iterators to go on from; the browser's EventSource reconnects
(`retry`) sending it back as Last-Event-ID, so nothing is missed between two responses and the server
keeps no state per watcher."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import orjson

from ..http.messages import Response
from .client import ApiError
from .html import SECURITY_HEADERS, e, error_box, html_response, page, table, url
from .itemjson import plain_value
from .web import Ask, route

WAIT_SECONDS = 5.0
POLL_SECONDS = 0.2
RETRY_MS = 100
MAX_SHARDS_FOLLOWED = 8  # the position travels in a header: a few iterators, not hundreds
MAX_POSITION_CHARS = 8192
RECORDS_PER_READ = 100
AT_THE_END = "LATEST"  # a shard whose iterator expired or was trimmed: followed again from its open end
GONE = frozenset({"ExpiredIteratorException", "TrimmedDataAccessException", "ResourceNotFoundException"})


async def show_stream(ask: Ask, name: str) -> Response:
    try:
        desc = await ask.api.dynamodb("DescribeTable", {"TableName": name})
    except ApiError as err:
        return html_response(page(f"{name}: stream", error_box(err), ask.viewer, section="tables"))
    info = desc.get("Table", {})
    arn = info.get("LatestStreamArn")
    links = (
        f'<p class="actions"><a href="{url("tables", name)}">Table</a> · '
        f'<a href="{url("tables", name, "items")}">Items</a></p>'
    )
    if not arn or not info.get("StreamSpecification", {}).get("StreamEnabled"):
        body = (
            links
            + '<p class="empty">This table has no stream enabled: turn it on in the table\'s settings.</p>'
        )
        return html_response(page(f"{name}: stream", body, ask.viewer, section="tables"))
    try:
        stream = (await ask.api.streams("DescribeStream", {"StreamArn": arn, "Limit": 100}))[
            "StreamDescription"
        ]
    except ApiError as err:
        return html_response(page(f"{name}: stream", links + error_box(err), ask.viewer, section="tables"))
    shards: list[dict[str, Any]] = stream.get("Shards", [])
    rows = [
        [
            f"<code>{e(s['ShardId'])}</code>",
            f"<code>{e(s.get('ParentShardId', '—'))}</code>",
            "closed" if s.get("SequenceNumberRange", {}).get("EndingSequenceNumber") else "open",
            f'<span class="age" data-shard="{e(s["ShardId"])}">—</span>',
        ]
        for s in shards
    ]
    body = (
        links + f"<section><h2>Stream</h2><p><code>{e(arn)}</code> · {e(stream.get('StreamViewType', ''))} · "
        f"{e(stream.get('StreamStatus', ''))}</p>"
        + lineage_svg(shards)
        + table(["Shard", "Parent", "State", "Iterator age (s)"], rows, "No shards.")
        + "</section>"
        + f'<section><h2>Live tail</h2><p class="hint" id="tail-status">Connecting…</p>'
        f'<div id="tail" data-src="{e(url("tables", name, "stream", "events"))}">'
        "<div "
        'class="scroll"><table><thead><tr><th>Time</th><th>Event</th><th>Keys</th><th>Changes</th></tr></thead>'
        '<tbody id="records"></tbody></table></div></div></section>'
    )
    return html_response(page(f"{name}: stream", body, ask.viewer, section="tables", scripts=["tail.js"]))


def lineage_svg(shards: list[dict[str, Any]]) -> str:
    """Shards as boxes, a parent to the left of its children, lines between them."""
    known = {s["ShardId"]: s for s in shards}
    depth: dict[str, int] = {}

    def depth_of(shard_id: str, seen: int = 0) -> int:
        if shard_id not in depth:
            parent = known[shard_id].get("ParentShardId")
            found = parent in known and seen < 64
            depth[shard_id] = depth_of(str(parent), seen + 1) + 1 if found else 0
        return depth[shard_id]

    rows: dict[int, int] = {}
    place: dict[str, tuple[int, int]] = {}
    for s in shards:
        column = depth_of(s["ShardId"])
        place[s["ShardId"]] = (column, rows.get(column, 0))
        rows[column] = rows.get(column, 0) + 1
    width, height, box_w, box_h = 170, 44, 150, 28
    lines, boxes = [], []
    for s in shards:
        column, row = place[s["ShardId"]]
        x, y = column * width + 4, row * height + 4
        parent = s.get("ParentShardId")
        if parent in place:
            pc, pr = place[parent]
            lines.append(
                f'<line x1="{pc * width + 4 + box_w}" y1="{pr * height + 4 + box_h // 2}" x2="{x}" '
                f'y2="{y + box_h // 2}"/>'
            )
        state = "closed" if s.get("SequenceNumberRange", {}).get("EndingSequenceNumber") else "open"
        boxes.append(
            f'<g class="{state}"><rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="4"/>'
            f'<text x="{x + 6}" y="{y + 18}">…{e(s["ShardId"][-12:])}</text><title>{e(s["ShardId"])} '
            f"({state})</title></g>"
        )
    total_w = (max(rows) + 1 if rows else 1) * width
    total_h = (max(rows.values()) if rows else 1) * height + 8
    return (
        f'<svg class="lineage" role="img" aria-label="shard lineage" viewBox="0 0 {total_w} {total_h}" '
        f'width="{total_w}" height="{total_h}">{"".join(lines)}{"".join(boxes)}</svg>'
    )


def decode_position(text: str) -> dict[str, str] | None:
    if not text or len(text) > MAX_POSITION_CHARS:
        return None
    try:
        doc = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    if not isinstance(doc, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in doc.items()
    ):
        return None
    return dict(list(doc.items())[:MAX_SHARDS_FOLLOWED])


def encode_position(position: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


async def _follow(ask: Ask, arn: str, position: dict[str, str] | None) -> dict[str, str]:
    """The iterators to read: those of the position, and every open shard not in it (LATEST on the first
    connection, TRIM_HORIZON for a shard that opened since)."""
    stream = (await ask.api.streams("DescribeStream", {"StreamArn": arn, "Limit": 100}))["StreamDescription"]
    iterators = dict(position or {})
    for shard_id, iterator in list(iterators.items()):
        if iterator == AT_THE_END:
            got = await ask.api.streams(
                "GetShardIterator", {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "LATEST"}
            )
            iterators[shard_id] = got["ShardIterator"]
    for shard in stream.get("Shards", []):
        shard_id = shard["ShardId"]
        if shard_id in iterators or shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber"):
            continue
        if len(iterators) >= MAX_SHARDS_FOLLOWED:
            break
        kind = "LATEST" if position is None else "TRIM_HORIZON"
        got = await ask.api.streams(
            "GetShardIterator", {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": kind}
        )
        iterators[shard_id] = got["ShardIterator"]
    return iterators


def _event(record: dict[str, Any], shard: str) -> dict[str, Any]:
    change = record.get("dynamodb", {})
    return {
        "event": record.get("eventName"),
        "shard": shard,
        "seq": change.get("SequenceNumber"),
        "time": change.get("ApproximateCreationDateTime"),
        "keys": {k: plain_value(v) for k, v in change.get("Keys", {}).items()},
        "old": {k: plain_value(v) for k, v in change.get("OldImage", {}).items()}
        if "OldImage" in change
        else None,
        "new": {k: plain_value(v) for k, v in change.get("NewImage", {}).items()}
        if "NewImage" in change
        else None,
    }


async def stream_events(ask: Ask, name: str) -> Response:
    """One response of the event stream (see the module's docstring)."""
    headers = [(b"content-type", b"text/event-stream; charset=utf-8"), *SECURITY_HEADERS]
    last = ask.request.headers.get(b"last-event-id", b"").decode("latin-1")
    position = decode_position(last)
    try:
        desc = await ask.api.dynamodb("DescribeTable", {"TableName": name})
        arn = desc.get("Table", {}).get("LatestStreamArn")
        if not arn:
            raise ApiError(400, "ValidationException", "this table has no stream")
        iterators = await _follow(ask, arn, position)
    except ApiError as err:
        error = orjson.dumps({"type": err.type_name, "message": err.message}).decode()
        return Response(200, f"retry: 5000\nevent: failure\ndata: {error}\n\n".encode(), headers)
    events: list[dict[str, Any]] = []
    ages: dict[str, float] = {}
    # the first connection answers at once: its position (LATEST) is where the watching starts
    deadline = time.monotonic() + (WAIT_SECONDS if position is not None else 0.0)
    while True:
        for shard, iterator in list(iterators.items()):
            if iterator == AT_THE_END:
                continue
            try:
                page_of = await ask.api.streams(
                    "GetRecords", {"ShardIterator": iterator, "Limit": RECORDS_PER_READ}
                )
            except ApiError as err:
                if err.type_name in GONE:  # the next connection follows that shard again from its end
                    iterators[shard] = AT_THE_END
                continue  # throttled (a shard has at most two readers at once): the same iterator, later
            records = page_of.get("Records", [])
            events += [_event(r, shard) for r in records]
            newest = records[-1]["dynamodb"].get("ApproximateCreationDateTime") if records else None
            ages[shard] = max(0.0, time.time() - float(newest)) if newest else 0.0
            following = page_of.get("NextShardIterator")
            if following:
                iterators[shard] = following
            else:
                del iterators[shard]  # closed: its children are open shards the next connection finds
        if events or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
    out = [f"retry: {RETRY_MS}\n"]
    out += [f"event: record\ndata: {orjson.dumps(ev).decode()}\n\n" for ev in events]
    out.append(
        f"event: position\nid: {encode_position(iterators)}\ndata: "
        f"{orjson.dumps({'ages': ages}).decode()}\n\n"
    )
    return Response(200, "".join(out).encode(), headers)


ROUTES = [
    route("GET", "/tables/([^/]+)/stream", show_stream),
    route("GET", "/tables/([^/]+)/stream/events", stream_events),
]

"""Metrics: charts drawn by static/metrics.js from successive scrapes of GET /metrics (as the principal:
under --auth sigv4 it needs headwater:GetMetrics). The server side only parses the text with
prometheus-client's parser and hands the families the console draws to the page as JSON."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from ..http.messages import Response
from .client import ApiError
from .html import e, html_response, json_response, page
from .web import Ask, route

# the families the console draws, and the progress gauges of long work (absent on a server without them)
FAMILIES = frozenset(
    {
        "headwater_requests",
        "headwater_request_duration_seconds",
        "headwater_request_errors",
        "headwater_writer_group_size",
        "headwater_stream_records_written",
        "headwater_stream_records_read",
        "headwater_event_source_mapping_iterator_age_seconds",
        "headwater_function_invocations",
        "headwater_function_errors",
        "headwater_consumed_write_capacity_units",
        "headwater_index_backfill_items_done",
        "headwater_index_backfill_items_total",
        "headwater_export_items_done",
        "headwater_export_items_total",
    }
)
MAX_SAMPLES = 20000

# (chart id, title, CloudWatch's name for it where users look for one)
CHARTS = (
    ("requests", "Requests/s by operation", ""),
    ("latency", "Request latency percentiles (ms)", ""),
    ("writes", "Writes committed/s", ""),
    ("group", "Group-commit size (operations per commit)", ""),
    ("stream_written", "Stream records written/s", ""),
    ("stream_read", "Stream records read/s", "ReturnedRecordsCount"),
    ("iterator_age", "Trigger lag by mapping (s)", "IteratorAge"),
    ("wcu", "Write capacity consumed/s", "ConsumedWriteCapacityUnits"),
)


async def metrics_page(ask: Ask) -> Response:
    charts = "".join(
        f'<figure class="chart" id="chart-{cid}"><figcaption>{e(title)}'
        + (f' <span class="cw">CloudWatch: {e(cw)}</span>' if cw else "")
        + '</figcaption><svg viewBox="0 0 320 120" preserveAspectRatio="none" role="img"></svg>'
        '<div class="legend"></div></figure>'
        for cid, title, cw in CHARTS
    )
    body = (
        '<p class="hint" id="metrics-status">Scraping /metrics every 2 seconds…</p>'
        f'<div class="charts">{charts}</div>'
    )
    return html_response(page("Metrics", body, ask.viewer, section="metrics", scripts=["metrics.js"]))


async def scrape(ask: Ask) -> Response:
    """{"time", "samples": [[family, sample name, labels, value], ...]} or {"error": {type, message}}."""
    try:
        text = await ask.api.metrics()
    except ApiError as err:
        return json_response({"error": {"type": err.type_name, "message": err.message}})
    samples: list[list[Any]] = []
    for family in text_string_to_metric_families(text):
        if family.name not in FAMILIES:
            continue
        for sample in family.samples:
            if len(samples) >= MAX_SAMPLES:
                break
            samples.append([family.name, sample.name, sample.labels, sample.value])
    return json_response({"time": time.time(), "samples": samples})


ROUTES = [
    route("GET", "/metrics", metrics_page),
    route("GET", "/metrics/scrape", scrape),
]

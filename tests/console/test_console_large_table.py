"""The console on a table of 100,000 items: every page reads one page of items, never the table. The load
times are measured (Navigation Timing, in the browser) and written to timings.json under the test's
temporary directory and to the test's output; they are not asserted (a shared machine's timings are not a
test's business)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.console.browser import console_url
from tests.e2e.triggers_support import unique
from tests.server import Server

ITEMS = 100_000
LOADS = 5  # each page's median of this many loads is reported


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("console-large")).start()
    yield server
    server.stop()


def _fill(server: Server, table: str) -> None:
    ddb = server.client("dynamodb")

    def batch(start: int) -> None:
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"user{n % 1000:04d}"},
                        "sk": {"N": str(n)},
                        "color": {"S": ("red", "green", "blue")[n % 3]},
                        "note": {"S": "x" * 40},
                    }
                }
            }
            for n in range(start, min(start + 25, ITEMS))
        ]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(batch, range(0, ITEMS, 25)))


@pytest.mark.slow
@pytest.mark.timeout(900)  # loading 100,000 items takes a minute alone, several on a loaded machine
def test_pages_of_a_large_table(live: Server, page: Any, shots: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    table = unique("large")
    live.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    _fill(live, table)
    pages = {
        "tables": "tables",
        "table": f"tables/{table}",
        "items (scan, first page)": f"tables/{table}/items",
        "items (query)": f"tables/{table}/items?mode=query&pk=user0042",
        "items (scan, filtered)": f"tables/{table}/items?f_attr=color&f_op=%3D&f_value=red",
        "stream": f"tables/{table}/stream",
        "triggers": "triggers",
        "metrics": "metrics",
    }
    page.goto(console_url(live, "tables"))  # the session, started
    timings: dict[str, dict[str, float]] = {}
    for label, path in pages.items():
        loads = []
        for _ in range(LOADS):
            page.goto(console_url(live, path))
            loads.append(
                page.evaluate(
                    "(() => { const n = performance.getEntriesByType('navigation')[0];"
                    " return [n.responseEnd - n.requestStart, n.domContentLoadedEventEnd - n.startTime]; })()"
                )
            )
        timings[label] = {
            "response_ms": round(statistics.median(x[0] for x in loads), 1),
            "dom_content_loaded_ms": round(statistics.median(x[1] for x in loads), 1),
        }
    # one page of items, and the way on: the table was not scanned whole
    page.goto(console_url(live, f"tables/{table}/items"))
    expect(page.locator("table tbody tr")).to_have_count(25)
    expect(page.get_by_role("link", name="Next page")).to_have_count(1)
    expect(page.locator(".hint").first).to_contain_text("25 item(s) returned, 25 read")
    page.goto(console_url(live, f"tables/{table}"))
    expect(page.locator("dl.facts")).to_contain_text(str(ITEMS))
    page.screenshot(path=shots / "large-table.png", full_page=True)
    report = json.dumps(timings, indent=2)
    (tmp_path / "timings.json").write_text(report)
    print(f"console page loads on a table of {ITEMS} items (median of {LOADS}):\n{report}")

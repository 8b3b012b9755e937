"""The metrics page's ConsumedWriteCapacityUnits chart: drawn from /metrics' consumed-capacity counters,
which a server counts when it meters usage (`--meter-usage`), and a note saying so when it does not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.browser import console_url
from tests.e2e.triggers_support import unique
from tests.server import Server


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("metered"), ("--meter-usage",)).start()
    yield srv
    srv.stop()


def test_write_capacity_chart_of_a_metered_server(metered: Server, page: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    ddb = metered.client("dynamodb")
    table = unique("cap")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    page.goto(console_url(metered, "metrics"))
    for i in range(20):  # writes between the page's scrapes: a rate to draw
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "pad": {"S": "x" * 1500}})
    scraped = re.compile(r"Scraped /metrics ([3-9]|\d\d+) time")
    expect(page.locator("#metrics-status")).to_contain_text(scraped)
    chart = page.locator("#chart-wcu")
    expect(chart.locator("figcaption")).to_contain_text("ConsumedWriteCapacityUnits")
    expect(chart.locator(".legend")).to_contain_text(table)
    page.screenshot(path=shots / "metrics-capacity.png", full_page=True)


def test_a_tables_page_shows_its_warm_throughput_and_maximums(metered: Server, page: Any) -> None:
    from playwright.sync_api import expect

    ddb = metered.client("dynamodb")
    table = unique("warm")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        WarmThroughput={"ReadUnitsPerSecond": 15000},
        OnDemandThroughput={"MaxWriteRequestUnits": 70},
    )
    page.goto(console_url(metered, f"tables/{table}"))
    warm = page.locator("#overview dt:text-is('Warm throughput') + dd")
    expect(warm).to_have_text(
        "15000 read, 4000 write units a second (ACTIVE); at most 70 write request units a second"
    )

"""The usage page: per table, what `headwater usage` prints (request units, stream reads, storage, the
monthly cost under on-demand and provisioned pricing), read through POST /_headwater/usage as the
signed-in principal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_usage import usage
from tests.console.browser import console_url
from tests.e2e.triggers_support import unique
from tests.server import Server


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("usage"), ("--meter-usage",)).start()
    yield srv
    srv.stop()


def test_the_usage_page_shows_what_the_command_computes(metered: Server, page: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    ddb = metered.client("dynamodb")
    name = unique("use")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(5):  # 3 write units each
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{n}"}, "pad": {"S": "x" * 2500}})
    ddb.get_item(TableName=name, Key={"pk": {"S": "k0"}}, ConsistentRead=True)  # 1 read unit
    expected = next(t for t in usage(metered)["Tables"] if t["TableName"] == name)
    assert (expected["WriteUnits"], expected["ReadUnits"]) == (15.0, 1.0)

    page.goto(console_url(metered, "usage?since=all"))
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Usage")
    expect(page.locator("#usage-summary")).to_contain_text("us-east-1 prices")
    row = page.locator("tr", has=page.locator(f"a:text-is('{name}')"))
    cells = row.locator("td")
    expect(cells.nth(0)).to_contain_text("us-east-1")
    expect(cells.nth(1)).to_have_text("On-demand")
    expect(cells.nth(2)).to_have_text("1")
    expect(cells.nth(3)).to_contain_text("15")
    expect(cells.nth(3)).to_contain_text("GSI 0 · replicated 0")
    expect(cells.nth(5)).to_have_text(f"{expected['StorageBytes']} bytes")
    expect(cells.nth(7)).to_have_text(f"{expected['OnDemandMonthly']:.4f}")
    expect(cells.nth(8)).to_have_text(f"{expected['ProvisionedMonthly']:.4f}")
    expect(page.locator("#usage-total")).to_contain_text("All tables:")
    page.screenshot(path=shots / "usage.png", full_page=True)

    page.select_option("select[name=price_region]", "eu-west-1")
    page.click("#usage-form button")
    expect(page.locator("#usage-summary")).to_contain_text("eu-west-1 prices")


def test_an_unmetered_server_says_units_are_not_counted(tmp_path: Path, page: Any) -> None:
    from playwright.sync_api import expect

    srv = Server(tmp_path).start()
    try:
        page.goto(console_url(srv, "usage"))
        expect(page.locator("#usage-unmetered")).to_contain_text("does not run with --meter-usage")
    finally:
        srv.stop()

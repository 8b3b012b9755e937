"""The DAX page: clusters as DescribeClusters gives them, with each cluster's cache counters (read through
POST /_headwater/dax/status, not DescribeClusters), and a form that creates a cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.browser import console_url
from tests.dax.support import ROLE, dax_client, make_table
from tests.e2e.triggers_support import unique
from tests.server import Server
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("console-dax")).start()
    yield srv
    srv.stop()


def test_create_a_cluster_and_watch_its_cache(served: Server, page: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    name = unique("cache")
    page.goto(console_url(served, "dax"))
    expect(page.locator("nav a[aria-current=page]")).to_have_text("DAX")
    form = page.locator("#create-cluster")
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=node_type]").select_option("dax.t3.small")
    form.locator("input[name=role]").fill(ROLE)
    form.get_by_role("button", name="Create cluster").click()
    expect(page.locator(".notice")).to_contain_text(f"Cluster {name} is being created.")

    dax_api = served.client("dax")

    def endpoint() -> str | None:
        found = dax_api.describe_clusters(ClusterNames=[name])["Clusters"][0]
        return str(found["ClusterDiscoveryEndpoint"]["URL"]) if found["Status"] == "available" else None

    url = wait_until(endpoint, what=f"cluster {name} available")
    table = make_table(served.client("dynamodb"), unique("daxpage"))
    with dax_client(url) as dax:
        key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
        dax.put_item(TableName=table, Item={**key, "v": {"S": "x"}})
        dax.get_item(TableName=table, Key=key)  # a hit: written through
        dax.get_item(TableName=table, Key={"pk": {"S": "b"}, "sk": {"N": "1"}})  # a miss
    page.goto(console_url(served, "dax"))
    row = page.locator("tr", has=page.locator(f"td:text-is('{name}')"))
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("available")
    expect(cells.nth(4)).to_contain_text(url)
    expect(cells.nth(5).locator(".counts")).to_have_text("1 hits · 1 misses · 0 evictions")
    expect(cells.nth(5)).to_contain_text("2 entries")
    expect(cells.nth(6).locator(".counts")).to_have_text("0 hits · 0 misses · 0 evictions")
    page.screenshot(path=shots / "dax.png", full_page=True)


def test_a_refused_cluster_shows_the_apis_error(served: Server, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(console_url(served, "dax"))
    form = page.locator("#create-cluster")
    form.locator("input[name=name]").fill(unique("bad"))
    form.locator("input[name=role]").fill("not-an-arn")
    form.get_by_role("button", name="Create cluster").click()
    expect(page.locator(".error")).to_contain_text("InvalidParameterValueException")
    expect(page.locator(".error")).to_contain_text("not-an-arn")

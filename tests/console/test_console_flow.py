"""The console in a browser, end to end against a live server (--auth off): a table with a GSI and a
stream created through the form, an item put through the editor and found by a query, its INSERT in the
live stream view, a mapping created from a local handler and its invocation, the metrics charts, and the
pages at a narrow width. A screenshot of each page is saved under the test's temporary directory."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.browser import console_url
from tests.e2e.triggers_support import handler_dir, start_server, unique
from tests.server import Server
from tests.waiting import wait_until

HANDLER = """
def handler(event, context):
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    print("console-test handler got", len(keys), "record(s):", ",".join(keys))
    return None
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("console"))
    yield server
    server.stop()


def test_table_item_query_stream_and_trigger(live: Server, page: Any, shots: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    table = unique("console")
    page.goto(console_url(live, ""))
    expect(page.locator("h1")).to_have_text("Tables")
    page.screenshot(path=shots / "tables-empty.png", full_page=True)

    # create a table with a sort key, a GSI and a stream through the form
    page.get_by_role("link", name="Create table").click()
    form = page.locator("#create-table")
    form.locator("input[name=name]").fill(table)
    form.locator("input[name=pk]").fill("pk")
    form.locator("input[name=sk]").fill("sk")
    form.locator("input[name=stream]").check()
    form.locator("select[name=view]").select_option("NEW_AND_OLD_IMAGES")
    form.locator("summary", has_text="Global secondary indexes").click()
    form.locator("input[name=gsi0_name]").fill("byColor")
    form.locator("input[name=gsi0_pk]").fill("color")
    page.screenshot(path=shots / "create-table.png", full_page=True)
    form.get_by_role("button", name="Create table").click()
    expect(page.locator(".notice")).to_have_text("Table created.")
    expect(page.locator("h1")).to_have_text(table)
    expect(page.locator("#indexes td").first).to_have_text("byColor")
    expect(page.locator("dl.facts")).to_contain_text("NEW_AND_OLD_IMAGES")
    page.screenshot(path=shots / "table.png", full_page=True)

    # the live stream view, following before the write
    stream_page = page.context.new_page()
    stream_page.goto(console_url(live, f"tables/{table}/stream"))
    expect(stream_page.locator("#tail-status")).to_contain_text("Live")

    # put an item through the editor, in plain JSON
    page.goto(console_url(live, f"tables/{table}/items"))
    page.get_by_role("link", name="New item").click()
    editor = page.locator("#editor")
    editor.locator("input[name=format][value=plain]").check()
    editor.locator("textarea[name=item]").fill('{"pk": "p1", "sk": "s1", "color": "red", "size": 42}')
    page.screenshot(path=shots / "editor.png", full_page=True)
    editor.get_by_role("button", name="Save item").click()
    expect(page.locator(".notice")).to_have_text("Item saved.")

    # find it by a query on the table, then on the GSI
    search = page.locator("#search")
    search.locator("select[name=mode]").select_option("query")
    search.locator("input[name=pk]").fill("p1")
    search.get_by_role("button", name="Run").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody")).to_contain_text('"red"')
    search = page.locator("#search")
    search.locator("select[name=index]").select_option("byColor")
    search.locator("input[name=pk]").fill("red")
    search.get_by_role("button", name="Run").click()
    expect(page.locator("table tbody")).to_contain_text('"p1"')
    page.screenshot(path=shots / "items-query.png", full_page=True)

    # its INSERT in the live tail, with the new image's attributes
    insert = stream_page.locator("#records tr.insert")
    expect(insert).to_have_count(1)
    expect(insert).to_contain_text('"p1"')
    expect(insert.locator(".diff .added", has_text="color")).to_have_count(1)
    stream_page.screenshot(path=shots / "stream.png", full_page=True)

    # a mapping from a local handler (a folder the server may run code from), created in the console
    lam = live.client("lambda")
    function = unique("fn")
    lam.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/test",
        Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": str(handler_dir(tmp_path, HANDLER))},
        Timeout=60,
    )
    page.goto(console_url(live, "triggers"))
    mapping_form = page.locator("#create-mapping")
    mapping_form.locator("select[name=function]").select_option(function)
    mapping_form.locator("select[name=source]").select_option(label=table)
    mapping_form.locator("select[name=start]").select_option("TRIM_HORIZON")
    mapping_form.get_by_role("button", name="Create mapping").click()
    expect(page.locator("dl.facts")).to_contain_text(function)
    page.screenshot(path=shots / "mapping.png", full_page=True)

    # its invocation: the handler's output in the function's log tail (the page reloaded until it shows)
    def invoked() -> bool:
        page.goto(console_url(live, f"triggers/functions/{function}"))
        return "console-test handler got 1 record(s): p1" in page.locator("#logs").inner_text()

    # a first invocation starts a worker process: on a loaded machine that can take a while
    wait_until(invoked, 90, "the handler's invocation in the console's log tail", interval=0.25)
    page.screenshot(path=shots / "function.png", full_page=True)
    page.goto(console_url(live, "triggers"))
    expect(page.locator("table").nth(1)).to_contain_text(re.compile("Enabled|Creating"))
    page.screenshot(path=shots / "triggers.png", full_page=True)

    # the metrics page: charts from successive scrapes (PutItem and Query were counted)
    page.goto(console_url(live, "metrics"))
    expect(page.locator("#metrics-status")).to_contain_text(
        re.compile(r"Scraped /metrics ([3-9]|\d\d+) time")
    )
    expect(page.locator("#chart-requests .legend")).to_contain_text(re.compile("PutItem|Query|DescribeTable"))
    expect(page.locator("#chart-requests svg polyline").first).to_be_attached()
    expect(page.locator("#chart-stream_read figcaption")).to_contain_text("ReturnedRecordsCount")
    page.screenshot(path=shots / "metrics.png", full_page=True)

    # a narrow window: nothing wider than the screen but the tables' own scrolling boxes
    page.set_viewport_size({"width": 400, "height": 800})
    for path, name in ((f"tables/{table}", "table-narrow"), ("tables", "tables-narrow")):
        page.goto(console_url(live, path))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"{path} is {width}px wide in a 400px window"
        page.screenshot(path=shots / f"{name}.png", full_page=True)
    page.goto(console_url(live, f"tables/{table}/items"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    page.screenshot(path=shots / "items-narrow.png", full_page=True)


def test_bad_input_shows_dynamodbs_error(live: Server, page: Any) -> None:
    from playwright.sync_api import expect

    ddb = live.client("dynamodb")
    table = unique("bad")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # a malformed JSON item: DynamoDB's SerializationException, the text kept in the editor
    page.goto(console_url(live, f"tables/{table}/item"))
    editor = page.locator("#editor")
    editor.locator("textarea[name=item]").fill('{"pk": {"S": "a"},')
    editor.get_by_role("button", name="Save item").click()
    expect(page.locator(".error")).to_contain_text("SerializationException")
    expect(page.locator("textarea[name=item]")).to_have_value('{"pk": {"S": "a"},')
    # a number where DynamoDB JSON wants a string: the API's own answer
    page.locator("textarea[name=item]").fill('{"pk": {"S": "a"}, "n": {"N": 5}}')
    page.locator("#editor").get_by_role("button", name="Save item").click()
    expect(page.locator(".error")).to_contain_text("SerializationException")
    # an item without its key
    page.locator("textarea[name=item]").fill('{"other": {"S": "a"}}')
    page.locator("#editor").get_by_role("button", name="Save item").click()
    expect(page.locator(".error")).to_contain_text("ValidationException")
    expect(page.locator(".error")).to_contain_text("Missing the key pk in the item")
    # an invalid filter expression typed in the raw box
    page.goto(console_url(live, f"tables/{table}/items"))
    search = page.locator("#search")
    search.locator("summary", has_text="Raw expressions").click()
    search.locator("textarea[name=filter]").fill("pk ==== :x")
    search.get_by_role("button", name="Run").click()
    expect(page.locator(".error")).to_contain_text("ValidationException")
    expect(page.locator(".error")).to_contain_text("Invalid FilterExpression")
    # a table that does not exist
    response = page.goto(console_url(live, "tables/no_such_table_here"))
    assert response is not None and response.status == 200
    expect(page.locator(".error")).to_contain_text("ResourceNotFoundException")

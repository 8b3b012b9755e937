"""Managing a table from the console: its settings edited (capacity, stream, TTL, deletion protection),
a GSI added, deletion refused by protection and then confirmed by name; items paged with
LastEvaluatedKey; the editor's DynamoDB-JSON and plain-JSON views; a failed trigger batch replayed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.browser import console_url
from tests.e2e.triggers_support import handler_dir, start_server, unique, wait_for
from tests.server import Server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("console-manage"))
    yield server
    server.stop()


def _table(server: Server, **extra: Any) -> str:
    name = unique("manage")
    server.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


def _save(page: Any, change: str) -> None:
    form = page.locator(f"form:has(input[name=change][value={change}])")
    form.locator("button").click()


def test_settings_indexes_and_deletion(live: Server, page: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    ddb = live.client("dynamodb")
    table = _table(live)
    page.goto(console_url(live, f"tables/{table}"))
    # provisioned capacity
    capacity = page.locator("form:has(input[name=change][value=capacity])")
    capacity.locator("select[name=billing]").select_option("PROVISIONED")
    capacity.locator("input[name=rcu]").fill("7")
    capacity.locator("input[name=wcu]").fill("3")
    _save(page, "capacity")
    expect(page.locator(".notice")).to_have_text("Change sent.")
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert described["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    # a stream, KEYS_ONLY
    stream = page.locator("form:has(input[name=change][value=stream])")
    stream.locator("input[name=enabled]").check()
    stream.locator("select[name=view]").select_option("KEYS_ONLY")
    _save(page, "stream")
    expect(page.locator(".notice")).to_have_text("Change sent.")
    assert (
        ddb.describe_table(TableName=table)["Table"]["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    )
    # TTL on attribute "expires"
    ttl = page.locator("form:has(input[name=change][value=ttl])")
    ttl.locator("input[name=enabled]").check()
    ttl.locator("input[name=attribute]").fill("expires")
    _save(page, "ttl")
    expect(page.locator(".notice")).to_have_text("Change sent.")
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["AttributeName"] == "expires"
    # an invalid change: DynamoDB's own error on the page (TTL is already on)
    ttl = page.locator("form:has(input[name=change][value=ttl])")
    ttl.locator("input[name=attribute]").fill("other")
    _save(page, "ttl")
    expect(page.locator(".error")).to_contain_text("ValidationException")
    expect(page.locator(".error")).to_contain_text("TimeToLive is already enabled")
    # a GSI added on the table's page
    page.locator("summary", has_text="Add a global secondary index").click()
    add = page.locator("form:has(input[name=action][value=create])")
    add.locator("input[name=index]").fill("byOwner")
    add.locator("input[name=gsi_pk]").fill("owner")
    add.get_by_role("button", name="Add index").click()
    expect(page.locator(".notice")).to_have_text("Index change sent.")
    expect(page.locator("#indexes")).to_contain_text("byOwner")
    # deletion protection on: the delete is DynamoDB's refusal
    protection = page.locator("form:has(input[name=change][value=protection])")
    protection.locator("input[name=enabled]").check()
    _save(page, "protection")
    expect(page.locator("dl.facts")).to_contain_text("Deletion protectionon")
    page.screenshot(path=shots / "table-settings.png", full_page=True)
    page.locator("input[name=confirm]").fill(table)
    page.get_by_role("button", name="Delete table").click()
    expect(page.locator(".error")).to_contain_text("ValidationException")
    expect(page.locator(".error")).to_contain_text("deletion protection")
    # protection off; a wrong confirmation deletes nothing; the right one deletes the table
    protection = page.locator("form:has(input[name=change][value=protection])")
    protection.locator("input[name=enabled]").uncheck()
    _save(page, "protection")
    page.locator("input[name=confirm]").fill(table + "x")
    page.get_by_role("button", name="Delete table").click()
    expect(page.locator(".error")).to_contain_text("type the table's name exactly")
    assert ddb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"
    page.locator("input[name=confirm]").fill(table)
    page.get_by_role("button", name="Delete table").click()
    expect(page.locator("h1")).to_have_text("Tables")
    expect(page.locator("main")).not_to_contain_text(table)


def test_items_are_paged_and_edited_in_both_views(live: Server, page: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    ddb = live.client("dynamodb")
    table = _table(live)
    for n in range(7):
        item = {"pk": {"S": f"k{n}"}, "n": {"N": str(n)}, "big": {"N": "1000000000000000000000000000001"}}
        ddb.put_item(TableName=table, Item=item)
    page.goto(console_url(live, f"tables/{table}/items?limit=3"))
    seen: set[str] = set()
    for expected in (3, 3, 1):
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(expected)
        seen |= {json.loads(rows.nth(i).locator("td").nth(1).inner_text()) for i in range(expected)}
        if expected == 3:
            page.get_by_role("link", name="Next page").click()
    assert seen == {f"k{n}" for n in range(7)}
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)

    # the editor: an item opened in DynamoDB JSON, switched to plain JSON and back, saved changed
    page.goto(console_url(live, f"tables/{table}/items?limit=3"))
    page.locator("table tbody tr").first.get_by_role("link", name="edit").click()
    text = page.locator("textarea[name=item]")
    expect(text).to_have_value(re.compile('"S":'))
    page.locator("input[name=format][value=plain]").check()
    expect(text).not_to_have_value(re.compile('"S":'))
    # a number's text is kept whole (a JavaScript number would round it)
    expect(text).to_have_value(re.compile('"big": 1000000000000000000000000000001'))
    plain = json.loads(text.input_value())
    plain["added"] = "yes"
    text.fill(json.dumps(plain))
    page.locator("input[name=format][value=ddb]").check()
    expect(text).to_have_value(re.compile(r'"added": \{\s+"S": "yes"\s+\}'))
    page.screenshot(path=shots / "editor-ddb.png", full_page=True)
    page.get_by_role("button", name="Save item").click()
    expect(page.locator(".notice")).to_have_text("Item saved.")
    got = ddb.get_item(TableName=table, Key={"pk": {"S": plain["pk"]}})["Item"]
    assert got["added"] == {"S": "yes"}
    assert got["big"] == {"N": "1000000000000000000000000000001"}
    # UpdateItem with an expression on the item shown; a condition that fails is DynamoDB's answer
    page.goto(console_url(live, f"tables/{table}/items?mode=query&pk={plain['pk']}"))
    page.locator("table tbody tr").first.get_by_role("link", name="edit").click()
    page.locator("summary", has_text="Update with an expression").click()
    update = page.locator("#update")
    update.locator("textarea[name=update]").fill("SET #n = #n + :one")
    update.locator("textarea[name=names]").fill('{"#n": "n"}')
    update.locator("textarea[name=values]").fill('{":one": {"N": "10"}}')
    update.get_by_role("button", name="Update item").click()
    expect(page.locator(".notice")).to_have_text("Item updated.")
    expect(page.locator("textarea[name=item]")).to_have_value(re.compile(r'"N": "1\d"'))
    page.locator("summary", has_text="Update with an expression").click()
    update = page.locator("#update")
    update.locator("textarea[name=update]").fill("REMOVE added")
    update.locator("textarea[name=condition]").fill("attribute_not_exists(pk)")
    update.get_by_role("button", name="Update item").click()
    expect(page.locator(".error")).to_contain_text("ConditionalCheckFailedException")
    expect(page.locator(".error")).to_contain_text("The conditional request failed")
    assert ddb.get_item(TableName=table, Key={"pk": {"S": plain["pk"]}})["Item"]["added"] == {"S": "yes"}
    # deleting an item from the list
    page.goto(console_url(live, f"tables/{table}/items?limit=10"))
    page.locator("table tbody tr").first.get_by_role("button", name="delete").click()
    expect(page.locator(".notice")).to_have_text("Item deleted.")
    assert ddb.scan(TableName=table)["Count"] == 6


FLAKY_HANDLER = """
import json, os

def handler(event, context):
    if not os.path.exists(os.environ["HEAL"]):
        raise RuntimeError("not yet")
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
"""


def test_a_failed_batch_is_replayed(live: Server, page: Any, shots: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    table = _table(live, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    arn = live.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    heal, out = tmp_path / "heal", tmp_path / "out.jsonl"
    lam = live.client("lambda")
    function = unique("flaky")
    lam.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/test",
        Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": str(handler_dir(tmp_path, FLAKY_HANDLER))},
        Environment={"Variables": {"HEAL": str(heal), "OUT": str(out)}},
        Timeout=60,
    )
    uuid = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", MaximumRetryAttempts=0
    )["UUID"]
    live.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "lost"}})

    def failures() -> list[dict[str, Any]]:
        status, _, body = live.request("GET", f"/2015-03-31/event-source-mappings/{uuid}/headwater-failures")
        assert status == 200
        found: list[dict[str, Any]] = json.loads(body)["Failures"]
        return found

    wait_for(failures)
    page.goto(console_url(live, f"triggers/mappings/{uuid}"))
    rows = page.locator("section", has_text="On-failure records").locator("tbody tr")
    expect(rows).to_have_count(1)
    # replayed while the handler still fails: the function's error, shown
    rows.first.get_by_role("button", name="replay").click()
    expect(page.locator(".error")).to_contain_text("the replay failed again")
    expect(page.locator(".error")).to_contain_text("not yet")
    heal.write_text("")
    page.locator("section", has_text="On-failure records").locator("tbody tr").first.get_by_role(
        "button", name="replay"
    ).click()
    expect(page.locator(".notice")).to_contain_text("Batch replayed")
    page.screenshot(path=shots / "mapping-replayed.png", full_page=True)
    event = json.loads(out.read_text().splitlines()[-1])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]] == ["lost"]
    assert event["Records"][0]["eventSourceARN"] == arn


def test_the_tail_shows_what_a_change_changed(live: Server, page: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    ddb = live.client("dynamodb")
    table = _table(live, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    page.goto(console_url(live, f"tables/{table}/stream"))
    expect(page.locator("#tail-status")).to_contain_text("Live")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "color": {"S": "red"}, "gone": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "color": {"S": "blue"}, "new": {"BOOL": True}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    modify = page.locator("#records tr.modify")
    expect(modify).to_have_count(1)
    expect(modify.locator(".changed")).to_have_text('~ color: "red" → "blue"')
    expect(modify.locator(".removed")).to_have_text("- gone: 1")
    expect(modify.locator(".added")).to_have_text("+ new: true")
    removed = page.locator("#records tr.remove")
    expect(removed).to_have_count(1)
    expect(removed.locator(".removed")).to_have_count(3)  # every attribute of the old image
    expect(page.locator("#records tr")).to_have_count(3)
    page.screenshot(path=shots / "stream-diffs.png", full_page=True)

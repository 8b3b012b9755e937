"""The console under --auth sigv4: a person signs in with an access key; a wrong secret is refused; the
pages then show what that principal's policies let it see, because every call is made as the principal."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.auth_support import ADMIN, AuthServer, Identity, policy
from tests.e2e.triggers_support import unique

OPEN_TABLE = unique("open")
SECRET_TABLE = unique("secret")
# everything, except any action on one table
NOT_THE_SECRET = policy(
    {"Effect": "Allow", "Action": "*", "Resource": "*"},
    {"Effect": "Deny", "Action": "dynamodb:*", "Resource": f"arn:aws:dynamodb:*:*:table/{SECRET_TABLE}"},
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    server = AuthServer(
        tmp_path_factory.mktemp("console-auth"),
        [
            Identity("admin", policies=[ADMIN]),
            Identity("limited", policies=[NOT_THE_SECRET]),
            Identity(
                "tables_only", policies=[policy({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"})]
            ),
        ],
    ).start()
    ddb = server.client("dynamodb", "admin")
    for name in (OPEN_TABLE, SECRET_TABLE):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    yield server
    server.stop()


def _sign_in(page: Any, key_id: str, secret: str) -> None:
    page.locator("input[name=access_key]").fill(key_id)
    page.locator("input[name=secret_key]").fill(secret)
    page.get_by_role("button", name="Sign in").click()


def test_a_wrong_secret_is_refused(live: AuthServer, page: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live.endpoint}/console/tables")
    expect(page.locator("h1")).to_have_text("Sign in")  # nothing shown before signing in
    key = live.keys["limited"]
    _sign_in(page, key.id, key.secret + "x")
    expect(page.locator(".error")).to_contain_text("InvalidSignatureException")
    expect(page.locator("h1")).to_have_text("Sign in")
    _sign_in(page, "AKIANOSUCHKEY0000000", key.secret)
    expect(page.locator(".error")).to_contain_text("UnrecognizedClientException")
    page.screenshot(path=shots / "sign-in-refused.png", full_page=True)
    page.goto(f"{live.endpoint}/console/tables")
    expect(page.locator("h1")).to_have_text("Sign in")


def test_a_principal_sees_only_what_its_policies_allow(live: AuthServer, page: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live.endpoint}/console/")
    key = live.keys["limited"]
    _sign_in(page, key.id, key.secret)
    expect(page.locator("h1")).to_have_text("Tables")
    expect(page.locator("nav .who")).to_contain_text(key.id)
    expect(page.locator("table")).to_contain_text(OPEN_TABLE)
    expect(page.locator("table")).not_to_contain_text(SECRET_TABLE)
    expect(page.locator(".hint")).to_contain_text("1 table(s) on this page are not shown")
    page.screenshot(path=shots / "tables-limited.png", full_page=True)
    # asked for by its address, the table is the API's AccessDeniedException
    page.goto(f"{live.endpoint}/console/tables/{SECRET_TABLE}/items")
    expect(page.locator(".error")).to_contain_text("AccessDeniedException")
    page.goto(f"{live.endpoint}/console/tables/{OPEN_TABLE}/items")
    expect(page.locator("h1")).to_have_text(f"{OPEN_TABLE}: items")
    expect(page.locator(".error")).to_have_count(0)
    # signing out ends the session: the pages ask for a sign-in again
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("Sign in")
    page.goto(f"{live.endpoint}/console/tables")
    expect(page.locator("h1")).to_have_text("Sign in")


def test_metrics_need_headwater_get_metrics(live: AuthServer, page: Any) -> None:
    """The charts are scrapes of /metrics as the principal: without headwater:GetMetrics, the refusal."""
    from playwright.sync_api import expect

    page.goto(f"{live.endpoint}/console/")
    key = live.keys["tables_only"]
    _sign_in(page, key.id, key.secret)
    expect(page.locator("table")).to_contain_text(OPEN_TABLE)
    page.goto(f"{live.endpoint}/console/metrics")
    expect(page.locator("#metrics-status")).to_contain_text("AccessDeniedException")
    expect(page.locator("#metrics-status")).to_contain_text("headwater:GetMetrics")
    page.goto(f"{live.endpoint}/console/triggers")
    expect(page.locator(".error")).to_contain_text("AccessDeniedException")


def test_usage_needs_headwater_get_usage(live: AuthServer, page: Any) -> None:
    """The usage page reads POST /_headwater/usage as the principal: without headwater:GetUsage, the
    refusal."""
    from playwright.sync_api import expect

    page.goto(f"{live.endpoint}/console/")
    key = live.keys["tables_only"]
    _sign_in(page, key.id, key.secret)
    expect(page.locator("table")).to_contain_text(OPEN_TABLE)
    page.goto(f"{live.endpoint}/console/usage")
    expect(page.locator(".error")).to_contain_text("AccessDeniedException")
    expect(page.locator(".error")).to_contain_text("headwater:GetUsage")


def test_the_admin_sees_every_table(live: AuthServer, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live.endpoint}/console/")
    key = live.keys["admin"]
    _sign_in(page, key.id, key.secret)
    expect(page.locator("table")).to_contain_text(SECRET_TABLE)
    expect(page.locator("table")).to_contain_text(OPEN_TABLE)


@pytest.mark.parametrize(
    "form",
    [
        {"access_key": "AKIA\r\nX-Injected: 1", "secret_key": "s", "region": "us-east-1"},
        {"access_key": "AKIA" + "A" * 200, "secret_key": "s", "region": "us-east-1"},
        {"access_key": "AKIAEXAMPLE", "secret_key": "", "region": "us-east-1"},
        {"access_key": "AKIAEXAMPLE", "secret_key": "s" * 129, "region": "us-east-1"},
        {"access_key": "AKIAEXAMPLE", "secret_key": "s", "region": "us-east-1\r\nX: y"},
        {"access_key": "AKIAEXAMPLE", "secret_key": "s", "region": "../../"},
    ],
)
def test_sign_in_fields_are_checked_before_anything_is_signed(live: AuthServer, form: dict[str, str]) -> None:
    assert live.server is not None
    conn = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=60)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": live.endpoint}
        conn.request("POST", "/console/signin", body=urlencode(form).encode(), headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 400
    assert b"an access key id, its secret and a region are needed" in body
    assert response.getheader("set-cookie") is None

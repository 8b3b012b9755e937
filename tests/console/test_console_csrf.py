"""A console session is not a way in for another site: a state-changing POST without the session's token,
with a foreign Origin, or saying nothing of where it comes from is refused, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.console.browser import ConsoleSession
from tests.e2e.triggers_support import unique
from tests.server import Server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("console-csrf")).start()
    yield server
    server.stop()


def _form(session: ConsoleSession, table: str, *, token: bool = True) -> dict[str, str]:
    form = {"name": table, "pk": "pk", "pk_type": "S", "billing": "PAY_PER_REQUEST"}
    if token:
        form["csrf"] = session.token
    return form


def _exists(server: Server, table: str) -> bool:
    try:
        server.client("dynamodb").describe_table(TableName=table)
    except ClientError as err:
        assert err.response["Error"]["Code"] == "ResourceNotFoundException"
        return False
    return True


def test_a_post_without_the_token_is_refused(live: Server) -> None:
    session = ConsoleSession(live)
    table = unique("csrf")
    status, body = session.post(
        "/console/create-table", _form(session, table, token=False), Origin=session.origin
    )
    assert status == 403
    assert b"did not carry this session's token" in body
    status, _ = session.post(
        "/console/create-table", {**_form(session, table), "csrf": "x" + session.token}, Origin=session.origin
    )
    assert status == 403
    assert not _exists(live, table)


def test_a_post_from_another_origin_is_refused(live: Server) -> None:
    session = ConsoleSession(live)
    table = unique("csrf")
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{live.port + 1}"):
        status, body = session.post("/console/create-table", _form(session, table), Origin=origin)
        assert status == 403, origin
        assert b"refuses requests another site" in body
    status, _ = session.post(
        "/console/create-table",
        _form(session, table),
        **{"Sec-Fetch-Site": "cross-site", "Origin": session.origin},
    )
    assert status == 403
    # no Origin and no Sec-Fetch-Site: not a page of the console (every browser says one of them)
    status, body = session.post("/console/create-table", _form(session, table))
    assert status == 403
    assert b"must come from the console's own pages" in body
    assert not _exists(live, table)


def test_a_post_without_a_session_is_refused(live: Server) -> None:
    session = ConsoleSession(live)
    table = unique("csrf")
    session.cookie = "hwconsole=forged"
    status, _ = session.post("/console/create-table", _form(session, table), Origin=session.origin)
    assert status == 403
    assert not _exists(live, table)


def test_a_rebound_dns_name_is_refused(live: Server) -> None:
    session = ConsoleSession(live)
    status, _, body = session.request(
        "GET", "/console/tables", cookie=session.cookie, headers={"Host": "evil.example"}
    )
    assert status == 403
    assert b"evil.example is not a name of this loopback server" in body


def test_the_same_post_from_the_console_is_carried_out(live: Server) -> None:
    """The control: what the refusals above lacked is all that kept them from working."""
    session = ConsoleSession(live)
    table = unique("csrf")
    status, _ = session.post("/console/create-table", _form(session, table), Origin=session.origin)
    assert status == 303
    assert _exists(live, table)


def test_oversized_and_malformed_forms_are_refused(live: Server) -> None:
    session = ConsoleSession(live)
    status, _ = session.post(
        "/console/create-table", {"csrf": session.token, "name": "x" * 5000}, Origin=session.origin
    )
    assert status == 400
    many = {f"f{n}": "v" for n in range(500)}
    status, _ = session.post("/console/create-table", {"csrf": session.token, **many}, Origin=session.origin)
    assert status == 400
    status, _, _ = session.request(
        "GET", "/console/tables/x/items?start=" + "A" * 5000, cookie=session.cookie
    )
    assert status == 400
    status, _, _ = session.request("PUT", "/console/tables", cookie=session.cookie)
    assert status == 405

"""Playwright driving Debian's chromium (/usr/bin/chromium, installed by `make chromium`): no browser is
downloaded. Without it the console's browser tests skip, except under CI where they fail."""

from __future__ import annotations

import http.client
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server import Server

CHROMIUM = Path(os.environ.get("HEADWATER_CHROMIUM", "/usr/bin/chromium"))
# as the machine's probe starts it: no sandbox as root, no background connections to the outside
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 30_000  # the deadline of every wait on the page; only a failing test reaches it


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{why}: the console's browser tests need it under CI (make chromium)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        _missing(f"no chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a test saves its screenshots (under the test's own temporary directory)."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


def console_url(server: Server, path: str = "") -> str:
    return f"{server.endpoint}/console/{path}"


class ConsoleSession:
    """A console session driven over plain HTTP (no browser): for the checks a browser would not let a
    page make (a missing token, a foreign Origin)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        status, headers, _ = self.request("GET", "/console/tables")
        assert status == 303, status
        self.cookie = headers["set-cookie"].split(";")[0]
        status, _, body = self.request("GET", "/console/tables", cookie=self.cookie)
        assert status == 200, status
        found = re.search(rb'<meta name="csrf" content="([^"]+)">', body)
        assert found is not None
        self.token = found.group(1).decode()

    @property
    def origin(self) -> str:
        return self.server.endpoint

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        cookie: str = "",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        if cookie:
            sent["Cookie"] = cookie
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def post(self, path: str, form: dict[str, str], **headers: str) -> tuple[int, bytes]:
        from urllib.parse import urlencode

        status, _, body = self.request(
            "POST", path, urlencode(form).encode(), cookie=self.cookie, headers=headers
        )
        return status, body

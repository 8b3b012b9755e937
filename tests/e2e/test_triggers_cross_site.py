"""The Lambda and admin routes refuse what a web page could send to a server on the developer's machine
(no Authorization, a form's content type, another origin), with no authentication configured at all;
SDKs and Headwater's own commands go on working."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.triggers_support import ROLE, start_server, unique, zip_of
from tests.server import Server

FOREIGN = "http://attacker.example"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("cross_site"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(srv: Server) -> Any:
    return srv.client("lambda")


def marker_code(marker: Path) -> str:
    """A handler whose every run leaves a file behind."""
    return f"""
def handler(event, context):
    open({str(marker)!r}, "a").write("ran\\n")
    return "ran"
"""


def create_body(name: str, marker: Path) -> bytes:
    return json.dumps(
        {
            "FunctionName": name,
            "Runtime": "python3.12",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": base64.b64encode(zip_of(marker_code(marker))).decode()},
        }
    ).encode()


def error_type(headers: dict[str, str]) -> str:
    return headers.get("x-amzn-errortype", "")


def test_unsigned_create_function_is_refused_and_creates_nothing(
    srv: Server, lam: Any, tmp_path: Path
) -> None:
    name = unique("unsigned")
    status, headers, body = srv.request(
        "POST", "/2015-03-31/functions", create_body(name, tmp_path / "ran"), sign=False
    )
    assert status == 403
    assert error_type(headers) == "MissingAuthenticationTokenException"
    assert "signed requests only" in json.loads(body)["message"]
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=name)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_unsigned_invoke_runs_nothing(srv: Server, lam: Any, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    name = unique("victim")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(marker_code(marker))},
    )
    path = f"/2015-03-31/functions/{name}/invocations"
    status, headers, _ = srv.request("POST", path, b"{}", sign=False)
    assert (status, error_type(headers)) == (403, "MissingAuthenticationTokenException")
    # a browser's form post: text/plain, another origin, no credentials
    form = {"Content-Type": "text/plain", "Origin": FOREIGN}
    status, headers, _ = srv.request("POST", path, b"{}", headers=form, sign=False)
    assert (status, error_type(headers)) == (403, "MissingAuthenticationTokenException")
    # Invoke is synchronous: had any of these run the handler, the file would be there now
    assert not marker.exists()
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    assert json.loads(response["Payload"].read()) == "ran"
    assert marker.read_text() == "ran\n"


def test_signed_requests_a_browser_could_shape_are_refused(srv: Server, lam: Any, tmp_path: Path) -> None:
    """Even an Authorization header (auth is off: any signature passes) does not let through a form's
    content type, another origin, or a DNS name rebound to this loopback server."""
    marker = tmp_path / "ran"
    cases = [
        ({"Content-Type": "text/plain", "Origin": FOREIGN}, "Content-Type text/plain"),
        ({"Content-Type": "text/plain"}, "Content-Type text/plain"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "application/x-www-form-urlencoded"),
        ({"Content-Type": "multipart/form-data; boundary=x"}, "multipart/form-data"),
        ({"Origin": FOREIGN}, f"Origin {FOREIGN} is not this server's origin"),
        ({"Origin": "null"}, "Origin null is not this server's origin"),
        ({"Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site: cross-site"),
        ({"Host": "attacker.example:80", "Origin": "http://attacker.example:80"}, "Host attacker.example"),
    ]
    for headers, why in cases:
        name = unique("shaped")
        status, answer, body = srv.request(
            "POST", "/2015-03-31/functions", create_body(name, marker), headers=headers
        )
        assert (status, error_type(answer)) == (403, "AccessDeniedException"), headers
        assert why in json.loads(body)["message"], (headers, body)
        with pytest.raises(ClientError):
            lam.get_function(FunctionName=name)
    # the same request from the server's own origin is fine
    name = unique("own")
    own = {"Origin": srv.endpoint}
    status, _, body = srv.request("POST", "/2015-03-31/functions", create_body(name, marker), headers=own)
    assert status == 201, body
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
    assert not marker.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/2015-03-31/functions"),
        ("GET", "/2015-03-31/event-source-mappings"),
        ("GET", "/2018-10-31/layers"),
        ("GET", "/2016-08-19/account-settings"),
        ("PUT", "/2017-10-31/functions/f/concurrency"),
        ("GET", "/2019-09-30/functions/f/concurrency"),
        ("POST", "/_headwater/ttl/sweep"),
        ("POST", "/_headwater/streams/rollover"),
    ],
)
def test_every_control_route_refuses_unsigned_requests(srv: Server, method: str, path: str) -> None:
    status, headers, _ = srv.request(method, path, b"{}", sign=False)
    assert (status, error_type(headers)) == (403, "MissingAuthenticationTokenException")
    assert "access-control-allow-origin" not in headers


def test_sdk_and_headwater_commands_still_work(srv: Server, lam: Any) -> None:
    name = unique("fine")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of("def handler(event, context):\n    print('hello from', event)\n")},
    )
    assert lam.invoke(FunctionName=name, Payload=b'{"k": 1}')["StatusCode"] == 200
    headwater = [sys.executable, "-m", "headwater"]
    logs = subprocess.run(
        [*headwater, "functions", "logs", name, "--endpoint-url", srv.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert logs.returncode == 0, logs.stderr
    assert "hello from {'k': 1}" in logs.stdout
    swept = subprocess.run(
        [*headwater, "admin", "sweep-ttl", "--endpoint-url", srv.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert swept.returncode == 0, swept.stderr

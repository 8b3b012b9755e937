"""Function code comes from uploaded zips, or from a directory the operator allowed when starting the
server (`--allow-code-dir`): no client can make the server import code from anywhere else on its host,
and no answer shows a path on the host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.triggers_support import POLL, ROLE, handler_dir, put, stream_table, unique, wait_for, zip_of
from tests.server import Server

HELLO = "def handler(event, context):\n    return 'hello'\n"


def hot_reload(lam: Any, folder: Path | str, name: str | None = None) -> str:
    name = name or unique("dir")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": str(folder)},
    )
    return name


def refusal(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    message: str = err.value.response["Error"]["Message"]
    return message


def test_without_the_option_hot_reload_is_refused(tmp_server: Callable[..., Server], tmp_path: Path) -> None:
    srv = tmp_server().start()
    lam = srv.client("lambda")
    folder = handler_dir(tmp_path, HELLO)
    message = refusal(lambda: hot_reload(lam, folder))
    assert "--allow-code-dir" in message and "ZipFile" in message
    assert lam.list_functions()["Functions"] == []
    name = zip_function(lam)
    before = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    code = {"S3Bucket": "hot-reload", "S3Key": str(folder)}
    assert "--allow-code-dir" in refusal(lambda: lam.update_function_code(FunctionName=name, **code))
    assert lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == before


def zip_function(lam: Any, code: str = HELLO) -> str:
    name = unique("zip")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(code)},
    )
    return name


def test_only_directories_inside_an_allowed_one(tmp_server: Callable[..., Server], tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    elsewhere = tmp_path / "elsewhere"
    allowed.mkdir()
    elsewhere.mkdir()
    srv = tmp_server("--allow-code-dir", str(allowed)).start()
    lam = srv.client("lambda")
    inside = handler_dir(allowed, HELLO)
    name = hot_reload(lam, inside)
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "hello"
    outside = handler_dir(elsewhere, HELLO)
    sibling = Path(str(allowed) + "-sibling")  # its name starts like the allowed one's: not inside
    sibling.mkdir()
    dotted = allowed / ".." / "elsewhere" / outside.name  # the real path counts, not the text
    for folder in (outside, Path("/etc"), dotted, sibling):
        message = refusal(lambda: hot_reload(lam, folder))  # noqa: B023 - called at once
        assert f"--allow-code-dir {allowed}" in message, message
    link = allowed / "link"
    link.symlink_to(outside)  # inside by name, outside in fact
    message = refusal(lambda: hot_reload(lam, link))
    assert f"The code directory {link} is outside" in message  # where it leads is not shown
    assert str(outside) not in message
    # nothing is said about paths outside: a missing one is refused like an existing one
    missing = refusal(lambda: hot_reload(lam, elsewhere / "missing"))
    assert missing.startswith(f"The code directory {elsewhere / 'missing'} is outside")
    assert refusal(lambda: hot_reload(lam, allowed / "missing")).startswith("Hot-reload code must be")
    assert refusal(lambda: hot_reload(lam, "relative/dir")).startswith(
        "Hot-reload code must be an absolute path"
    )


def test_the_environment_variable_allows_several(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    srv = Server(tmp_path, env={"HEADWATER_ALLOW_CODE_DIR": os.pathsep.join([str(first), str(second)])})
    try:
        lam = srv.start().client("lambda")
        for root in (first, second):
            name = hot_reload(lam, handler_dir(root, HELLO))
            assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "hello"
    finally:
        srv.stop()


def test_a_missing_allowed_directory_stops_the_server_at_start(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "headwater",
            "serve",
            "--in-memory",
            "--allow-code-dir",
            str(tmp_path / "none"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "--allow-code-dir" in done.stderr and "does not exist" in done.stderr


def test_no_answer_shows_a_host_path(tmp_server: Callable[..., Server], tmp_path: Path) -> None:
    srv = tmp_server("--allow-code-dir", str(tmp_path)).start()
    lam = srv.client("lambda")
    names = [zip_function(lam), hot_reload(lam, handler_dir(tmp_path, HELLO))]
    for name in names:
        got = lam.get_function(FunctionName=name)
        assert got["Code"] == {"RepositoryType": "S3"}  # Location is a presigned URL on AWS: none here
        answers = [got, lam.get_function_configuration(FunctionName=name), lam.list_functions()]
        for answer in answers:
            text = json.dumps({k: v for k, v in answer.items() if k != "ResponseMetadata"}, default=str)
            assert str(tmp_path) not in text and "file://" not in text, text


def test_a_restart_without_the_option_stops_directory_code(
    tmp_server: Callable[..., Server], tmp_path: Path
) -> None:
    srv = tmp_server("--allow-code-dir", str(tmp_path)).start()
    lam = srv.client("lambda")
    name = hot_reload(lam, handler_dir(tmp_path, HELLO))
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "hello"
    srv.stop()
    srv.extra_args = ()
    srv.start()
    lam = srv.client("lambda")
    assert "--allow-code-dir" in refusal(lambda: lam.invoke(FunctionName=name))
    assert "--allow-code-dir" in refusal(lambda: lam.invoke(FunctionName=name, InvocationType="Event"))


def test_triggers_add_uploads_a_zip_when_the_server_does_not_allow_the_directory(
    tmp_server: Callable[..., Server], tmp_path: Path
) -> None:
    srv = tmp_server("--trigger-poll-interval", POLL).start()
    ddb = srv.client("dynamodb")
    table, _ = stream_table(ddb)
    out = tmp_path / "seen.txt"
    handler = tmp_path / "code" / "on_change.py"
    handler.parent.mkdir()
    handler.write_text(
        "def process(event, context):\n"
        f"    open({str(out)!r}, 'a').write(''.join(r['eventName'] + chr(10) for r in event['Records']))\n"
    )
    added = subprocess.run(
        [sys.executable, "-m", "headwater", "triggers", "add", table, "--handler", f"{handler}:process",
         "--endpoint-url", srv.endpoint],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "uploaded that directory as a zip" in added.stderr
    name = added.stdout.split("\t")[0]
    assert srv.client("lambda").get_function(FunctionName=name)["Configuration"]["CodeSize"] > 0
    put(ddb, table, "a")
    wait_for(lambda: out.exists() and out.read_text() == "INSERT\n")

"""Uploaded code versions are deleted from disk once replaced (UpdateFunctionCode) or their function
deleted, as soon as no running worker uses them; a local hot-reload directory is never touched."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.triggers_support import ROLE, handler_dir, unique, wait_for, zip_of
from tests.server import Server

# {"gate": path}: hold the invocation until that file exists; {"started": path}: say it began
CODE = """
import os, time
VERSION = {version}

def handler(event, context):
    if event.get("started"):
        open(event["started"], "w").close()
    while event.get("gate") and not os.path.exists(event["gate"]):
        time.sleep(0.01)
    return {{"version": VERSION, "cwd": os.getcwd()}}
"""


def versions(srv: Server, name: str) -> list[Path]:
    # the default namespace's state directory: <account>/<region> under the data dir's triggers/
    folder = srv.data_dir / "data" / "triggers" / "000000000000" / "us-east-1" / "functions" / name
    return sorted(folder.iterdir()) if folder.is_dir() else []


def create(lam: Any, version: int) -> str:
    name = unique("v")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(CODE.format(version=version))},
        Timeout=60,
    )
    return name


def call(lam: Any, name: str, event: dict[str, str] | None = None) -> dict[str, Any]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    answer: dict[str, Any] = json.loads(response["Payload"].read())
    return answer


def test_a_replaced_version_is_deleted_once_unused(tmp_server: Callable[..., Server], tmp_path: Path) -> None:
    srv = tmp_server().start()
    lam = srv.client("lambda")
    name = create(lam, 1)
    [first] = versions(srv, name)
    assert call(lam, name) == {"version": 1, "cwd": str(first)}  # a warm worker now runs from it
    package = zip_of(CODE.format(version=2))
    lam.update_function_code(FunctionName=name, ZipFile=package)
    wait_for(lambda: not first.exists())
    [second] = versions(srv, name)
    assert call(lam, name)["version"] == 2
    # the same package again keeps its directory
    lam.update_function_code(FunctionName=name, ZipFile=package)
    assert versions(srv, name) == [second]
    assert call(lam, name)["version"] == 2

    # a version still running when replaced stays until its invocation is over
    gate, started = tmp_path / "gate", tmp_path / "started"
    answers: list[dict[str, Any]] = []
    held = threading.Thread(
        target=lambda: answers.append(call(lam, name, {"gate": str(gate), "started": str(started)}))
    )
    held.start()
    wait_for(started.exists)
    lam.update_function_code(FunctionName=name, ZipFile=zip_of(CODE.format(version=3)))
    assert second.exists()  # in use by the held invocation
    assert len(versions(srv, name)) == 2
    gate.touch()
    held.join(timeout=60)
    assert answers == [{"version": 2, "cwd": str(second)}]
    wait_for(lambda: not second.exists())
    assert call(lam, name)["version"] == 3
    [third] = versions(srv, name)

    lam.delete_function(FunctionName=name)
    wait_for(lambda: not third.parent.exists())


def test_a_deleted_function_keeps_its_code_until_its_invocation_ends(
    tmp_server: Callable[..., Server], tmp_path: Path
) -> None:
    srv = tmp_server().start()
    lam = srv.client("lambda")
    name = create(lam, 1)
    [code] = versions(srv, name)
    gate, started = tmp_path / "gate", tmp_path / "started"
    answers: list[dict[str, Any]] = []
    held = threading.Thread(
        target=lambda: answers.append(call(lam, name, {"gate": str(gate), "started": str(started)}))
    )
    held.start()
    wait_for(started.exists)
    lam.delete_function(FunctionName=name)
    assert code.exists()
    gate.touch()
    held.join(timeout=60)
    assert answers == [{"version": 1, "cwd": str(code)}]
    wait_for(lambda: not code.parent.exists())


def test_leftovers_are_swept_at_start_and_local_directories_never(
    tmp_server: Callable[..., Server], tmp_path: Path
) -> None:
    srv = tmp_server("--allow-code-dir", str(tmp_path)).start()
    lam = srv.client("lambda")
    name = create(lam, 1)
    [current] = versions(srv, name)
    local = handler_dir(tmp_path, CODE.format(version=7))
    dir_name = unique("local")
    lam.create_function(
        FunctionName=dir_name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": str(local)},
    )
    assert call(lam, dir_name)["version"] == 7
    srv.stop()
    # what a kill -9 between replacing a version and deleting it would leave behind
    stale = current.parent / "0123456789abcdef"
    stale.mkdir()
    (stale / "app.py").write_text("")
    orphan = current.parent.parent / "gone-function" / "fedcba9876543210"
    orphan.mkdir(parents=True)
    srv.start()
    lam = srv.client("lambda")
    assert not stale.exists() and not orphan.parent.exists()
    assert versions(srv, name) == [current]
    assert call(lam, name)["version"] == 1
    lam.update_function_code(FunctionName=dir_name, ZipFile=zip_of(CODE.format(version=8)))
    lam.delete_function(FunctionName=dir_name)
    assert (local / "app.py").exists()  # the user's own directory stays

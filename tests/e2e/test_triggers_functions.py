"""Functions through the Lambda API: create/get/list/update/delete, Invoke in all its forms, context,
environment, timeout, warm reuse, crash restart, hot reload and logs."""

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

from tests.e2e.triggers_support import ROLE, dir_function, handler_dir, start_server, unique, wait_for, zip_of
from tests.server import Server

CODE = """
import json, os, sys, time, logging

def handler(event, context):
    print("event", json.dumps(event))
    logging.getLogger().warning("warned %s", context.function_name)
    action = event.get("action")
    if action == "raise":
        raise ValueError("it broke")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "exit":
        os._exit(7)
    if action == "bad-return":
        return {1, 2}
    return {
        "pid": os.getpid(),
        "function_name": context.function_name,
        "function_version": context.function_version,
        "aws_request_id": context.aws_request_id,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "env": {k: os.environ.get(k) for k in ("GREETING", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME")},
        "event": event,
    }
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("functions"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(srv: Server) -> Any:
    return srv.client("lambda")


def zip_function(lam: Any, code: str = CODE, **extra: Any) -> str:
    name = unique("z")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(code)},
        **extra,
    )
    return name


def call(lam: Any, name: str, event: Any = None, **extra: Any) -> tuple[dict[str, Any], Any]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **extra)
    return response, json.loads(response["Payload"].read())


def test_create_get_list_update_delete(lam: Any) -> None:
    name = unique("crud")
    created = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(CODE)},
        Timeout=5,
        MemorySize=256,
        Environment={"Variables": {"GREETING": "hi"}},
        Description="test",
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert (created["Runtime"], created["Handler"], created["Timeout"], created["MemorySize"]) == (
        "python3.12",
        "app.handler",
        5,
        256,
    )
    assert created["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert created["State"] == "Active" and created["Version"] == "$LATEST"
    assert len(base64.b64decode(created["CodeSha256"])) == 32
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["FunctionName"] == name
    assert got["Configuration"]["RevisionId"] == created["RevisionId"]
    assert name in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    updated = lam.update_function_configuration(
        FunctionName=name, Timeout=9, MemorySize=512, Environment={"Variables": {"GREETING": "hello"}}
    )
    assert (updated["Timeout"], updated["MemorySize"]) == (9, 512)
    assert updated["RevisionId"] != created["RevisionId"]
    _, body = call(lam, name)
    assert body["env"]["GREETING"] == "hello"
    assert body["memory_limit_in_mb"] == "512"
    new_code = CODE.replace('"event": event,', '"event": event, "version": 2,')
    changed = lam.update_function_code(FunctionName=name, ZipFile=zip_of(new_code))
    assert changed["CodeSha256"] != created["CodeSha256"]
    _, body = call(lam, name)
    assert body["version"] == 2
    assert lam.delete_function(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=name)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}"
    )
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == (
        "ResourceNotFoundException"
    )


def test_create_errors(lam: Any) -> None:
    name = zip_function(lam)
    with pytest.raises(ClientError) as err:
        zip_function_named(lam, name)
    assert err.value.response["Error"]["Code"] == "ResourceConflictException"
    assert err.value.response["Error"]["Message"] == f"Function already exist: {name}"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as err:
        lam.create_function(
            FunctionName=unique("bad"), Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": b"not a zip"},
        )  # fmt: skip
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["Error"]["Message"] == (
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )
    with pytest.raises(ClientError) as err:
        lam.create_function(
            FunctionName=unique("bad"), Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
            Code={"ZipFile": zip_of(CODE)},
        )  # fmt: skip
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as err:
        zip_function(lam, Timeout=901)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must have value less than or equal to 900" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        zip_function(lam, Environment={"Variables": {"AWS_REGION": "x"}})
    assert "Reserved keys used in this request: AWS_REGION" in err.value.response["Error"]["Message"]


def zip_function_named(lam: Any, name: str) -> None:
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(CODE)},
    )


def test_invoke_request_response_with_context_and_env(lam: Any) -> None:
    name = zip_function(lam, Environment={"Variables": {"GREETING": "hi"}}, MemorySize=256, Timeout=300)
    response, body = call(lam, name, {"x": 1})
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"x": 1}
    assert body["function_name"] == name
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert body["memory_limit_in_mb"] == "256"
    assert 3000 < body["remaining"] <= 300_000  # the function's timeout, not the 3 s default
    assert body["log_group_name"] == f"/aws/lambda/{name}"
    assert "[$LATEST]" in body["log_stream_name"]
    assert body["aws_request_id"] == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert body["env"]["GREETING"] == "hi"
    assert body["env"]["AWS_REGION"] == "us-east-1"
    assert body["env"]["AWS_LAMBDA_FUNCTION_NAME"] == name


def test_workers_are_reused_and_restarted_after_a_crash(lam: Any) -> None:
    name = zip_function(lam)
    _, first = call(lam, name)
    _, second = call(lam, name)
    assert first["pid"] == second["pid"]  # warm
    response, body = call(lam, name, {"action": "exit"})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: exit status 7")
    _, third = call(lam, name)
    assert third["pid"] != first["pid"]


def test_function_error_payload_and_log_tail(lam: Any) -> None:
    name = zip_function(lam)
    response, body = call(lam, name, {"action": "raise"}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "it broke"
    assert body["requestId"] == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert any('raise ValueError("it broke")' in line for line in body["stackTrace"])
    tail = base64.b64decode(response["LogResult"]).decode()
    assert tail.startswith(f"START RequestId: {body['requestId']} Version: $LATEST")
    assert 'event {"action": "raise"}' in tail
    assert "[WARNING]\t" in tail and f"\twarned {name}" in tail
    assert "[ERROR] ValueError: it broke" in tail
    assert f"END RequestId: {body['requestId']}" in tail
    assert f"REPORT RequestId: {body['requestId']}\tDuration: " in tail
    response, body = call(lam, name, {"action": "bad-return"})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.MarshalError"


def test_timeout_kills_the_worker(lam: Any) -> None:
    name = zip_function(lam, Timeout=1)
    # a server that waited for the handler would hold this call past the test's own timeout
    response, body = call(lam, name, {"action": "sleep", "seconds": 3600})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    _, after = call(lam, name)
    assert after["function_name"] == name


def test_event_and_dry_run_invocations(lam: Any, tmp_path: Path) -> None:
    out = tmp_path / "event.txt"
    code = f"""
def handler(event, context):
    open({str(out)!r}, "w").write(event["v"])
"""
    name = zip_function(lam, code)
    response = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"v": "async"}')
    response["Payload"].close()  # an unread body keeps its connection out of the pool: close it
    assert response["StatusCode"] == 202
    wait_for(lambda: out.exists() and out.read_text() == "async")
    dry = lam.invoke(FunctionName=name, InvocationType="DryRun")
    dry["Payload"].close()
    assert dry["StatusCode"] == 204
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="missing-fn", InvocationType="DryRun")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=name, Payload=b"{not json")
    assert err.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_import_error_is_reported(lam: Any) -> None:
    name = unique("imp")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="missing.handler",
        Code={"ZipFile": zip_of(CODE)},
    )  # fmt: skip
    response, body = call(lam, name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Unable to import module 'missing'")


def test_hot_reload_from_a_directory(lam: Any, tmp_path: Path) -> None:
    folder = handler_dir(tmp_path, "def handler(event, context):\n    return 'one'\n")
    name = dir_function(lam, folder)
    _, body = call(lam, name)
    assert body == "one"
    # a different size: the edit is seen even when the clock has not ticked since the first write
    (folder / "app.py").write_text("def handler(event, context):\n    return 'second'\n")
    _, body = call(lam, name)
    assert body == "second"


def test_logs_command_shows_and_follows_output(srv: Server, lam: Any) -> None:
    name = zip_function(lam)
    call(lam, name, {"marker": "first-call"})
    command = [sys.executable, "-m", "headwater", "functions", "logs", name, "--endpoint-url", srv.endpoint]
    shown = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    assert '"marker": "first-call"' in shown.stdout
    assert "START RequestId:" in shown.stdout
    follower = subprocess.Popen([*command, "--follow"], stdout=subprocess.PIPE, text=True)
    try:
        assert follower.stdout is not None
        # once it has printed the log so far, it follows from there (the test's timeout bounds the wait)
        assert any("first-call" in line for line in follower.stdout)
        call(lam, name, {"marker": "second-call"})
        assert any("second-call" in line for line in follower.stdout)
    finally:
        follower.kill()
        follower.wait()
        if follower.stdout is not None:
            follower.stdout.close()
    missing = subprocess.run(
        [sys.executable, "-m", "headwater", "functions", "logs", "nope", "--endpoint-url", srv.endpoint],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode != 0
    assert "Function not found" in missing.stderr

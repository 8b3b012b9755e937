"""Durable checkpoints: a mapping resumes after the last successful batch across a clean restart and
a kill -9, without skipping records; the CLI shortcut and the AWS CLI drive the same scenario."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.triggers_support import (
    POLL,
    events,
    keys,
    put,
    recorder,
    records,
    stream_table,
    unique,
    wait_for,
    zip_of,
)
from tests.server import Server

# The fourth invocation holds until the gate file exists: the server is killed with exactly that
# batch in flight, however fast or slow the machine is.
GATED = """
def respond(event, context):
    gate = os.environ["OUT"] + ".gate"
    while len(open(os.environ["OUT"]).read().splitlines()) >= 4 and not os.path.exists(gate):
        time.sleep(0.01)
"""


def first_occurrences(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


def test_kill_9_resumes_without_skipping(tmp_server: Callable[..., Server], tmp_path: Path) -> None:
    srv = tmp_server("--trigger-poll-interval", POLL, "--allow-code-dir", str(tmp_path)).start()
    ddb, lam = srv.client("dynamodb"), srv.client("lambda")
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path, GATED)
    expected = [f"k{i:03d}" for i in range(60)]
    for pk in expected[:40]:
        put(ddb, table, pk)
    lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=3
    )
    wait_for(lambda: len(events(out)) >= 4)
    srv.kill()
    assert len(records(out)) == 12  # three batches done, the fourth in flight
    Path(f"{out}.gate").touch()
    srv.start()
    ddb, lam = srv.client("dynamodb"), srv.client("lambda")
    for pk in expected[40:]:
        put(ddb, table, pk)
    wait_for(lambda: set(keys(out)) >= set(expected))
    got = keys(out)
    assert first_occurrences(got) == expected  # nothing skipped, order kept
    # at-least-once: the batch in flight when killed (k009-k011), and only it, is delivered again
    assert got == expected[:12] + expected[9:]


def test_clean_restart_delivers_each_record_once(tmp_server: Callable[..., Server], tmp_path: Path) -> None:
    srv = tmp_server("--trigger-poll-interval", POLL, "--allow-code-dir", str(tmp_path)).start()
    ddb, lam = srv.client("dynamodb"), srv.client("lambda")
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path)
    uuid = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST")[
        "UUID"
    ]
    put(ddb, table, "a")
    wait_for(lambda: keys(out) == ["a"])
    srv.stop()
    srv.start()
    ddb, lam = srv.client("dynamodb"), srv.client("lambda")
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    assert lam.get_function(FunctionName=fn)["Configuration"]["FunctionName"] == fn
    put(ddb, table, "b")
    wait_for(lambda: "b" in keys(out))
    put(ddb, table, "c")  # once it arrives, a duplicate of a or b could only have come before it
    wait_for(lambda: "c" in keys(out))
    assert keys(out) == ["a", "b", "c"]


def run_cli(srv: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headwater", *args, "--endpoint-url", srv.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_shortcut(tmp_server: Callable[..., Server], tmp_path: Path) -> None:
    srv = tmp_server("--trigger-poll-interval", POLL, "--allow-code-dir", str(tmp_path)).start()
    ddb = srv.client("dynamodb")
    table = unique("clitbl")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    out = tmp_path / "seen.jsonl"
    handler = tmp_path / "code" / "on_change.py"
    handler.parent.mkdir()
    handler.write_text(
        "import json, os\n"
        "def process(event, context):\n"
        "    for r in event['Records']:\n"
        "        if r['dynamodb']['Keys']['pk']['S'] == 'poison':\n"
        "            raise RuntimeError('poison')\n"
        f"    open({str(out)!r}, 'a').write(json.dumps(event) + '\\n')\n"
    )
    added = run_cli(
        srv,
        "triggers",
        "add",
        table,
        "--handler",
        f"{handler}:process",
        "--batch-size",
        "1",
        "--starting-position",
        "TRIM_HORIZON",
        "--max-retries",
        "0",
        "--filter",
        json.dumps({"eventName": ["INSERT"]}),
    )
    assert added.returncode == 0, added.stderr
    name, uuid, stream_arn = added.stdout.strip().split("\t")
    assert name == f"{table}-on_change-process"
    assert ddb.describe_table(TableName=table)["Table"]["StreamSpecification"]["StreamEnabled"] is True
    put(ddb, table, "a")
    put(ddb, table, "poison")
    put(ddb, table, "b")
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    wait_for(lambda: keys(out) == ["a", "b"])
    listed = run_cli(srv, "triggers", "list")
    assert listed.returncode == 0
    assert f"{name}\t{table}\tEnabled\t" in listed.stdout and uuid in listed.stdout
    failures = wait_for(lambda: run_cli(srv, "triggers", "failures", name).stdout.strip())
    failure = json.loads(failures.splitlines()[0])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert failure["DDBStreamBatchInfo"]["streamArn"] == stream_arn
    # hot reload: the next invocation runs the edited file
    handler.write_text(handler.read_text().replace("json.dumps(event)", "json.dumps({'Records': []})"))
    put(ddb, table, "c")
    wait_for(lambda: len(events(out)) == 3)
    assert events(out)[-1] == {"Records": []}
    removed = run_cli(srv, "triggers", "remove", name)
    assert removed.returncode == 0, removed.stderr
    assert run_cli(srv, "triggers", "list").stdout.strip() == ""


def test_aws_cli_scenario(tmp_server: Callable[..., Server], tmp_path: Path) -> None:
    srv = tmp_server("--trigger-poll-interval", POLL, "--allow-code-dir", str(tmp_path)).start()
    ddb = srv.client("dynamodb")
    table, arn = stream_table(ddb)
    out = tmp_path / "aws.jsonl"
    archive = tmp_path / "fn.zip"
    code = f"""
import json
def handler(event, context):
    open({str(out)!r}, "a").write(json.dumps(event) + "\\n")
    return {{"ok": True}}
"""
    archive.write_bytes(zip_of(code))
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = str(Path(sys.executable).parent / "aws")

    def run(*args: str) -> Any:
        done = subprocess.run(
            [aws, *args, "--endpoint-url", srv.endpoint, "--output", "json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    fn = unique("awsfn")
    created = run(
        "lambda", "create-function", "--function-name", fn, "--zip-file", f"fileb://{archive}",
        "--handler", "app.handler", "--runtime", "python3.12", "--role", "arn:aws:iam::000000000000:role/r",
    )  # fmt: skip
    assert created["FunctionName"] == fn
    mapping = run(
        "lambda", "create-event-source-mapping", "--function-name", fn, "--event-source-arn", arn,
        "--starting-position", "LATEST", "--batch-size", "10",
    )  # fmt: skip
    assert mapping["EventSourceArn"] == arn
    put(ddb, table, "via-aws-cli")
    wait_for(lambda: keys(out) == ["via-aws-cli"])
    assert records(out)[0]["eventSourceARN"] == arn
    listed = run("lambda", "list-event-source-mappings", "--function-name", fn)
    assert [m["UUID"] for m in listed["EventSourceMappings"]] == [mapping["UUID"]]
    invoked = run("lambda", "invoke", "--function-name", fn, "--payload", "{}", str(tmp_path / "resp.json"))
    assert invoked["StatusCode"] == 200
    assert json.loads((tmp_path / "resp.json").read_text()) == {"ok": True}
    run("lambda", "delete-event-source-mapping", "--uuid", mapping["UUID"])
    run("lambda", "delete-function", "--function-name", fn)

"""Progress of long work: a new GSI's backfill and an export report their items on /metrics
(`headwater_index_backfill_items_done`/`_total`, `headwater_export_items_done`/`_total`), and `headwater
wait index` / `headwater wait export` wait for them, printing one result line (a rich bar on stderr only
when it is a terminal)."""

from __future__ import annotations

import math
import os
import pty
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.auth_support import AuthServer, Identity, allow
from tests.e2e.test_metrics import scrape, value
from tests.e2e.triggers_support import unique
from tests.server import Server
from tests.waiting import wait_until

pytestmark = pytest.mark.headwater_only

HEADWATER = str(Path(sys.executable).with_name("headwater"))
ITEMS = 1234  # three backfill chunks (core/indexes.py CHUNK = 500)
ACCOUNT, REGION = "000000000000", "us-east-1"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("progress")).start()
    yield server
    server.stop()


def filled_table(ddb: Any) -> str:
    name = unique("progress")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for start in range(0, ITEMS, 25):
        requests = [
            {"PutRequest": {"Item": {"pk": {"S": f"k{n:05d}"}, "g": {"S": f"g{n % 7}"}}}}
            for n in range(start, min(start + 25, ITEMS))
        ]
        ddb.batch_write_item(RequestItems={name: requests})
    return name


def add_index(ddb: Any, table: str, index: str) -> None:
    ddb.update_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": index,
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )


def headwater(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HEADWATER, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def on_a_terminal(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `headwater ARGS` with stderr on a pseudo-terminal: (exit code, what the terminal showed)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [HEADWATER, *args],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm", **(env or {})},
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process has ended and closed its end
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return process.wait(timeout=120), shown.decode(errors="replace")


def test_a_backfill_counts_its_items_to_the_total_and_wait_index_prints_one_line(srv: Server) -> None:
    ddb = srv.client("dynamodb")
    table = filled_table(ddb)
    add_index(ddb, table, "by_g")
    out = headwater("wait", "index", table, "by_g", "--endpoint-url", srv.endpoint, "--region", REGION)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"index by_g of table {table} is ACTIVE ({ITEMS} items)\n"
    assert out.stderr == ""  # no bar where stderr is not a terminal
    labels = {"account": ACCOUNT, "region": REGION, "table": table, "index": "by_g"}
    samples = scrape(srv.port)
    assert value(samples, "headwater_index_backfill_items_total", **labels) == ITEMS
    assert value(samples, "headwater_index_backfill_items_done", **labels) == ITEMS


def test_wait_index_draws_a_bar_on_a_terminal(srv: Server) -> None:
    ddb = srv.client("dynamodb")
    table = filled_table(ddb)
    add_index(ddb, table, "by_g")
    code, shown = on_a_terminal(
        "wait", "index", table, "by_g", "--endpoint-url", srv.endpoint, "--region", REGION
    )
    assert code == 0, shown
    assert "backfilling by_g (ACTIVE)" in shown and f"{ITEMS}/{ITEMS}" in shown


def test_wait_index_errors(srv: Server) -> None:
    ddb = srv.client("dynamodb")
    # no --region: the server's own
    out = headwater("wait", "index", unique("missing"), "ix", "--endpoint-url", srv.endpoint)
    assert out.returncode == 1 and "ResourceNotFoundException" in out.stderr, out.stderr
    table = filled_table(ddb)
    out = headwater("wait", "index", table, "nope", "--endpoint-url", srv.endpoint, "--region", REGION)
    assert out.returncode == 1 and f"table {table} has no global secondary index nope" in out.stderr
    for option, bad in (("--interval", "0"), ("--interval", "x"), ("--timeout", "-1")):
        out = headwater("wait", "index", table, "ix", "--endpoint-url", srv.endpoint, option, bad)
        assert out.returncode == 2 and f"Invalid value for '{option}'" in out.stderr, out.stderr
    add_index(ddb, table, "slow")
    out = headwater("wait", "index", table, "slow", "--endpoint-url", srv.endpoint, "--timeout", "0")
    assert out.returncode in (0, 1), out.stderr  # done at the first look, or given up on at once
    assert out.returncode == 0 or "gave up after 0 s waiting for index slow" in out.stderr
    out = headwater(
        "wait", "index", table, "nope", "--endpoint-url", "http://127.0.0.1:9", "--region", REGION
    )
    assert out.returncode == 1 and "Could not connect" in out.stderr, out.stderr


def export_of(ddb: Any, table: str) -> str:
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    answer = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="progress-bucket")
    return str(answer["ExportDescription"]["ExportArn"])


def test_an_export_counts_its_items_and_wait_export_prints_one_line(srv: Server) -> None:
    ddb = srv.client("dynamodb")
    export = export_of(ddb, filled_table(ddb))
    out = headwater("wait", "export", export, "--endpoint-url", srv.endpoint)
    assert out.returncode == 0, out.stderr
    found = ddb.describe_export(ExportArn=export)["ExportDescription"]
    assert out.stdout == (
        f"export {export} COMPLETED: {ITEMS} items, {found['BilledSizeBytes']} bytes, "
        f"manifest {found['ExportManifest']}\n"
    )
    assert out.stderr == ""
    samples = scrape(srv.port)
    assert value(samples, "headwater_export_items_done", export_arn=export) == ITEMS
    assert value(samples, "headwater_export_items_total", export_arn=export) == ITEMS


def test_wait_export_draws_a_bar_on_a_terminal(srv: Server) -> None:
    ddb = srv.client("dynamodb")
    export = export_of(ddb, filled_table(ddb))
    code, shown = on_a_terminal("wait", "export", export, "--endpoint-url", srv.endpoint)
    assert code == 0, shown
    assert "exporting (COMPLETED)" in shown and f"{ITEMS}/{ITEMS}" in shown


def test_wait_export_errors(srv: Server) -> None:
    out = headwater("wait", "export", "not-an-arn", "--endpoint-url", srv.endpoint)
    assert out.returncode == 2 and "is not an ARN" in out.stderr
    missing = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{unique('t')}/export/01234567890123-abcdef01"
    out = headwater("wait", "export", missing, "--endpoint-url", srv.endpoint)
    assert out.returncode == 1 and "ExportNotFoundException" in out.stderr, out.stderr


def test_wait_import_prints_one_line_and_draws_a_bar_on_a_terminal(srv: Server) -> None:
    ddb = srv.client("dynamodb")
    export = export_of(ddb, filled_table(ddb))
    assert headwater("wait", "export", export, "--endpoint-url", srv.endpoint).returncode == 0
    arns = []
    for _ in range(2):
        arns.append(
            ddb.import_table(
                S3BucketSource={
                    "S3Bucket": "progress-bucket",
                    "S3KeyPrefix": f"AWSDynamoDB/{export.rsplit('/', 1)[-1]}/data/",
                },
                InputFormat="DYNAMODB_JSON",
                InputCompressionType="GZIP",
                TableCreationParameters={
                    "TableName": unique("imported"),
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "BillingMode": "PAY_PER_REQUEST",
                },
            )["ImportTableDescription"]["ImportArn"]
        )
    out = headwater("wait", "import", arns[0], "--endpoint-url", srv.endpoint)
    assert out.returncode == 0, out.stderr
    found = ddb.describe_import(ImportArn=arns[0])["ImportTableDescription"]
    assert out.stdout == (
        f"import {arns[0]} COMPLETED: {ITEMS} items imported of {ITEMS} read (0 errors), "
        f"{found['ProcessedSizeBytes']} bytes\n"
    )
    assert out.stderr == ""
    code, shown = on_a_terminal("wait", "import", arns[1], "--endpoint-url", srv.endpoint)
    assert code == 0, shown
    assert "importing (COMPLETED)" in shown and f"{ITEMS}/{ITEMS}" in shown
    missing = arns[0].rsplit("/", 1)[0] + "/01234567890123-abcdef01"
    out = headwater("wait", "import", missing, "--endpoint-url", srv.endpoint)
    assert out.returncode == 1 and "ImportNotFoundException" in out.stderr, out.stderr


def test_a_past_exports_total_is_unknown_until_done(srv: Server) -> None:
    """An export of an earlier instant replays the log: its count is known once written, not before."""
    ddb = srv.client("dynamodb")
    table = filled_table(ddb)
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    table_arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    window = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    earliest = window["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"].timestamp()
    at = math.ceil(earliest)  # the API's timestamps are whole seconds
    wait_until(lambda: time.time() > at + 0.1, what="the export time inside the recovery window")
    answer = ddb.export_table_to_point_in_time(
        TableArn=table_arn, S3Bucket="progress-bucket", ExportTime=datetime.fromtimestamp(at, UTC)
    )
    export = answer["ExportDescription"]["ExportArn"]
    out = headwater("wait", "export", export, "--endpoint-url", srv.endpoint)
    assert out.returncode == 0, out.stderr
    samples = scrape(srv.port)
    done = ddb.describe_export(ExportArn=export)["ExportDescription"]["ItemCount"]
    assert value(samples, "headwater_export_items_done", export_arn=export) == done
    assert ("headwater_export_items_total", frozenset({("export_arn", export)})) not in samples


def test_backup_and_restore_say_their_stages_as_lines_where_stderr_is_not_a_terminal(
    srv: Server, tmp_path: Path
) -> None:
    filled_table(srv.client("dynamodb"))
    data, archive, again = srv.data_dir / "data", tmp_path / "b.tar", tmp_path / "again"
    out = headwater("backup", "--to", str(archive), "--data-dir", str(data))
    assert out.returncode == 0, out.stderr
    assert out.stderr == f"copying {data / 'headwater.db'}\nverifying the copy\nwriting {archive}\n"
    assert out.stdout.startswith(f"backed up {data} to {archive}: ")
    out = headwater("restore", str(archive), "--data-dir", str(again))
    assert out.returncode == 0, out.stderr
    assert out.stderr == f"reading {archive}\nverifying the database\n"
    assert out.stdout.startswith(f"restored {archive} into {again}: ")


def test_backup_and_restore_draw_bars_of_bytes_on_a_terminal(srv: Server, tmp_path: Path) -> None:
    filled_table(srv.client("dynamodb"))
    data, archive = srv.data_dir / "data", tmp_path / "b.tar"
    code, shown = on_a_terminal("backup", "--to", str(archive), "--data-dir", str(data))
    assert code == 0, shown
    for stage in ("copying", "verifying the copy", "writing"):  # each bar drawn full, in bytes
        assert re.search(stage + r" .*━+ ([0-9.]+)/\1 [kM]B", without_colors(shown)), shown
    code, shown = on_a_terminal("restore", str(archive), "--data-dir", str(tmp_path / "again"))
    assert code == 0, shown
    for stage in ("reading", "verifying the database"):
        assert re.search(stage + r" .*━+ ([0-9.]+)/\1 [kM]B", without_colors(shown)), shown


def without_colors(shown: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)


def test_under_sigv4_a_caller_without_get_metrics_still_waits(tmp_path: Path) -> None:
    """The commands sign with the caller's credentials; one not allowed headwater:GetMetrics still waits
    to the end (its bar has no numbers until the index is ACTIVE, then the table's count)."""
    identities = [
        Identity("reader", policies=[allow("dynamodb:*")]),
        Identity("watcher", policies=[allow(["dynamodb:*", "headwater:GetMetrics"])]),
    ]
    auth = AuthServer(tmp_path, identities).start()
    try:
        ddb = auth.client("dynamodb", "watcher")
        for user in ("reader", "watcher"):
            table = filled_table(ddb)
            add_index(ddb, table, "by_g")
            key = auth.keys[user]
            env = {"AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret}
            args = ("wait", "index", table, "by_g", "--endpoint-url", auth.endpoint, "--region", REGION)
            out = headwater(*args, env=env)
            assert out.returncode == 0, out.stderr
            assert out.stdout == f"index by_g of table {table} is ACTIVE ({ITEMS} items)\n"
            code, shown = on_a_terminal(*args, env=env)
            assert code == 0, shown
            assert "backfilling by_g (ACTIVE)" in shown and f"{ITEMS}/{ITEMS}" in shown
    finally:
        auth.stop()

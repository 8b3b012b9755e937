"""`headwater backup` of a running server under write load, restored with `headwater restore` to a
server whose tables and streams agree; a backup killed half-way leaves the old backup and the server."""

from __future__ import annotations

import functools
import hashlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.postgres_server import PG_BIN, PostgresServer
from tests.server import Server
from tests.waiting import wait_until

HEADWATER = str(Path(sys.executable).with_name("headwater"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HEADWATER, *args], capture_output=True, text=True, timeout=300, check=False)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fill(ddb: Any, name: str, count: int, size: int = 10) -> None:
    for start in range(0, count, 25):
        requests = [
            {"PutRequest": {"Item": {"pk": {"S": f"f{n:06d}"}, "pad": {"S": "x" * size}}}}
            for n in range(start, min(start + 25, count))
        ]
        ddb.batch_write_item(RequestItems={name: requests})


def stream_keys(server: Server, table: str) -> list[str]:
    """The keys of every INSERT record of the table's stream, from every shard's start."""
    streams = server.client("dynamodbstreams")
    arn = server.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    keys: list[str] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            keys.extend(
                r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"] if r["eventName"] == "INSERT"
            )
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return keys


def at_work(archive: Path, process: subprocess.Popen[bytes]) -> list[Path] | bool:
    """The backup's work directory once it exists, True once the process has ended, else nothing."""
    return list(archive.parent.glob(f".{archive.name}.partial-*")) or process.poll() is not None


def test_backup_under_write_load_restores_a_consistent_server(
    tmp_server: Callable[..., Server], tmp_path: Path
) -> None:
    srv = tmp_server().start()
    ddb = srv.client("dynamodb")
    ddb.create_table(
        TableName="load",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    fill(ddb, "load", 2000)
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        n = 0
        while not stop.is_set():
            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "load", "Item": {"pk": {"S": f"i{n:06d}"}}}},
                    {"Put": {"TableName": "load", "Item": {"pk": {"S": "head"}, "n": {"N": str(n)}}}},
                ]
            )
            written.append(n)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    archive = tmp_path / "backups" / "server.tar"
    try:
        wait_until(lambda: len(written) >= 30, what="writes under way")
        out = run("backup", "--to", str(archive), "--data-dir", str(srv.data_dir / "data"))
        assert out.returncode == 0, out.stderr
        assert "integrity check ok" in out.stdout
        done = len(written)
        wait_until(lambda: len(written) >= done + 30, what="writes after the backup")
    finally:
        stop.set()
        thread.join()
    srv.stop()

    restored_dir = tmp_path / "restored"
    out = run("restore", str(archive), "--data-dir", str(restored_dir / "data"))
    assert out.returncode == 0, out.stderr
    again = Server(restored_dir)
    again.start()
    try:
        ddb = again.client("dynamodb")
        items: list[str] = []
        for page in ddb.get_paginator("scan").paginate(TableName="load"):
            items.extend(item["pk"]["S"] for item in page["Items"])
        head = int(ddb.get_item(TableName="load", Key={"pk": {"S": "head"}})["Item"]["n"]["N"])
        assert head < len(written) - 1  # the server went on after the backup
        mine = sorted(k for k in items if k.startswith("i"))
        assert mine == [f"i{n:06d}" for n in range(head + 1)]
        assert ddb.describe_table(TableName="load")["Table"]["ItemCount"] == 2000 + head + 2
        # the stream agrees with the table: a record for every item written, none for one that is not
        inserted = stream_keys(again, "load")
        assert sorted(k for k in inserted if k.startswith("i")) == mine
        assert sorted(k for k in inserted if k.startswith("f")) == [f"f{n:06d}" for n in range(2000)]
        ddb.put_item(TableName="load", Item={"pk": {"S": "after-restore"}})  # and it takes writes
    finally:
        again.stop()
        again.close_clients()

    out = run("restore", str(archive), "--data-dir", str(restored_dir / "data"))
    assert out.returncode != 0 and "already holds a database" in out.stderr


def test_a_killed_backup_leaves_the_old_backup_and_the_server(
    tmp_server: Callable[..., Server], tmp_path: Path
) -> None:
    srv = tmp_server().start()
    ddb = srv.client("dynamodb")
    ddb.create_table(
        TableName="big",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    fill(ddb, "big", 3000, size=4000)  # ~12 MB: the copy takes a moment
    archive = tmp_path / "b" / "server.tar"
    data = str(srv.data_dir / "data")
    assert run("backup", "--to", str(archive), "--data-dir", data).returncode == 0
    old = digest(archive)
    ddb.put_item(TableName="big", Item={"pk": {"S": "newer"}})

    caught = False
    for _ in range(10):  # kill it while it works (it may rarely finish before it is seen working)
        process = subprocess.Popen(
            [HEADWATER, "backup", "--to", str(archive), "--data-dir", data],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        partial = wait_until(
            functools.partial(at_work, archive, process),
            what="the backup at work",
            interval=0.001,
        )
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            caught = partial is not True
        else:
            process.wait()
        if digest(archive) != old:  # it finished first: that is now the old backup
            old = digest(archive)
            continue
        if caught:
            break
    assert caught, "never caught a backup at work"
    assert digest(archive) == old
    # the server is untouched
    ddb.put_item(TableName="big", Item={"pk": {"S": "after-kill"}})
    assert ddb.get_item(TableName="big", Key={"pk": {"S": "newer"}})["Item"]
    # and the old backup restores and verifies
    out = run("restore", str(archive), "--data-dir", str(tmp_path / "r" / "data"))
    assert out.returncode == 0, out.stderr


def test_pg_dump_of_a_running_postgres_server_restores(
    postgres_server: PostgresServer, tmp_server: Callable[..., Server], tmp_path: Path
) -> None:
    """README's PostgreSQL recipe: pg_dump while Headwater runs, pg_restore into a new database, serve."""
    pytest.importorskip("psycopg")
    srv = tmp_server("--storage-url", postgres_server.create_database()).start()
    ddb = srv.client("dynamodb")
    ddb.create_table(
        TableName="pg_data",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    fill(ddb, "pg_data", 300)
    arn = ddb.create_backup(TableName="pg_data", BackupName="in-the-dump")["BackupDetails"]["BackupArn"]
    wait_until(
        lambda: (
            ddb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupStatus"]
            == "AVAILABLE"
        ),
        what="the backup",
    )
    dump = tmp_path / "headwater.dump"
    source_url = srv.extra_args[1]
    out = subprocess.run(
        [str(PG_BIN / "pg_dump"), "--format=custom", f"--file={dump}", source_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    target_url = postgres_server.create_database()
    out = subprocess.run(
        [str(PG_BIN / "pg_restore"), "--no-owner", f"--dbname={target_url}", str(dump)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    (tmp_path / "pg-restored").mkdir()
    again = Server(tmp_path / "pg-restored", ("--storage-url", target_url))
    again.start()
    try:
        restored = again.client("dynamodb")
        assert restored.describe_table(TableName="pg_data")["Table"]["ItemCount"] == 300
        restored.restore_table_from_backup(TargetTableName="pg_again", BackupArn=arn)
        wait_until(
            lambda: restored.describe_table(TableName="pg_again")["Table"]["TableStatus"] == "ACTIVE",
            what="the restore",
        )
        assert restored.describe_table(TableName="pg_again")["Table"]["ItemCount"] == 300
    finally:
        again.stop()
        again.close_clients()

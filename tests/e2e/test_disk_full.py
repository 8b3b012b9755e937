"""A full disk, for real: the server's data directory is a small tmpfs, filled up by the test.

Why a tmpfs: it is the real failure (ENOSPC under SQLite's WAL), and it needs no image file, no loop
device and no mkfs, only the right to mount, which CI has (it runs as root, like this machine). SQLite's
`max_page_count` would exercise the same SQLITE_FULL path without root, but it cannot be set on a
running server from outside. Where mounting is not allowed the test skips (and fails under CI).

Writes fail with DynamoDB's InternalServerError naming the cause, logged once per episode; reads keep
working; once there is room again writes work without a restart.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server import Server

FAILING = "writes are failing: the disk holding the database is full"
MESSAGE = "Internal server error: the disk holding the database is full; writes work again once there is room"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """`tmp_path/data` as an 8 MB tmpfs (the server's data directory)."""
    mount_point = tmp_path / "data"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs: {done.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(directory: Path) -> Path:
    """Take every free byte of the filesystem; returns the filler file."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as out:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    out.write(chunk[:size])
            except OSError:
                continue
    return filler


def _error(call: Any) -> ClientError | None:
    try:
        call()
    except ClientError as exc:
        return exc
    return None


def test_a_full_disk_fails_writes_clearly_keeps_reads_and_recovers(tmp_path: Path, tiny_disk: Path) -> None:
    server = Server(tmp_path).start()
    try:
        ddb: Any = server.client()
        ddb.create_table(
            TableName="full",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="full", Item={"pk": {"S": "kept"}, "v": {"S": "before"}})
        filler = _fill(tiny_disk)
        big = "x" * 300_000
        errors = []
        for i in range(40):  # the WAL has some room left from earlier writes: use it up first
            error = _error(
                lambda i=i: ddb.put_item(TableName="full", Item={"pk": {"S": f"b{i}"}, "v": {"S": big}})
            )
            if error is not None:
                errors.append(error)
                if len(errors) == 3:
                    break
        assert len(errors) == 3, "the disk never filled up"
        for error in errors:
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 500
            assert error.response["Error"]["Code"] == "InternalServerError"
            assert error.response["Error"]["Message"] == MESSAGE
        # reads go on
        assert ddb.get_item(TableName="full", Key={"pk": {"S": "kept"}})["Item"]["v"] == {"S": "before"}
        assert ddb.scan(TableName="full", Limit=1)["Count"] == 1
        assert ddb.describe_table(TableName="full")["Table"]["TableStatus"] == "ACTIVE"
        # room again: writes work, with no restart
        filler.unlink()
        ddb.put_item(TableName="full", Item={"pk": {"S": "after"}, "v": {"S": big}})
        assert ddb.get_item(TableName="full", Key={"pk": {"S": "after"}})["Item"]["v"] == {"S": big}
        log = (tmp_path / "server.log").read_text()
        assert log.count(FAILING) == 1  # once per episode, not once per request
        assert "writes work again" in log
    finally:
        server.stop()

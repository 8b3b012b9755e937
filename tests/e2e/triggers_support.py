"""Helpers for the trigger end-to-end tests: a server polling fast, handler files, waiting."""

from __future__ import annotations

import io
import itertools
import json
import textwrap
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.server import Server
from tests.waiting import DEADLINE, T, wait_until

POLL = "0.02"
ROLE = "arn:aws:iam::000000000000:role/test"
_names = itertools.count()

# Appends every event it receives to $OUT (one JSON a line); the test tells it how to fail.
RECORDER = """
import json, os, time

def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
    return respond(event, context)

def respond(event, context):
    return None
"""


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}x{int(time.time() * 1000) % 100000}"


def start_server(directory: Path, *extra: str) -> Server:
    """A server for `directory` (made by tmp_path_factory) that may run code in place from any of the
    session's temporary directories (the tests' handler folders)."""
    allow = ("--allow-code-dir", str(directory.parent))
    return Server(directory, ("--trigger-poll-interval", POLL, *allow, *extra)).start()


def handler_dir(root: Path, code: str, name: str = "app.py") -> Path:
    folder = root / unique("fn")
    folder.mkdir(parents=True)
    (folder / name).write_text(textwrap.dedent(code))
    return folder


def zip_of(code: str, name: str = "app.py") -> bytes:
    """The same code makes the same bytes (a fixed file time: writestr would stamp the current one)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), textwrap.dedent(code))
    return buffer.getvalue()


def dir_function(lam: Any, folder: Path, *, env: dict[str, str] | None = None, **extra: Any) -> str:
    name = unique("f")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler=extra.pop("Handler", "app.handler"),
        Code={"S3Bucket": "hot-reload", "S3Key": str(folder)},
        Environment={"Variables": env or {}},
        **extra,
    )
    return name


def recorder(lam: Any, root: Path, respond: str = "", **extra: Any) -> tuple[str, Path]:
    """A function that records its events in a file; `respond` redefines respond(event, context).

    Its timeout is generous: a loaded machine must not turn a delivery test into a retry test."""
    extra.setdefault("Timeout", 60)
    out = root / f"{unique('events')}.jsonl"
    code = RECORDER + "\n" + textwrap.dedent(respond)
    folder = handler_dir(root, code)
    return dir_function(lam, folder, env={"OUT": str(out)}, **extra), out


def stream_table(ddb: Any, *, view: str = "NEW_AND_OLD_IMAGES", hash_key: str = "pk") -> tuple[str, str]:
    name = unique("tbl")
    response = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": hash_key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": hash_key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    return name, response["TableDescription"]["LatestStreamArn"]


def plain_table(ddb: Any, hash_key: str = "id") -> tuple[str, str]:
    name = unique("dest")
    response = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": hash_key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": hash_key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name, response["TableDescription"]["TableArn"]


def events(path: Path) -> list[dict[str, Any]]:
    """The events recorded so far; a line still being written (no newline yet) is left for later."""
    if not path.exists():
        return []
    complete = path.read_text().split("\n")[:-1]
    return [json.loads(line) for line in complete if line.strip()]


def records(path: Path) -> list[dict[str, Any]]:
    return [r for event in events(path) for r in event.get("Records", [])]


def keys(path: Path, attr: str = "pk") -> list[str]:
    return [r["dynamodb"]["Keys"][attr]["S"] for r in records(path)]


def wait_for(check: Callable[[], T | None], timeout: float = DEADLINE, interval: float = 0.02) -> T:
    return wait_until(check, timeout, interval=interval)


def put(ddb: Any, table: str, pk: str, **attrs: Any) -> None:
    item: dict[str, Any] = {"pk": {"S": pk}}
    for name, value in attrs.items():
        item[name] = {"N": str(value)} if isinstance(value, int | float) else {"S": str(value)}
    ddb.put_item(TableName=table, Item=item)

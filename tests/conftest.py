from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, settings

from tests.postgres_server import (
    postgres_pair,  # noqa: F401 - a primary and its standby, for failovers
    postgres_server,  # noqa: F401 - a session fixture for every test dir
)
from tests.server import Server

_names = itertools.count()

# Hypothesis's per-example deadline and too-slow health check are timing assertions: a loaded machine
# would fail them. CI keeps Hypothesis's own CI profile (derandomized: the same examples every run).
settings.register_profile(
    "suite",
    parent=settings.get_profile("ci" if os.environ.get("CI") else "default"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("suite")

# The oracle switch (tests/README.md): the API tests against another endpoint instead of Headwater.
ORACLE = os.environ.get("HEADWATER_TEST_ENDPOINT", "")
# Tests that skip there: Headwater's own servers (flags, restarts), and an API DynamoDB Local does not serve
HEADWATER_ONLY_FIXTURES = {"tmp_server", "postgres_server", "kinesis", "kinesis_unchecked", "stream_name"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not ORACLE:
        return
    api = Path(__file__).parent / "api"
    for item in items:
        if api not in item.path.parents:
            item.add_marker(pytest.mark.skip(reason="HEADWATER_TEST_ENDPOINT runs tests/api only"))
        elif item.get_closest_marker("headwater_only") or HEADWATER_ONLY_FIXTURES & set(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.skip(reason=f"Headwater's own behaviour, not {ORACLE}'s"))
        elif differs := item.get_closest_marker("differs_from_dynamodb_local"):
            # strict: a difference that goes away (DynamoDB Local changed) fails the run, so the mark goes too
            item.add_marker(
                pytest.mark.xfail(reason=f"DynamoDB Local differs: {differs.args[0]}", strict=True)
            )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One shared server per test process (pytest-xdist worker). Its TTL sweeper never runs by itself:
    an expired item stays readable until a test sweeps (`headwater admin sweep-ttl`)."""
    if ORACLE:
        # a namespace of this session's own: nothing left by an earlier run, nothing shared with a worker
        remote = Server.remote(ORACLE, access_key=f"hw{secrets.token_hex(6)}")
        yield remote
        _delete_every_table(remote.client("dynamodb"))
        return
    srv = Server(tmp_path_factory.mktemp("headwater"), ("--ttl-sweep-interval", "86400")).start()
    yield srv
    srv.stop()


def _delete_every_table(ddb: Any) -> None:
    for page in ddb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            with contextlib.suppress(ClientError):  # e.g. deletion protection: the namespace is ours anyway
                ddb.delete_table(TableName=name)


@pytest.fixture(scope="session")
def ddb(server: Server) -> Any:
    return server.client("dynamodb")


@pytest.fixture(scope="session")
def streams(server: Server) -> Any:
    return server.client("dynamodbstreams")


@pytest.fixture(scope="session")
def kinesis(server: Server) -> Any:
    """Kinesis throttles GetRecords at 5 calls a second per shard: retry like an SDK would."""
    return server.client("kinesis", retries={"max_attempts": 10, "mode": "standard"})


@pytest.fixture(scope="session")
def kinesis_unchecked(server: Server) -> Any:
    """A Kinesis client that sends what it is given (no client-side validation): for the server's checks."""
    return server.client("kinesis", parameter_validation=False)


@pytest.fixture
def stream_name(table_name: str) -> str:
    return "s" + table_name[:120]


@pytest.fixture
def table_name(request: pytest.FixtureRequest) -> str:
    return f"t{next(_names)}_{re.sub(r'[^a-zA-Z0-9_.-]', '_', request.node.name[:40])}"


@pytest.fixture
def make_table(ddb: Any, table_name: str) -> Callable[..., str]:
    """Create a table (hash key `pk` S by default); returns its name."""

    def make(
        name: str | None = None,
        *,
        hash_key: tuple[str, str] = ("pk", "S"),
        range_key: tuple[str, str] | None = None,
        **extra: Any,
    ) -> str:
        name = name or table_name
        keys = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
        defs = {hash_key[0]: hash_key[1]}
        if range_key:
            keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
            defs[range_key[0]] = range_key[1]
        for name_type in extra.pop("attribute_definitions", ()):
            defs[name_type[0]] = name_type[1]
        ddb.create_table(
            TableName=name,
            KeySchema=keys,
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": t} for k, t in defs.items()],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
        return name

    return make


@pytest.fixture
def tmp_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Servers of the test's own (restartable, killable), cleaned up afterwards."""
    started: list[Server] = []

    def make(*args: str) -> Server:
        srv = Server(tmp_path, tuple(args))
        started.append(srv)
        return srv

    yield make
    for srv in started:
        if srv.process is not None:
            srv.kill()
        srv.close_clients()

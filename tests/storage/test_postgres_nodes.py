"""Two nodes (two PostgresStorage handles, each its own writer) on one schema: a write resolved by one
node is applied against the table definition another node committed last, even when no notification
told it (the version check in the writer's first round trip)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from headwater.core.tables import open_stream
from headwater.errors import ResourceInUseException, ResourceNotFoundException
from headwater.model.schema import StreamSpec
from tests.postgres_server import PostgresServer

from .test_contract_catalog import _create, _db, _put, _records

psycopg = pytest.importorskip("psycopg")

from headwater.storage.postgres import PostgresStorage  # noqa: E402


@pytest.fixture
def nodes(postgres_server: PostgresServer) -> Iterator[tuple[PostgresStorage, PostgresStorage]]:
    schema = postgres_server.new_name("nodes")
    with (
        PostgresStorage(postgres_server.url, schema=schema) as a,
        PostgresStorage(postgres_server.url, schema=schema) as b,
    ):
        for node in (a, b):  # no notifications: only the writer's own version check can tell
            assert node._watcher is not None
            node._watcher.close()
        yield a, b


def test_a_write_through_b_gets_the_stream_a_enabled(nodes: tuple[PostgresStorage, PostgresStorage]) -> None:
    a, b = nodes

    async def scenario() -> None:
        db_a, db_b = _db(a), _db(b)
        table = await _create(db_a, "streamed")
        await b.write(_put(db_b, table, "before"))  # B learns of the table in this group
        streamed, writes = open_stream(db_a, table, StreamSpec(True, "NEW_IMAGE"))
        async with db_a.catalog.lock:
            await db_a.catalog.save(streamed, *writes)
        assert db_b.catalog.get("streamed") == table  # B's copy is stale: nobody told it
        await b.write(_put(db_b, table, "after"))  # built from the old definition, as a request would
        current = db_a.catalog.require("streamed")
        assert _records(a, current) == 1
        assert db_b.catalog.get("streamed") == current  # and B's copy moved with that group

    asyncio.run(scenario())


def test_a_write_through_b_to_a_table_a_deleted_is_refused(
    nodes: tuple[PostgresStorage, PostgresStorage],
) -> None:
    a, b = nodes

    async def scenario() -> None:
        db_a, db_b = _db(a), _db(b)
        table = await _create(db_a, "doomed")
        await b.write(_put(db_b, table, "before"))
        async with db_a.catalog.lock:
            await db_a.catalog.drop(table)
        with pytest.raises(ResourceNotFoundException):
            await b.write(_put(db_b, table, "after"))
        assert list(a.scan(table.table_id, 0)) == []  # no orphan row
        assert a.counters(table.table_id) == (0, 0)

    asyncio.run(scenario())


def test_table_ids_and_names_are_unique_across_nodes(nodes: tuple[PostgresStorage, PostgresStorage]) -> None:
    """Catalog changes take a lock shared by the nodes and read the catalog and its counters again."""
    a, b = nodes

    async def scenario() -> None:
        db_a, db_b = _db(a), _db(b)
        first = await _create(db_a, "one")
        second = await _create(db_b, "two")  # B's table id counter was read before A took one
        assert first.table_id != second.table_id
        with pytest.raises(ResourceInUseException):
            await _create(db_b, "one")  # B had not heard of A's "one"
        assert sorted(db_a.catalog.names()) == ["one", "two"]

    asyncio.run(scenario())

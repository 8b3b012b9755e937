"""`headwater serve --storage-url postgresql://...` against a throwaway PostgreSQL: items through boto3,
and acknowledged writes surviving kill -9 of the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.durability import write_until_killed
from tests.postgres_server import PostgresServer
from tests.server import Server

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def pg_server(postgres_server: PostgresServer, tmp_server: Callable[..., Server]) -> tuple[Server, str]:
    url = postgres_server.create_database()
    return tmp_server("--storage-url", url), url


def _create(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_items_round_trip_through_postgres(pg_server: tuple[Server, str]) -> None:
    srv, url = pg_server
    srv.start()
    ddb: Any = srv.client("dynamodb")
    _create(ddb, "pg_items")
    assert ddb.describe_table(TableName="pg_items")["Table"]["TableStatus"] == "ACTIVE"
    item = {"pk": {"S": "a\u00e9\U0001f600"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\xff"}, "l": {"L": []}}
    ddb.put_item(TableName="pg_items", Item=item)
    got = ddb.get_item(TableName="pg_items", Key={"pk": item["pk"]})["Item"]
    assert got == {"pk": item["pk"], "n": {"N": "1.5"}, "b": {"B": b"\x00\xff"}, "l": {"L": []}}
    updated = ddb.update_item(
        TableName="pg_items",
        Key={"pk": item["pk"]},
        UpdateExpression="SET s = :s ADD n :one REMOVE l",
        ExpressionAttributeValues={":s": {"S": "x"}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert updated == {"pk": item["pk"], "n": {"N": "2.5"}, "b": {"B": b"\x00\xff"}, "s": {"S": "x"}}
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName="pg_items", Item=item, ConditionExpression="attribute_not_exists(pk)")
    assert ddb.get_item(TableName="pg_items", Key={"pk": item["pk"]})["Item"] == updated
    # the data really is in PostgreSQL, not in a SQLite file of the data dir
    assert not (srv.data_dir / "data" / "headwater.db").exists()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (1,)
    # and it outlives a clean restart
    srv.stop()
    srv.start()
    assert srv.client("dynamodb").get_item(TableName="pg_items", Key={"pk": item["pk"]})["Item"] == updated


def test_acknowledged_writes_survive_kill9(pg_server: tuple[Server, str]) -> None:
    srv, _ = pg_server
    srv.start()
    _create(srv.client("dynamodb"), "pg_durable")
    acknowledged = write_until_killed(srv, "pg_durable")
    assert len(acknowledged) > 50, "the writers should have been acknowledged many times"

    srv.start()  # waits for the killed server's writer lock to be released by PostgreSQL
    ddb: Any = srv.client("dynamodb")
    missing = [
        k for k in acknowledged if "Item" not in ddb.get_item(TableName="pg_durable", Key={"pk": {"S": k}})
    ]
    assert missing == []
    hits = int(ddb.get_item(TableName="pg_durable", Key={"pk": {"S": "counter"}})["Item"]["hits"]["N"])
    # every acknowledged put was followed by an acknowledged ADD, except possibly the last one per writer
    assert len(acknowledged) <= hits <= len(acknowledged) + 8
    ddb.put_item(TableName="pg_durable", Item={"pk": {"S": "after-restart"}})
    assert "Item" in ddb.get_item(TableName="pg_durable", Key={"pk": {"S": "after-restart"}})

"""Acknowledged writes survive kill -9 of the server."""

from __future__ import annotations

from typing import Any

from tests.durability import write_until_killed


def test_acknowledged_writes_survive_kill9(tmp_server: Any) -> None:
    srv = tmp_server().start()
    ddb = srv.client("dynamodb")
    ddb.create_table(
        TableName="durable",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    acknowledged = write_until_killed(srv, "durable")
    assert len(acknowledged) > 50, "the writers should have been acknowledged many times"

    srv.start()
    ddb = srv.client("dynamodb")
    for key in acknowledged:
        assert "Item" in ddb.get_item(TableName="durable", Key={"pk": {"S": key}}), key
    hits = int(ddb.get_item(TableName="durable", Key={"pk": {"S": "counter"}})["Item"]["hits"]["N"])
    # every acknowledged put was followed by an acknowledged ADD, except possibly the last one per writer
    assert len(acknowledged) <= hits <= len(acknowledged) + 8
    count = ddb.describe_table(TableName="durable")["Table"]["ItemCount"]
    assert count >= len(acknowledged) + 1


def test_clean_shutdown_on_sigterm(tmp_server: Any) -> None:
    srv = tmp_server().start()
    ddb = srv.client("dynamodb")
    ddb.create_table(
        TableName="t_sigterm",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="t_sigterm", Item={"pk": {"S": "a"}})
    assert srv.stop() == 0
    # a clean close checkpoints the write-ahead log and removes it
    assert not (srv.data_dir / "data" / "headwater.db-wal").exists()
    srv.start()
    assert srv.client("dynamodb").get_item(TableName="t_sigterm", Key={"pk": {"S": "a"}})["Item"]

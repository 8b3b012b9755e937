"""DAX's caches through the real client: the item cache (write-through, eventually consistent reads served
from it, ConsistentRead passing through, absent items remembered), the query cache (keyed by the request,
not touched by writes), TTLs from the parameter group, and LRU eviction under a small cache."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dax.support import dax_client, make_cluster, make_table, unique
from tests.server import Server
from tests.waiting import wait_until

pytestmark = pytest.mark.headwater_only


def key(pk: str, sk: int = 1) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


def value(answer: dict[str, Any]) -> str | None:
    item = answer.get("Item")
    return None if item is None else str(item["v"]["S"])


@pytest.fixture(scope="module")
def cached(server: Server) -> Iterator[Any]:
    """A cluster with the default TTLs (five minutes): nothing expires during a test."""
    with dax_client(make_cluster(server, unique("cache"))) as client:
        yield client


@pytest.fixture(scope="module")
def short(server: Server) -> Iterator[Any]:
    """A cluster whose entries live 300 ms."""
    url = make_cluster(server, unique("short"), {"record-ttl-millis": 300, "query-ttl-millis": 300})
    with dax_client(url) as client:
        yield client


@pytest.fixture
def table(server: Server) -> str:
    return make_table(server.client("dynamodb"), unique("daxcache"))


def test_a_write_through_dax_is_cached_and_a_write_around_it_is_not_seen_until_a_consistent_read(
    cached: Any, server: Server, table: str
) -> None:
    ddb = server.client("dynamodb")
    cached.put_item(TableName=table, Item={**key("a"), "v": {"S": "through dax"}})
    ddb.put_item(TableName=table, Item={**key("a"), "v": {"S": "around dax"}})
    assert value(cached.get_item(TableName=table, Key=key("a"))) == "through dax"
    batch = cached.batch_get_item(RequestItems={table: {"Keys": [key("a")]}})
    assert value({"Item": batch["Responses"][table][0]}) == "through dax"
    assert value(cached.get_item(TableName=table, Key=key("a"), ConsistentRead=True)) == "around dax"
    cached.update_item(
        TableName=table,
        Key=key("a"),
        UpdateExpression="SET w = :w",
        ExpressionAttributeValues={":w": {"S": "x"}},
    )
    after_update = cached.get_item(TableName=table, Key=key("a"))["Item"]  # the update wrote through
    assert (after_update["v"], after_update["w"]) == ({"S": "around dax"}, {"S": "x"})


def test_an_absent_item_is_remembered(cached: Any, server: Server, table: str) -> None:
    assert "Item" not in cached.get_item(TableName=table, Key=key("n"))
    server.client("dynamodb").put_item(TableName=table, Item={**key("n"), "v": {"S": "late"}})
    assert "Item" not in cached.get_item(TableName=table, Key=key("n"))
    assert value(cached.get_item(TableName=table, Key=key("n"), ConsistentRead=True)) == "late"


def test_items_expire_after_the_record_ttl(short: Any, server: Server, table: str) -> None:
    short.put_item(TableName=table, Item={**key("t"), "v": {"S": "old"}})
    server.client("dynamodb").put_item(TableName=table, Item={**key("t"), "v": {"S": "new"}})
    wait_until(
        lambda: value(short.get_item(TableName=table, Key=key("t"))) == "new", what="the entry expired"
    )


def test_the_query_cache_is_keyed_by_the_request_and_not_invalidated_by_writes(
    cached: Any, server: Server, table: str
) -> None:
    def query(**extra: Any) -> list[int]:
        found = cached.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "q"}},
            **extra,
        )
        return [int(item["sk"]["N"]) for item in found["Items"]]

    cached.put_item(TableName=table, Item=key("q", 1))
    assert query() == [1]
    cached.put_item(TableName=table, Item=key("q", 2))  # through DAX: the query cache keeps its answer
    server.client("dynamodb").put_item(TableName=table, Item=key("q", 3))
    assert query() == [1]
    assert query(ScanIndexForward=False) == [3, 2, 1]  # another request: another entry
    assert query(ConsistentRead=True) == [1, 2, 3]
    assert len(cached.scan(TableName=table)["Items"]) == 3
    cached.put_item(TableName=table, Item=key("q", 4))
    assert len(cached.scan(TableName=table)["Items"]) == 3


def test_query_results_expire_after_the_query_ttl(short: Any, server: Server, table: str) -> None:
    def count() -> int:
        found = short.query(
            TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "e"}}
        )
        return int(found["Count"])

    short.put_item(TableName=table, Item=key("e", 1))
    count()
    server.client("dynamodb").put_item(TableName=table, Item=key("e", 2))
    wait_until(lambda: count() == 2, what="the query entry expired")


def _metric(text: str, name: str, cluster: str, cache: str) -> float:
    pattern = rf'^{name}_total\{{cache="{cache}",cluster="[^"]*/{cluster}"\}} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    assert found is not None, f"{name} for {cluster}/{cache} not in /metrics"
    return float(found.group(1))


def test_a_small_cache_evicts_the_least_recently_used_items(tmp_path: Path) -> None:
    own = Server(tmp_path, ("--dax-cache-bytes", "4096")).start()  # 2 KB for items: a dozen small ones
    try:
        ddb = own.client("dynamodb")
        table = make_table(ddb, "evicting")
        cluster = "small"
        with dax_client(make_cluster(own, cluster)) as dax:
            for i in range(40):
                dax.put_item(TableName=table, Item={**key("e", i), "v": {"S": "cached"}})
            for i in (0, 39):
                ddb.put_item(TableName=table, Item={**key("e", i), "v": {"S": "changed"}})
            assert value(dax.get_item(TableName=table, Key=key("e", 0))) == "changed"  # evicted long ago
            assert (
                value(dax.get_item(TableName=table, Key=key("e", 39))) == "cached"
            )  # the newest: still there
        status, _, body = own.request("GET", "/metrics", service="dynamodb")
        assert status == 200
        text = body.decode()
        assert _metric(text, "headwater_dax_cache_evictions", cluster, "item") > 0
        assert _metric(text, "headwater_dax_cache_hits", cluster, "item") >= 1
        assert _metric(text, "headwater_dax_cache_misses", cluster, "item") >= 1
    finally:
        own.stop()

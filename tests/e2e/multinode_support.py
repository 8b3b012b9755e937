"""Several `headwater serve` nodes on one throwaway PostgreSQL database, and what their tests share:
which node holds the background lease, and a DynamoDB stream read whole in lineage order."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.postgres_server import PostgresServer
from tests.server import Server
from tests.waiting import wait_until

LEASE = 0x48574157  # headwater.storage.postgres.locks.LEASE
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


@dataclass
class Cluster:
    url: str
    nodes: list[Server]

    def lease_holder(self) -> int | None:
        """The index of the node holding the background lease, if one does."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.classid = %s AND l.granted",
                (LEASE,),
            ).fetchone()
        if row is None:
            return None
        pids = [node.process.pid if node.process is not None else -1 for node in self.nodes]
        pid = int(str(row[0]).rsplit(" ", 1)[-1])
        return pids.index(pid) if pid in pids else None

    def wait_for_lease_holder(self, *, other_than: int | None = None) -> int:
        """The index of the node holding the lease, once one (other than `other_than`) does."""
        found = wait_until(
            lambda: [h for h in (self.lease_holder(),) if h is not None and h != other_than],
            what="a node holding the background lease",
        )
        return found[0]


def start_cluster(
    postgres: PostgresServer, root: Path, count: int, *extra: str, env: dict[str, str] | None = None
) -> Cluster:
    """`env`: set in every node's environment."""
    url = postgres.create_database()
    nodes = []
    for n in range(count):
        folder = root / f"node{n}"
        folder.mkdir()
        nodes.append(Server(folder, ("--storage-url", url, *extra), env=dict(env or {})))
    for node in nodes:
        node.start()
    return Cluster(url, nodes)


def create_table(ddb: Any, *, stream: bool = False) -> str:
    name = unique("mn")
    extra: dict[str, Any] = {}
    if stream:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


def shards_in_lineage_order(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every shard of the stream, each after its parent."""
    shards: list[dict[str, Any]] = []
    start: dict[str, Any] = {}
    while True:
        page = streams.describe_stream(StreamArn=arn, **start)["StreamDescription"]
        shards.extend(page["Shards"])
        last = page.get("LastEvaluatedShardId")
        if not last:
            break
        start = {"ExclusiveStartShardId": last}
    ids = {shard["ShardId"] for shard in shards}
    ordered: list[dict[str, Any]] = []
    done: set[str] = set()
    while len(ordered) < len(shards):
        for shard in shards:
            parent = shard.get("ParentShardId")
            if shard["ShardId"] not in done and (parent is None or parent not in ids or parent in done):
                ordered.append(shard)
                done.add(shard["ShardId"])
    return ordered


def read_shard(streams: Any, arn: str, shard_id: str) -> list[dict[str, Any]]:
    """The records of one shard from its trim horizon to its end (closed) or to the first empty page."""
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    out: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        out.extend(page["Records"])
        iterator = page.get("NextShardIterator")
        if not page["Records"] and iterator:
            break  # an open shard read to its end
    return out


def read_stream(streams: Any, arn: str) -> list[tuple[str, dict[str, Any]]]:
    """(shard id, record) of the whole stream, shard by shard in lineage order."""
    return [
        (shard["ShardId"], record)
        for shard in shards_in_lineage_order(streams, arn)
        for record in read_shard(streams, arn, shard["ShardId"])
    ]

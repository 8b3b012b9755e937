"""Three `headwater serve` nodes on one PostgreSQL database: atomic updates and conditional writes across
nodes, one stream in commit order whichever node wrote, catalog changes seen at once everywhere, and
the background work moving to another node when its holder is killed."""

from __future__ import annotations

import json
import random
import shutil
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.history import Seen, Write, problems
from tests.e2e.multinode_support import (
    Cluster,
    create_table,
    read_stream,
    shards_in_lineage_order,
    start_cluster,
    unique,
)
from tests.e2e.triggers_support import POLL, RECORDER, ROLE, recorder, records, zip_of
from tests.postgres_server import PostgresServer
from tests.server import Server
from tests.waiting import wait_until

pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def cluster(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("multinode")
    allow = ("--allow-code-dir", str(root.parent))
    # three shards a stream, each rolled over every few seconds (by the node holding the lease)
    shards = ("--stream-shards", "3", "--shard-rollover", "3")
    started = start_cluster(postgres_server, root, 3, "--trigger-poll-interval", POLL, *shards, *allow)
    yield started
    for node in started.nodes:
        if node.process is not None:
            node.stop()


def _run_all(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)


def test_add_through_three_nodes_is_exact(cluster: Cluster) -> None:
    """3 nodes x 10 clients, each ADDing 1 to the same item: the total is exact (no lost update)."""
    table = create_table(cluster.nodes[0].client("dynamodb"))
    per_client = 10
    errors: list[BaseException] = []

    def adder(node: int) -> None:
        ddb: Any = cluster.nodes[node].client("dynamodb")
        try:
            for _ in range(per_client):
                ddb.update_item(
                    TableName=table,
                    Key={"pk": {"S": "counter"}},
                    UpdateExpression="ADD n :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
        except BaseException as exc:
            errors.append(exc)

    _run_all([threading.Thread(target=adder, args=(n % 3,)) for n in range(30)])
    assert errors == []
    for node in cluster.nodes:
        item = node.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "counter"}})["Item"]
        assert item["n"] == {"N": str(30 * per_client)}


def test_conditional_puts_never_both_succeed(cluster: Cluster) -> None:
    """For each key, one put through each node, all `attribute_not_exists(pk)`: exactly one wins."""
    table = create_table(cluster.nodes[0].client("dynamodb"))
    keys = [f"k{i}" for i in range(40)]
    wins: dict[str, list[int]] = {key: [] for key in keys}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def putter(node: int) -> None:
        ddb: Any = cluster.nodes[node].client("dynamodb")
        for key in keys:
            try:
                ddb.put_item(
                    TableName=table,
                    Item={"pk": {"S": key}, "by": {"N": str(node)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ddb.exceptions.ConditionalCheckFailedException:
                continue
            except BaseException as exc:
                errors.append(exc)
                continue
            with lock:
                wins[key].append(node)

    _run_all([threading.Thread(target=putter, args=(n,)) for n in range(3)])
    assert errors == []
    assert {key: len(nodes) for key, nodes in wins.items()} == dict.fromkeys(keys, 1)
    ddb: Any = cluster.nodes[1].client("dynamodb")
    for key in keys:  # and the stored item is the winner's
        item = ddb.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True)["Item"]
        assert item["by"] == {"N": str(wins[key][0])}


def test_a_stream_read_through_b_shows_a_and_c_writes_in_order(cluster: Cluster) -> None:
    """Writers through A and C each count their own items up; B's reader sees every version of every
    item, in order, with no gaps."""
    a, b, _ = cluster.nodes
    table = create_table(a.client("dynamodb"), stream=True)
    versions = 25
    items = {0: ["a0", "a1", "a2"], 2: ["c0", "c1", "c2"]}
    errors: list[BaseException] = []

    def writer(node: int, pk: str) -> None:
        ddb: Any = cluster.nodes[node].client("dynamodb")
        try:
            for _ in range(versions):
                ddb.update_item(
                    TableName=table,
                    Key={"pk": {"S": pk}},
                    UpdateExpression="ADD v :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
        except BaseException as exc:
            errors.append(exc)

    _run_all([threading.Thread(target=writer, args=(n, pk)) for n, pks in items.items() for pk in pks])
    assert errors == []
    arn = b.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    seen: dict[str, list[int]] = {}
    for _, record in read_stream(b.client("dynamodbstreams"), arn):
        image = record["dynamodb"]["NewImage"]
        seen.setdefault(image["pk"]["S"], []).append(int(image["v"]["N"]))
    expected = list(range(1, versions + 1))
    assert seen == {pk: expected for pks in items.values() for pk in pks}


def test_a_table_created_through_a_is_usable_at_once_through_b(cluster: Cluster) -> None:
    """Catalog changes made through one node hold at once on the others: a new table, a stream turned
    on, a deleted table (a write through B after it is refused, not written as an orphan)."""
    a, b, c = (node.client("dynamodb") for node in cluster.nodes)
    table = create_table(a)
    b.put_item(TableName=table, Item={"pk": {"S": "x"}})
    assert c.get_item(TableName=table, Key={"pk": {"S": "x"}})["Item"] == {"pk": {"S": "x"}}
    assert table in b.list_tables()["TableNames"]

    keys_only = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    a.update_table(TableName=table, StreamSpecification=keys_only)
    b.put_item(TableName=table, Item={"pk": {"S": "y"}})
    arn = c.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams: Any = cluster.nodes[2].client("dynamodbstreams")
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for _, r in read_stream(streams, arn)] == ["y"]

    a.delete_table(TableName=table)
    with pytest.raises(b.exceptions.ResourceNotFoundException):
        b.put_item(TableName=table, Item={"pk": {"S": "z"}})
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.describe_table(TableName=table)


def test_a_mapping_keeps_delivering_when_its_node_is_killed(cluster: Cluster, tmp_path: Path) -> None:
    """The node holding the background lease runs the event source mappings; killed with SIGKILL,
    another node takes the lease and goes on from the mapping's checkpoints: every record is delivered
    (at least once, in order per item)."""
    holder = cluster.wait_for_lease_holder()
    other = cluster.nodes[(holder + 1) % 3]
    ddb: Any = other.client("dynamodb")
    lam: Any = other.client("lambda")
    table = create_table(ddb, stream=True)
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    fn, out = recorder(lam, tmp_path)
    lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=10
    )

    def put(pk: str, version: int) -> None:
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "v": {"N": str(version)}})

    for version in range(5):
        put("before", version)
    wait_until(lambda: len(records(out)) >= 5, what="the first records delivered")

    cluster.nodes[holder].kill()
    for version in range(5):
        put("after", version)
    cluster.wait_for_lease_holder(other_than=holder)

    def delivered() -> dict[str, list[int]]:
        got: dict[str, list[int]] = {}
        for record in records(out):
            image = record["dynamodb"]["NewImage"]
            got.setdefault(image["pk"]["S"], []).append(int(image["v"]["N"]))
        return got

    wait_until(lambda: len(delivered().get("after", [])) >= 5, what="the records written after the kill")
    # at least once (a batch delivered again after the kill), each version first seen in order
    assert {pk: list(dict.fromkeys(v)) for pk, v in delivered().items()} == {
        "before": list(range(5)),
        "after": list(range(5)),
    }
    cluster.nodes[holder].start()  # back for the next tests


def test_history_with_a_node_killed_and_restarted(cluster: Cluster) -> None:
    """Randomized: clients on all three nodes put random keys while a reader tails the stream through A
    and B in turn (its iterators continued by the other node); node C is killed and started again in
    the middle. Then the whole history is checked (tests/e2e/history.py)."""
    a, b, c = cluster.nodes
    table = create_table(a.client("dynamodb"), stream=True)
    arn = a.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    keys = [f"key{i}" for i in range(12)]
    writes: list[Write] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        node = cluster.nodes[n % 3]
        mine = random.Random(seed + n)
        i = 0
        while not stop.is_set():
            key, wid = mine.choice(keys), f"c{n}-{i}"
            i += 1
            start = time.monotonic()
            try:
                node.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": key}, "w": {"S": wid}})
                acknowledged = True
            except Exception:
                acknowledged = False  # the node died under it (or was down): the outcome is unknown
                time.sleep(0.05)
            with lock:
                writes.append(Write(key, wid, start, time.monotonic(), acknowledged))

    tails: dict[str, list[int]] = {}

    def tail() -> None:
        readers: list[Any] = [a.client("dynamodbstreams"), b.client("dynamodbstreams")]
        iterators: dict[str, str | None] = {}
        turn = 0
        while not stop.is_set():
            for shard in shards_in_lineage_order(readers[turn % 2], arn):
                shard_id = shard["ShardId"]
                if shard_id not in iterators:
                    iterators[shard_id] = readers[turn % 2].get_shard_iterator(
                        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                    )["ShardIterator"]
                iterator = iterators[shard_id]
                if iterator is None:
                    continue  # a closed shard read to its end
                turn += 1  # every page through the other node: iterators are stateless
                page = readers[turn % 2].get_records(ShardIterator=iterator, Limit=50)
                iterators[shard_id] = page.get("NextShardIterator")
                seqs = tails.setdefault(shard_id, [])
                seqs.extend(int(r["dynamodb"]["SequenceNumber"]) for r in page["Records"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(9)]
    reader = threading.Thread(target=tail)
    for t in [*threads, reader]:
        t.start()
    wait_until(lambda: len(writes) >= 150, what="writes before the kill")
    c.kill()
    wait_until(lambda: len(writes) >= 300, what="writes while C is down")
    c.start()
    restarted = time.monotonic()
    wait_until(
        lambda: sum(w.acknowledged and w.start > restarted for w in writes if w.wid.startswith("c2-")) >= 20,
        what="writes through C again",
    )
    stop.set()
    for t in [*threads, reader]:
        t.join(timeout=60)

    stream = [
        Seen(shard, int(r["dynamodb"]["SequenceNumber"]), image["pk"]["S"], image["w"]["S"])
        for shard, r in read_stream(b.client("dynamodbstreams"), arn)
        for image in (r["dynamodb"]["NewImage"],)
    ]
    found = problems(writes, stream, tails)
    assert found == [], f"seed {seed}: {found[:20]}"
    assert sum(w.acknowledged for w in writes) >= 250
    assert sum(len(seqs) for seqs in tails.values()) > 0
    last = {seen.key: seen.wid for seen in stream}  # the stream's last write of each key is the item
    ddb: Any = c.client("dynamodb")
    for key, wid in last.items():
        assert ddb.get_item(TableName=table, Key={"pk": {"S": key}})["Item"]["w"] == {"S": wid}


def test_front_processes_see_other_nodes_tables_at_once(cluster: Cluster, tmp_path: Path) -> None:
    """A fourth node answering through `--workers 2` front processes: a table created through A is
    usable through its fronts as soon as CreateTable has answered (their core hears of it by NOTIFY; a
    front that does not know a table also looks at the catalog's version itself)."""
    fronted = Server(tmp_path, ("--storage-url", cluster.url, "--workers", "2")).start()
    try:
        table = create_table(cluster.nodes[0].client("dynamodb"))
        ddb: Any = fronted.client("dynamodb")
        for n in range(4):  # whichever front answers
            ddb.put_item(TableName=table, Item={"pk": {"S": f"f{n}"}})
        got = cluster.nodes[1].client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
        assert sorted(item["pk"]["S"] for item in got) == ["f0", "f1", "f2", "f3"]
    finally:
        fronted.stop()


VERSIONED = """
def handler(event, context):
    return {"version": VERSION, "file": __file__}
"""


def versioned_zip(version: int) -> bytes:
    return zip_of(VERSIONED.replace("VERSION", str(version)))


def drop_unpacked(node: Server, function: str) -> None:
    """As if `node` ran on a machine of its own: its unpacked copy of `function` is not on this disk."""
    for folder in (node.data_dir / "data").rglob(function):
        if folder.parent.name == "functions":
            shutil.rmtree(folder)


def invoked(node: Server, function: str) -> dict[str, Any] | None:
    """The function's answer through `node`; None while that node does not know the function yet."""
    lam: Any = node.client("lambda")
    try:
        response = lam.invoke(FunctionName=function, Payload=b"{}")
    except lam.exceptions.ResourceNotFoundException:
        return None
    assert "FunctionError" not in response, response["Payload"].read()
    answer: dict[str, Any] = json.loads(response["Payload"].read())
    return answer


def test_function_code_uploaded_through_one_node_runs_on_every_node(cluster: Cluster) -> None:
    """A package uploaded through A is kept in the database: B and C (whose disks never saw it) unpack
    it into their own data directories and run it; a new version uploaded through C runs on B too."""
    a, b, c = cluster.nodes
    name = unique("shared")
    a.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": versioned_zip(1)},
    )
    drop_unpacked(a, name)
    for node in (b, c):
        answer = wait_until(partial(invoked, node, name), what="the function known through the node")
        assert answer["version"] == 1
        assert answer["file"].startswith(str(node.data_dir))  # its own copy
    c.client("lambda").update_function_code(FunctionName=name, ZipFile=versioned_zip(2))
    drop_unpacked(c, name)

    def second_version_on_b() -> dict[str, Any] | None:
        found = invoked(b, name)
        return found if found is not None and found["version"] == 2 else None

    answer = wait_until(second_version_on_b, what="the new version running on B")
    assert answer["file"].startswith(str(b.data_dir))

    def second_version_on_a() -> dict[str, Any] | None:
        # A hears of the update as B did, through the catalog's notification (or its poll): until then
        # it may still know only the first version, whose package the update dropped
        try:
            found = invoked(a, name)
        except ClientError:
            return None
        return found if found is not None and found["version"] == 2 else None

    on_a = wait_until(second_version_on_a, what="the new version running on A")
    assert on_a["file"] == answer["file"].replace(str(b.data_dir), str(a.data_dir))
    c.client("lambda").delete_function(FunctionName=name)
    wait_until(lambda: invoked(b, name) is None, what="the deletion seen through B")


def test_a_mapping_runs_a_package_uploaded_through_another_node(cluster: Cluster, tmp_path: Path) -> None:
    """The lease holder runs the mapping of a function whose package was uploaded through another node
    (and is on that node's disk only)."""
    holder = cluster.wait_for_lease_holder()
    other = cluster.nodes[(holder + 1) % 3]
    ddb: Any = other.client("dynamodb")
    lam: Any = other.client("lambda")
    table = create_table(ddb, stream=True)
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    out = tmp_path / "events.jsonl"
    name = unique("mapped")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(RECORDER)},
        Environment={"Variables": {"OUT": str(out)}},
        Timeout=60,
    )
    drop_unpacked(other, name)
    lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, StartingPosition="TRIM_HORIZON")
    for n in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})
    wait_until(lambda: len(records(out)) >= 3, what="the records delivered by the lease holder")


LAYERED = """
import shared

def handler(event, context):
    return {"value": shared.VALUE, "file": shared.__file__}
"""


def created_with_layer(node: Server, name: str, code: bytes, layer: str) -> bool:
    """Whether the function was created through `node`; False while the node does not know the layer."""
    lam: Any = node.client("lambda")
    try:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": code},
            Layers=[layer],
        )
    except lam.exceptions.InvalidParameterValueException as error:
        assert "does not exist" in error.response["Error"]["Message"]
        return False
    return True


def test_a_layer_published_through_one_node_serves_functions_on_every_node(cluster: Cluster) -> None:
    """A layer published through A is known through B within a second (a function created through B uses
    it) and runs through C, each node with its own unpacked copy."""
    a, b, c = cluster.nodes
    published = a.client("lambda").publish_layer_version(
        LayerName=unique("layer"),
        Content={"ZipFile": zip_of("VALUE = 'from the layer'\n", "python/shared.py")},
    )
    for folder in (a.data_dir / "data").rglob("layers"):
        shutil.rmtree(folder)  # A's copy is on A's disk only
    name = unique("layered")
    code = zip_of(LAYERED)
    wait_until(
        partial(created_with_layer, b, name, code, published["LayerVersionArn"]),
        what="the layer known through B",
    )
    for node in (c, b):
        answer = wait_until(partial(invoked, node, name), what="the function known through the node")
        assert answer["value"] == "from the layer"
        assert answer["file"].startswith(str(node.data_dir))

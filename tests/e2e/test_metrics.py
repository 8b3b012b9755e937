"""GET /metrics: scraped from a live server and parsed with prometheus-client's parser; the counters move
with the traffic sent (requests, errors by type, items, stream records, trigger invocations), through
front processes too, and under `--auth sigv4` only a principal allowed headwater:GetMetrics reads them."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from prometheus_client.parser import text_string_to_metric_families

from tests.api.kinesis_support import read_shard, shards
from tests.e2e.auth_support import ADMIN, AuthServer, Identity, Key, allow
from tests.e2e.triggers_support import recorder, start_server, stream_table, unique, wait_for
from tests.postgres_server import PostgresServer
from tests.server import Server
from tests.waiting import wait_until

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def get(port: int, headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/metrics", headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def scrape(port: int, headers: Mapping[str, str] | None = None) -> Samples:
    status, found, body = get(port, headers)
    assert status == 200, body
    assert found["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def counted(port: int, name: str, labels: Mapping[str, str], expected: float | None = None) -> Samples:
    """A scrape once `name{labels}` is `expected`, or once it holds still for a front's report (None).
    A connection answered by a front (`--workers`) has its requests counted there and sent to the core
    each second, so /metrics may show them up to a second late; anything past `expected` fails."""
    last: list[float] = []

    def settled() -> Samples | None:
        samples = scrape(port)
        now = value(samples, name, **labels)
        if expected is not None:
            assert now <= expected, (name, labels, now, expected)
            return samples if now == expected else None
        last.append(now)
        return samples if len(last) > 1 and last[-2] == now else None

    return wait_until(settled, what=f"{name} {dict(labels)} counted", interval=1.1)


def puts(ddb: Any) -> float:
    return value(scrape_of(ddb), "headwater_requests_total", service="dynamodb", operation="PutItem")


def scrape_of(client: Any) -> Samples:
    port = int(client.meta.endpoint_url.rsplit(":", 1)[1])
    return scrape(port)


def create_table(ddb: Any, name: str, view: str = "NEW_IMAGE") -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )


@pytest.mark.headwater_only
def test_requests_items_and_stream_records_move_with_the_traffic(server: Server) -> None:
    ddb = server.client("dynamodb")
    table = unique("metrics")
    create_table(ddb, table)
    put = {"service": "dynamodb", "operation": "PutItem"}
    before = counted(server.port, "headwater_requests_total", put)
    for i in range(7):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "v": {"S": "x" * 10}})
    after = counted(
        server.port, "headwater_requests_total", put, value(before, "headwater_requests_total", **put) + 7
    )
    count = "headwater_request_duration_seconds_count"
    assert value(after, count, **put) - value(before, count, **put) == 7
    assert value(after, "headwater_request_duration_seconds_bucket", le="+Inf", **put) >= 7
    written = "headwater_stream_records_written_total"
    assert value(after, written) - value(before, written) == 7
    where = {"account": "000000000000", "region": "us-east-1", "table": table}
    assert value(after, "headwater_table_items", **where) == 7
    assert value(after, "headwater_table_size_bytes", **where) > 0
    assert value(after, "headwater_stream_open_shards", **where) == 1
    assert value(after, "headwater_writer_group_size_count") > value(
        before, "headwater_writer_group_size_count"
    )
    # one put at a time: a group each (a background write may share one), timed from start to answer
    groups, bucket = "headwater_writer_group_size_count", "headwater_writer_group_size_bucket"
    assert value(after, bucket, le="512.0") - value(before, bucket, le="512.0") >= 7
    assert value(after, bucket, le="+Inf") == value(after, groups)
    assert (
        value(after, "headwater_writer_group_size_sum") - value(before, "headwater_writer_group_size_sum")
        >= 7
    )
    commits = "headwater_writer_commit_duration_seconds_count"
    assert value(after, commits, backend="sqlite") - value(before, commits, backend="sqlite") >= 7
    took = "headwater_writer_commit_duration_seconds_sum"
    assert value(after, took, backend="sqlite") > value(before, took, backend="sqlite")
    assert ("headwater_writer_queue_depth", frozenset()) in after

    streams = server.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]) == 7
    read = "headwater_stream_records_read_total"
    assert (
        value(scrape(server.port), read, service="dynamodbstreams")
        - value(after, read, service="dynamodbstreams")
        == 7
    )
    ddb.delete_table(TableName=table)


@pytest.mark.headwater_only
def test_kinesis_get_records_counts_its_records(server: Server) -> None:
    kinesis = server.client("kinesis")
    stream = unique("metrics")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.put_records(
        StreamName=stream, Records=[{"Data": b"d%d" % i, "PartitionKey": "p"} for i in range(6)]
    )
    read = "headwater_stream_records_read_total"
    before = value(scrape(server.port), read, service="kinesis")
    assert len(read_shard(kinesis, stream, shards(kinesis, stream)[0]["ShardId"])) == 6
    assert value(scrape(server.port), read, service="kinesis") - before == 6
    where = {"account": "000000000000", "region": "us-east-1", "stream": stream}
    assert value(scrape(server.port), "headwater_kinesis_open_shards", **where) == 1
    kinesis.update_shard_count(StreamName=stream, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert value(scrape(server.port), "headwater_kinesis_open_shards", **where) == 2
    kinesis.delete_stream(StreamName=stream)


@pytest.mark.headwater_only
def test_an_error_counts_under_its_type(server: Server) -> None:
    ddb = server.client("dynamodb")
    errors = "headwater_request_errors_total"
    labels = {"service": "dynamodb", "operation": "GetItem", "error_type": "ResourceNotFoundException"}
    before = value(counted(server.port, errors, labels), errors, **labels)
    for _ in range(3):
        with pytest.raises(ddb.exceptions.ResourceNotFoundException):
            ddb.get_item(TableName=unique("missing"), Key={"pk": {"S": "x"}})
    counted(server.port, errors, labels, before + 3)

    invalid = {"service": "dynamodb", "operation": "PutItem", "error_type": "ValidationException"}
    before = value(counted(server.port, errors, invalid), errors, **invalid)
    with pytest.raises(ddb.exceptions.ClientError):
        ddb.put_item(TableName="x", Item={"pk": {"S": "x"}})  # a name too short: refused by validation
    counted(server.port, errors, invalid, before + 1)


@pytest.mark.headwater_only
def test_metrics_is_a_get_and_other_methods_stay_api_calls(server: Server) -> None:
    status, _, body = server.request("POST", "/metrics", b"{}", service="dynamodb")
    assert status == 400 and b"UnknownOperationException" in body  # as DynamoDB answers POST /anything


@pytest.mark.headwater_only
def test_a_page_of_another_site_cannot_read_metrics(server: Server) -> None:
    status, _, _ = get(server.port, {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert status == 403


@pytest.fixture(scope="module")
def triggers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("metrics-triggers"))
    yield srv
    srv.stop()


@pytest.mark.headwater_only
def test_a_trigger_invocation_and_its_iterator_age_show(triggers: Server, tmp_path: Path) -> None:
    ddb, lam = triggers.client("dynamodb"), triggers.client("lambda")
    table, arn = stream_table(ddb)
    function, out = recorder(lam, tmp_path)
    mapping = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=1
    )
    for i in range(2):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}})
    labels = {"account": "000000000000", "region": "us-east-1", "function": function}

    def invoked() -> Samples | None:
        samples = scrape(triggers.port)
        return samples if value(samples, "headwater_function_invocations_total", **labels) >= 2 else None

    samples = wait_for(invoked)
    assert value(samples, "headwater_function_errors_total", **labels) == 0
    assert value(samples, "headwater_function_duration_seconds_count", **labels) >= 2
    age = {"account": "000000000000", "region": "us-east-1", "uuid": mapping["UUID"], "function": function}
    assert ("headwater_event_source_mapping_iterator_age_seconds", frozenset(age.items())) in samples
    assert out.exists()
    lambda_calls = {"service": "lambda", "operation": "CreateEventSourceMapping"}
    assert value(samples, "headwater_requests_total", **lambda_calls) >= 1


@pytest.mark.headwater_only
def test_lambda_calls_and_their_errors_are_counted(triggers: Server) -> None:
    lam = triggers.client("lambda")
    missing = {"service": "lambda", "operation": "GetFunction", "error_type": "ResourceNotFoundException"}
    before = value(scrape(triggers.port), "headwater_request_errors_total", **missing)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=unique("missing"))
    assert value(scrape(triggers.port), "headwater_request_errors_total", **missing) - before == 1


@pytest.mark.headwater_only
def test_front_processes_counts_reach_the_core(tmp_path: Path) -> None:
    """With --workers 2 the fronts answer the calls and send their counts to the core, which answers
    /metrics for every process (a second late at most)."""
    srv = Server(tmp_path, ("--workers", "2")).start()
    try:
        ddb = srv.client("dynamodb")
        table = unique("fronts")
        create_table(ddb, table)
        for i in range(5):
            ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}})
            ddb.get_item(TableName=table, Key={"pk": {"S": f"k{i}"}})
        get_items = {"service": "dynamodb", "operation": "GetItem"}
        wait_until(lambda: puts(ddb) == 5, what="5 PutItems counted")
        wait_until(lambda: value(scrape(srv.port), "headwater_requests_total", **get_items) == 5)
        where = {"account": "000000000000", "region": "us-east-1", "table": table}
        assert value(scrape(srv.port), "headwater_table_items", **where) == 5
    finally:
        srv.stop()


@pytest.mark.headwater_only
def test_a_replication_link_counts_what_it_applied(server: Server) -> None:
    home = server.client("dynamodb", "us-east-1")
    table = unique("global")
    create_table(home, table, "NEW_AND_OLD_IMAGES")  # what global tables replicate through
    home.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])

    def active() -> bool:
        replicas = home.describe_table(TableName=table)["Table"].get("Replicas", [])
        return [r["ReplicaStatus"] for r in replicas] == ["ACTIVE"]

    wait_until(active, what="the us-west-2 replica")
    home.put_item(TableName=table, Item={"pk": {"S": "replicated"}})
    link = {
        "account": "000000000000",
        "table": table,
        "source_region": "us-east-1",
        "target_region": "us-west-2",
    }

    def applied() -> Samples | None:
        samples = scrape(server.port)
        return samples if value(samples, "headwater_replication_applied_total", **link) >= 1 else None

    samples = wait_until(applied, what="the put applied in us-west-2")
    assert ("headwater_replication_latency_seconds", frozenset(link.items())) in samples
    home.update_table(TableName=table, ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])


@pytest.mark.headwater_only
def test_on_postgresql_the_writer_and_tables_report(
    postgres_server: PostgresServer, tmp_server: Callable[..., Server]
) -> None:
    pytest.importorskip("psycopg")
    srv = tmp_server("--storage-url", postgres_server.create_database()).start()
    ddb = srv.client("dynamodb")
    table = unique("pg")
    create_table(ddb, table)
    for i in range(4):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}})
    samples = scrape(srv.port)
    where = {"account": "000000000000", "region": "us-east-1", "table": table}
    assert value(samples, "headwater_table_items", **where) == 4
    assert value(samples, "headwater_writer_group_size_sum") >= 5  # the table, then the puts
    assert ("headwater_writer_reconnects_total", frozenset()) in samples
    assert value(samples, "headwater_stream_records_written_total") >= 4
    commits = "headwater_writer_commit_duration_seconds_count"
    assert value(samples, commits, backend="postgresql") >= 5
    assert value(samples, "headwater_writer_commit_duration_seconds_sum", backend="postgresql") > 0
    assert value(samples, "headwater_writer_group_size_bucket", le="+Inf") >= 5
    assert value(scrape(srv.port), commits, backend="postgresql") >= value(
        samples, commits, backend="postgresql"
    )
    queue_depth_moves_under_load(srv)


@pytest.mark.headwater_only
def test_on_sqlite_the_queue_depth_and_group_sizes_move_under_load(server: Server) -> None:
    queue_depth_moves_under_load(server)
    assert value(scrape(server.port), "headwater_writer_commit_duration_seconds_count", backend="sqlite") > 0


def queue_depth_moves_under_load(srv: Server) -> None:
    """Writers that never pause: a scrape finds operations waiting for the writer's next group (and the
    groups grow past one operation)."""
    ddb = srv.client("dynamodb")
    table = unique("queue")
    create_table(ddb, table)
    stop = threading.Event()

    client = srv.client("dynamodb", max_pool_connections=8)

    def hammer(worker: int) -> None:
        n = 0
        while not stop.is_set():
            client.put_item(TableName=table, Item={"pk": {"S": f"w{worker}-{n}"}})
            n += 1

    def grouped() -> bool:
        samples, bucket = scrape(srv.port), "headwater_writer_group_size_bucket"
        return value(samples, bucket, le="+Inf") > value(samples, bucket, le="1.0")

    threads = [threading.Thread(target=hammer, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    try:
        wait_until(
            lambda: value(scrape(srv.port), "headwater_writer_queue_depth") > 0,
            what="operations waiting for the writer",
            interval=0.001,
        )
        wait_until(grouped, what="a group of more than one operation")
    finally:
        stop.set()
        for thread in threads:
            thread.join()


# -- under --auth sigv4


def signed(key: Key, port: int) -> dict[str, str]:
    request = AWSRequest("GET", f"http://127.0.0.1:{port}/metrics")
    SigV4Auth(Credentials(key.id, key.secret, key.token), "dynamodb", "us-east-1").add_auth(request)
    return dict(request.headers.items())


IDENTITIES = [
    Identity("alice", policies=[ADMIN]),
    Identity("watcher", policies=[allow("headwater:GetMetrics")]),
    Identity("reader", policies=[allow("dynamodb:*")]),
]


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    server = AuthServer(tmp_path_factory.mktemp("metrics-auth"), IDENTITIES)
    yield server.start()
    server.stop()


@pytest.mark.headwater_only
def test_under_sigv4_metrics_need_headwater_get_metrics(auth: AuthServer) -> None:
    assert auth.server is not None
    port = auth.server.port
    status, _, body = get(port)
    assert status == 400 and b"MissingAuthenticationToken" in body, body
    status, _, body = get(port, signed(auth.keys["reader"], port))
    assert status == 400 and b"AccessDeniedException" in body and b"headwater:GetMetrics" in body, body
    for user in ("watcher", "alice"):
        assert "headwater_stream_records_written_total" in {
            name for name, _ in scrape(port, signed(auth.keys[user], port))
        }


@pytest.mark.headwater_only
def test_metrics_public_answers_unsigned_scrapes(tmp_path: Path) -> None:
    server = AuthServer(tmp_path, IDENTITIES, ("--metrics-public",)).start()
    try:
        assert server.server is not None
        assert "headwater_stream_records_written_total" in {name for name, _ in scrape(server.server.port)}
    finally:
        server.stop()

"""Event source mappings end to end: real handler files in worker subprocesses, a live server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.triggers_support import (
    events,
    keys,
    plain_table,
    put,
    recorder,
    records,
    start_server,
    stream_table,
    wait_for,
)
from tests.server import Server


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("triggers"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ddb(srv: Server) -> Any:
    return srv.client("dynamodb")


@pytest.fixture(scope="module")
def lam(srv: Server) -> Any:
    return srv.client("lambda")


@pytest.fixture(autouse=True)
def _delete_mappings(lam: Any) -> Iterator[None]:
    """Each test's mappings stop when it ends, so idle pollers do not pile up on the shared server."""
    yield
    for page in lam.get_paginator("list_event_source_mappings").paginate():
        for found in page["EventSourceMappings"]:
            lam.delete_event_source_mapping(UUID=found["UUID"])


def mapping(lam: Any, fn: str, arn: str, **extra: Any) -> str:
    extra.setdefault("StartingPosition", "TRIM_HORIZON")
    return str(lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, **extra)["UUID"])


def test_partiql_writes_reach_a_mapping_as_classic_writes_do(ddb: Any, lam: Any, tmp_path: Path) -> None:
    """INSERT, UPDATE and DELETE statements (one of them in a transaction) go through the one write path:
    the handler gets INSERT, MODIFY and REMOVE records with the images a PutItem/UpdateItem/DeleteItem
    would give."""
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path)
    mapping(lam, fn, arn)
    ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'p', 'n': 1}}")
    ddb.execute_statement(Statement=f"UPDATE \"{table}\" SET n = 2 WHERE pk = 'p'")
    ddb.execute_transaction(TransactStatements=[{"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'p'"}])
    wait_for(lambda: len(records(out)) >= 3)
    got = records(out)
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY", "REMOVE"]
    assert got[0]["dynamodb"]["NewImage"] == {"pk": {"S": "p"}, "n": {"N": "1"}}
    assert got[1]["dynamodb"]["OldImage"]["n"] == {"N": "1"}
    assert got[1]["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    assert got[2]["dynamodb"]["OldImage"] == {"pk": {"S": "p"}, "n": {"N": "2"}}
    assert "NewImage" not in got[2]["dynamodb"]


def test_records_in_order_with_lambda_event_shape(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path)
    for i in range(5):
        put(ddb, table, f"k{i}", n=i)
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "k0"}},
        UpdateExpression="SET n = :v",
        ExpressionAttributeValues={":v": {"N": "9"}},
    )
    ddb.delete_item(TableName=table, Key={"pk": {"S": "k1"}})
    mapping(lam, fn, arn)
    wait_for(lambda: len(records(out)) >= 7)
    got = records(out)
    assert [r["eventName"] for r in got] == ["INSERT"] * 5 + ["MODIFY", "REMOVE"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in got] == ["k0", "k1", "k2", "k3", "k4", "k0", "k1"]
    first = got[0]
    assert set(first) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert first["eventSourceARN"] == arn
    assert first["eventSource"] == "aws:dynamodb"
    assert first["eventVersion"] == "1.1"
    assert first["awsRegion"] == "us-east-1"
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], int | float)
    assert first["dynamodb"]["NewImage"] == {"pk": {"S": "k0"}, "n": {"N": "0"}}
    assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert got[5]["dynamodb"]["OldImage"]["n"] == {"N": "0"}
    assert got[5]["dynamodb"]["NewImage"]["n"] == {"N": "9"}
    assert "NewImage" not in got[6]["dynamodb"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in got]
    assert seqs == sorted(seqs)
    assert all(set(event) == {"Records"} for event in events(out))


def test_batch_size_is_respected(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path)
    for i in range(7):
        put(ddb, table, f"k{i}")
    mapping(lam, fn, arn, BatchSize=3)
    wait_for(lambda: len(records(out)) >= 7)
    sizes = [len(e["Records"]) for e in events(out)]
    assert sizes == [3, 3, 1]
    assert keys(out) == [f"k{i}" for i in range(7)]


def test_batching_window_collects_records(ddb: Any, lam: Any, tmp_path: Path) -> None:
    """Records written one by one wait in the window until the batch is full (a window this long never
    ends during the test; its timing is unit-tested with a fake clock in tests/unit/triggers)."""
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path)
    mapping(lam, fn, arn, BatchSize=4, MaximumBatchingWindowInSeconds=300)
    for i in range(4):
        put(ddb, table, f"k{i}")
    wait_for(lambda: len(records(out)) >= 4)
    assert [keys_of(e) for e in events(out)] == [["k0", "k1", "k2", "k3"]]


def test_latest_sees_only_later_writes(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path)
    put(ddb, table, "before")
    mapping(lam, fn, arn, StartingPosition="LATEST")
    put(ddb, table, "after")
    wait_for(lambda: records(out))
    assert keys(out) == ["after"]  # one shard, in order: "before" would have come first


def test_several_mappings_each_receive_every_record(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, arn = stream_table(ddb)
    fn1, out1 = recorder(lam, tmp_path)
    fn2, out2 = recorder(lam, tmp_path)
    mapping(lam, fn1, arn)
    mapping(lam, fn2, arn, BatchSize=1)
    for i in range(6):
        put(ddb, table, f"k{i}")
    wait_for(lambda: len(records(out1)) >= 6 and len(records(out2)) >= 6)
    assert keys(out1) == keys(out2) == [f"k{i}" for i in range(6)]


FAIL_ON_BAD = """
def respond(event, context):
    for record in event["Records"]:
        if "bad" in record["dynamodb"].get("NewImage", {}):
            raise RuntimeError("bad record " + record["dynamodb"]["Keys"]["pk"]["S"])
"""


def test_error_retries_then_delivers_failure_record_to_table(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, arn = stream_table(ddb)
    dest, dest_arn = plain_table(ddb)
    fn, out = recorder(lam, tmp_path, FAIL_ON_BAD)
    put(ddb, table, "a")
    put(ddb, table, "b", bad="yes")
    put(ddb, table, "c")
    uuid = mapping(
        lam,
        fn,
        arn,
        BatchSize=10,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )
    items = wait_for(lambda: ddb.scan(TableName=dest)["Items"])
    assert len(items) == 1
    item = items[0]
    # the first batch [a, b, c] fails 3 times (1 + 2 retries), then is discarded: nothing skipped later
    assert len(events(out)) == 3
    assert all(keys_of(e) == ["a", "b", "c"] for e in events(out))
    context = item["requestContext"]["M"]
    assert context["condition"] == {"S": "RetryAttemptsExhausted"}
    assert context["approximateInvokeCount"] == {"N": "3"}
    assert context["functionArn"] == {"S": f"arn:aws:lambda:us-east-1:000000000000:function:{fn}"}
    assert item["id"] == context["requestId"]
    assert item["responseContext"]["M"]["functionError"] == {"S": "Unhandled"}
    info = item["DDBStreamBatchInfo"]["M"]
    assert info["batchSize"] == {"N": "3"}
    assert info["streamArn"] == {"S": arn}
    assert info["startSequenceNumber"]["S"] == records(out)[0]["dynamodb"]["SequenceNumber"]
    assert info["endSequenceNumber"]["S"] == records(out)[2]["dynamodb"]["SequenceNumber"]
    assert item["version"] == {"S": "1.0"}
    # the shard moves on after the discarded batch
    put(ddb, table, "d")
    wait_for(lambda: keys_of(events(out)[-1]) == ["d"])
    # the handler records d before the runner sees its answer
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK")


def keys_of(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]


def test_bisect_isolates_the_failing_record(srv: Server, ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path, FAIL_ON_BAD)
    for pk in ("a", "b", "c"):
        put(ddb, table, pk)
    put(ddb, table, "x", bad="yes")
    mapping(lam, fn, arn, BatchSize=4, MaximumRetryAttempts=0, BisectBatchOnFunctionError=True)
    wait_for(lambda: any(keys_of(e) == ["x"] for e in events(out)))
    put(ddb, table, "marker")  # once it arrives, x's batch is settled: nothing more can come before it
    wait_for(lambda: "marker" in keys(out))
    batches = [keys_of(e) for e in events(out)]
    # [a b c x] fails -> [a b] ok, [c x] fails -> [c] ok, [x] fails, no retries left
    assert batches == [["a", "b", "c", "x"], ["a", "b"], ["c", "x"], ["c"], ["x"], ["marker"]]
    uuid = lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"][0]["UUID"]
    failures = failures_of(srv, uuid)
    assert [f["DDBStreamBatchInfo"]["batchSize"] for f in failures] == [1]


def failures_of(srv: Server, uuid: str) -> list[dict[str, Any]]:
    status, _, body = srv.request("GET", f"/2015-03-31/event-source-mappings/{uuid}/headwater-failures")
    assert status == 200, body
    failures: list[dict[str, Any]] = json.loads(body)["Failures"]
    return failures


def test_a_failing_record_blocks_its_shard_until_it_succeeds(ddb: Any, lam: Any, tmp_path: Path) -> None:
    flag = tmp_path / "allow"
    respond = f"""
def respond(event, context):
    if not os.path.exists({str(flag)!r}):
        raise RuntimeError("not yet")
"""
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path, respond)
    put(ddb, table, "a")
    mapping(lam, fn, arn)
    wait_for(lambda: len(events(out)) >= 3)
    put(ddb, table, "b")
    tried = len(events(out))
    wait_for(lambda: len(events(out)) >= tried + 2)  # retried twice more since b was written
    assert all(keys_of(e) == ["a"] for e in events(out))  # b waits behind a
    flag.write_text("go")
    wait_for(lambda: "b" in keys(out))
    assert keys_of(events(out)[-1]) in (["b"], ["a", "b"])


PARTIAL = """
def respond(event, context):
    failed = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]
              if "bad" in r["dynamodb"].get("NewImage", {})]
    if failed and not os.path.exists(os.environ["OUT"] + ".fixed"):
        open(os.environ["OUT"] + ".fixed", "w").close()
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
    return {"batchItemFailures": []}
"""


def test_report_batch_item_failures_resumes_from_lowest_failure(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path, PARTIAL)
    put(ddb, table, "a")
    put(ddb, table, "b")
    put(ddb, table, "c", bad="1")
    put(ddb, table, "d")
    put(ddb, table, "e", bad="1")
    mapping(lam, fn, arn, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
    wait_for(lambda: len(events(out)) >= 2)
    put(ddb, table, "marker")  # once it arrives, the retry of [c d e] was the last one
    wait_for(lambda: "marker" in keys(out))
    assert [keys_of(e) for e in events(out)] == [["a", "b", "c", "d", "e"], ["c", "d", "e"], ["marker"]]


def test_report_batch_item_failures_with_empty_identifier_fails_whole_batch(
    ddb: Any, lam: Any, tmp_path: Path
) -> None:
    respond = """
def respond(event, context):
    n = len(open(os.environ["OUT"]).read().splitlines())
    return {"batchItemFailures": [{"itemIdentifier": ""}]} if n == 1 else None
"""
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path, respond)
    put(ddb, table, "a")
    put(ddb, table, "b")
    mapping(lam, fn, arn, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
    wait_for(lambda: len(events(out)) >= 2)
    put(ddb, table, "marker")
    wait_for(lambda: "marker" in keys(out))
    assert [keys_of(e) for e in events(out)] == [["a", "b"], ["a", "b"], ["marker"]]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"dynamodb": {"NewImage": {"color": {"S": ["red"]}}}}, ["r1"]),
        ({"dynamodb": {"NewImage": {"color": {"S": [{"prefix": "bl"}]}}}}, ["b1"]),
        ({"dynamodb": {"NewImage": {"color": {"S": [{"suffix": "en"}]}}}}, ["g1"]),
        ({"dynamodb": {"NewImage": {"color": {"S": [{"equals-ignore-case": "RED"}]}}}}, ["r1", "R2"]),
        ({"dynamodb": {"NewImage": {"color": {"S": [{"anything-but": ["red", "green"]}]}}}}, ["b1", "R2"]),
        ({"dynamodb": {"NewImage": {"size": {"N": [{"numeric": [">", 2, "<=", 10]}]}}}}, ["g1", "b1"]),
        ({"dynamodb": {"NewImage": {"tag": [{"exists": True}]}}}, ["b1", "e1"]),
        ({"dynamodb": {"NewImage": {"tag": [{"exists": False}]}}}, ["r1", "g1", "R2"]),
        ({"dynamodb": {"NewImage": {"tag": {"S": [""]}}}}, ["e1"]),
        ({"dynamodb": {"NewImage": {"tag": {"NULL": [True]}}}}, []),
        ({"eventName": ["REMOVE"]}, ["r1"]),
    ],
    ids=[
        "exact",
        "prefix",
        "suffix",
        "ignore-case",
        "anything-but",
        "numeric",
        "exists",
        "not-exists",
        "empty",
        "null",
        "event-name",
    ],
)
def test_filters_keep_exactly_the_matching_records(
    ddb: Any, lam: Any, tmp_path: Path, pattern: dict[str, Any], expected: list[str]
) -> None:
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path)
    # a second filter lets the last record through: once it arrives, every record before it was judged
    marker = {"dynamodb": {"Keys": {"pk": {"S": ["zz-marker"]}}}}
    filters = {"Filters": [{"Pattern": json.dumps(pattern)}, {"Pattern": json.dumps(marker)}]}
    uuid = mapping(lam, fn, arn, FilterCriteria=filters)
    put(ddb, table, "r1", color="red", size=1)
    put(ddb, table, "g1", color="green", size=5)
    put(ddb, table, "b1", color="blue", size=10, tag="x")
    ddb.put_item(TableName=table, Item={"pk": {"S": "R2"}, "color": {"S": "Red"}, "size": {"N": "11"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "e1"}, "tag": {"S": ""}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "r1"}})
    put(ddb, table, "zz-marker")
    wait_for(lambda: "zz-marker" in keys(out))
    got = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records(out)]
    assert got[-1] == "zz-marker"
    if pattern == {"eventName": ["REMOVE"]}:
        assert got == ["r1", "zz-marker"] and records(out)[0]["eventName"] == "REMOVE"
    else:
        inserted = [k for k, r in zip(got, records(out), strict=True) if r["eventName"] == "INSERT"]
        assert inserted[:-1] == expected
    assert lam.get_event_source_mapping(UUID=uuid)["FilterCriteria"] == filters


def test_tumbling_window_passes_state(ddb: Any, lam: Any, tmp_path: Path) -> None:
    respond = """
def respond(event, context):
    state = dict(event.get("state") or {})
    state["count"] = state.get("count", 0) + len(event["Records"])
    return {"state": state}
"""
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path, respond)
    mapping(lam, fn, arn, TumblingWindowInSeconds=2, BatchSize=2)
    for i in range(5):
        put(ddb, table, f"k{i}")

    def finals() -> list[dict[str, Any]]:
        found = [e for e in events(out) if e["isFinalInvokeForWindow"]]
        return found if sum(f["state"].get("count", 0) for f in found) == 5 else []

    wait_for(finals)
    got = events(out)
    first = got[0]
    assert set(first) == {
        "Records",
        "window",
        "state",
        "shardId",
        "eventSourceARN",
        "isFinalInvokeForWindow",
        "isWindowTerminatedEarly",
    }
    assert first["state"] == {}
    assert first["eventSourceARN"] == arn
    assert first["shardId"].startswith("shardId-")
    assert first["isWindowTerminatedEarly"] is False
    assert first["window"]["start"].endswith("Z") and first["window"]["end"].endswith("Z")
    # within a window each invocation sees the state the previous one returned; the final one has no
    # records and the window's total
    count = 0
    for event in got:
        assert event["state"].get("count", 0) == count
        if event["isFinalInvokeForWindow"]:
            assert event["Records"] == []
            count = 0
        else:
            assert len(event["Records"]) <= 2
            count += len(event["Records"])
    assert got[-1]["isFinalInvokeForWindow"] is True


def test_parallelization_factor_keeps_order_per_key(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, arn = stream_table(ddb)
    # four lanes start four cold workers at once: a generous timeout keeps a loaded machine from turning
    # this into a retry test (a retried batch is delivered again, at least once, as on AWS)
    fn, out = recorder(lam, tmp_path, Timeout=30)
    for round_ in range(4):
        for key in ("a", "b", "c", "d"):
            put(ddb, table, key, n=round_)
    mapping(lam, fn, arn, ParallelizationFactor=4, BatchSize=2)

    def delivered() -> list[dict[str, Any]]:
        first: dict[str, dict[str, Any]] = {}
        for record in records(out):
            first.setdefault(record["dynamodb"]["SequenceNumber"], record)
        return list(first.values())

    wait_for(lambda: len(delivered()) >= 16)
    by_key: dict[str, list[int]] = {}
    for record in delivered():
        by_key.setdefault(record["dynamodb"]["Keys"]["pk"]["S"], []).append(
            int(record["dynamodb"]["NewImage"]["n"]["N"])
        )
    assert by_key == {k: [0, 1, 2, 3] for k in ("a", "b", "c", "d")}


def test_disabled_mapping_pauses_and_resumes(ddb: Any, lam: Any, tmp_path: Path) -> None:
    table, arn = stream_table(ddb)
    fn, out = recorder(lam, tmp_path)
    uuid = mapping(lam, fn, arn)
    put(ddb, table, "a")
    wait_for(lambda: keys(out) == ["a"])
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Updating"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    put(ddb, table, "b")
    # an enabled mapping on the same stream: once it has b, the paused one had every chance to take it
    watcher, watched = recorder(lam, tmp_path)
    mapping(lam, watcher, arn)
    wait_for(lambda: "b" in keys(watched))
    assert keys(out) == ["a"]
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_for(lambda: keys(out) == ["a", "b"])


def test_mapping_crud_and_errors(ddb: Any, lam: Any, tmp_path: Path) -> None:
    _, arn = stream_table(ddb)
    fn, _ = recorder(lam, tmp_path)
    created = lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST", BatchSize=50
    )
    assert created["State"] == "Creating"
    assert created["BatchSize"] == 50
    assert created["MaximumRetryAttempts"] == -1
    assert created["MaximumRecordAgeInSeconds"] == -1
    assert created["ParallelizationFactor"] == 1
    assert created["FunctionArn"].endswith(f":function:{fn}")
    uuid = created["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    listed = lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid]
    assert [m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]] == [
        uuid
    ]
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST")
    assert err.value.response["Error"]["Code"] == "ResourceConflictException"
    assert uuid in err.value.response["Error"]["Message"]
    updated = lam.update_event_source_mapping(UUID=uuid, BatchSize=7, MaximumRetryAttempts=3)
    assert (updated["BatchSize"], updated["MaximumRetryAttempts"]) == (7, 3)
    assert lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    with pytest.raises(ClientError) as err:
        lam.get_event_source_mapping(UUID=uuid)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == "The resource you requested does not exist."
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize(
    ("extra", "code", "text"),
    [
        (
            {"FilterCriteria": {"Filters": [{"Pattern": '{"eventName": "INSERT"}'}]}},
            "InvalidParameterValue",
            "Invalid filter pattern definition.",
        ),
        (
            {"FilterCriteria": {"Filters": [{"Pattern": "not json"}]}},
            "InvalidParameterValue",
            "Invalid filter pattern definition.",
        ),
        (
            {"FilterCriteria": {"Filters": [{"Pattern": '{"a": [{"numeric": ["<", "x"]}]}'}]}},
            "InvalidParameterValue",
            "Invalid filter pattern definition.",
        ),
        (
            {"FilterCriteria": {"Filters": [{"Pattern": '{"a": [{"bogus": 1}]}'}]}},
            "InvalidParameterValue",
            "Invalid filter pattern definition.",
        ),
        (
            {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:q"}}},
            "InvalidParameterValue",
            "sqs",
        ),
        (
            {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sns:us-east-1:000000000000:t"}}},
            "InvalidParameterValue",
            "sns",
        ),
        (
            {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::bucket"}}},
            "InvalidParameterValue",
            "OnFailure",
        ),
        ({"BatchSize": 10001}, "Validation", "Member must have value less than or equal to 10000"),
        ({"ParallelizationFactor": 11}, "Validation", "less than or equal to 10"),
        ({"MaximumRecordAgeInSeconds": 30}, "Validation", "greater than or equal to 60"),
        ({"TumblingWindowInSeconds": 901}, "Validation", "less than or equal to 900"),
    ],
    ids=[
        "leaf-not-array",
        "not-json",
        "numeric-operand",
        "unknown-op",
        "sqs",
        "sns",
        "s3",
        "batch",
        "pf",
        "age",
        "window",
    ],
)
def test_invalid_mapping_parameters_are_refused(
    ddb: Any, lam: Any, tmp_path: Path, extra: dict[str, Any], code: str, text: str
) -> None:
    _, arn = stream_table(ddb)
    fn, _ = recorder(lam, tmp_path)
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST", **extra
        )
    assert err.value.response["Error"]["Code"] == code + "Exception"
    assert text in err.value.response["Error"]["Message"]
    assert lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"] == []


def test_destination_table_must_have_single_string_hash_key(ddb: Any, lam: Any, tmp_path: Path) -> None:
    _, arn = stream_table(ddb)
    fn, _ = recorder(lam, tmp_path)
    name = f"numkey{int(time.time() * 1000)}"
    table_arn = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(
            FunctionName=fn,
            EventSourceArn=arn,
            StartingPosition="LATEST",
            DestinationConfig={"OnFailure": {"Destination": table_arn}},
        )
    assert err.value.response["Error"]["Message"] == (
        f"The OnFailure destination table must have a single String hash key: {table_arn}"
    )


def test_unknown_stream_and_function(ddb: Any, lam: Any, tmp_path: Path) -> None:
    fn, _ = recorder(lam, tmp_path)
    bogus = "arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2020-01-01T00:00:00.000"
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=bogus, StartingPosition="LATEST")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["Error"]["Message"] == f"Stream not found: {bogus}"
    _, arn = stream_table(ddb)
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(FunctionName="missing", EventSourceArn=arn, StartingPosition="LATEST")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing"
    )

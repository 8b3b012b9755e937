"""Concurrency as Lambda documents it, through boto3: reserved concurrency (Put/Get/DeleteFunctionConcurrency,
GetFunction's Concurrency), GetAccountSettings, the 100-unreserved rule, TooManyRequestsException for
invocations beyond a reservation, the unreserved pool or the worker cap; asynchronous invocations and
event source mappings wait instead of losing anything. And the worker processes' idle timeout."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_triggers_mappings import failures_of
from tests.e2e.triggers_support import ROLE, put, records, stream_table, unique, wait_for, zip_of
from tests.server import Server

RULE = (
    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
    "below its minimum value of [100]."
)

# Records each event in $OUT; {"gate": path} holds the invocation until that file exists, and
# {"started": path} says when it began.
CODE = """
import json, os, time

def handler(event, context):
    if event.get("started"):
        open(event["started"], "w").close()
    while event.get("gate") and not os.path.exists(event["gate"]):
        time.sleep(0.01)
    if os.environ.get("OUT"):
        with open(os.environ["OUT"], "a") as out:
            out.write(json.dumps(event) + "\\n")
    return {"pid": os.getpid()}
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from tests.e2e.triggers_support import start_server

    server = start_server(tmp_path_factory.mktemp("concurrency"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(srv: Server) -> Any:
    return srv.client("lambda")


def function(lam: Any, out: Path | None = None, **extra: Any) -> str:
    name = unique("c")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(CODE)},
        Timeout=60,
        Environment={"Variables": {"OUT": str(out)} if out else {}},
        **extra,
    )
    return name


def reserve(client: Any, name: str, value: Any) -> Callable[[], Any]:
    """PutFunctionConcurrency, to call later."""
    return lambda: client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=value)


def error(call: Callable[[], Any]) -> tuple[str, str, int, dict[str, Any]]:
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response,
    )


class Held:
    """A synchronous invocation held open (in a thread) until `release()`."""

    def __init__(self, lam: Any, name: str, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.gate = folder / unique("gate")
        started = folder / unique("started")
        event = json.dumps({"gate": str(self.gate), "started": str(started)}).encode()
        self.result: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._run, args=(lam, name, event))
        self.thread.start()
        wait_for(started.exists)

    def _run(self, lam: Any, name: str, event: bytes) -> None:
        response = lam.invoke(FunctionName=name, Payload=event)
        self.result = json.loads(response["Payload"].read())

    def release(self) -> dict[str, Any]:
        self.gate.touch()
        self.thread.join(timeout=60)
        return self.result


def test_put_get_delete_function_concurrency(lam: Any) -> None:
    name = function(lam)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    assert "Concurrency" not in lam.get_function(FunctionName=name)
    put = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    assert put["ReservedConcurrentExecutions"] == 5
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    assert lam.get_function_concurrency(FunctionName=arn)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] <= 995
    assert settings["AccountLimit"]["CodeSizeUnzipped"] == 262144000
    assert settings["AccountLimit"]["CodeSizeZipped"] == 52428800
    assert settings["AccountLimit"]["TotalCodeSize"] == 80530636800
    assert settings["AccountUsage"]["FunctionCount"] >= 1
    assert settings["AccountUsage"]["TotalCodeSize"] > 0
    deleted = lam.delete_function_concurrency(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    assert "Concurrency" not in lam.get_function(FunctionName=name)
    lam.delete_function_concurrency(FunctionName=name)  # none to delete: fine


def test_concurrency_requests_that_get_it_wrong(srv: Server, lam: Any) -> None:
    name = function(lam)
    loose = srv.client("lambda", parameter_validation=False)
    missing = error(lambda: loose.put_function_concurrency(FunctionName=name))
    assert missing[:3] == (
        "ValidationException",
        "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy "
        "constraint: Member must not be null",
        400,
    )
    negative = error(
        lambda: loose.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=-1)
    )
    assert negative[:3] == (
        "ValidationException",
        "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy "
        "constraint: Member must have value greater than or equal to 0",
        400,
    )
    for wrong in ("5", 1.5, True, 2**40, [1], {"n": 1}):
        wrongly = error(reserve(loose, name, wrong))
        assert wrongly[0] == "InvalidRequestContentException" and wrongly[2] == 400, (wrong, wrongly)
    too_many = error(reserve(lam, name, 901))
    assert too_many[:3] == ("InvalidParameterValueException", RULE, 400)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    for call in (
        lambda: lam.put_function_concurrency(FunctionName="nope", ReservedConcurrentExecutions=1),
        lambda: lam.get_function_concurrency(FunctionName="nope"),
        lambda: lam.delete_function_concurrency(FunctionName="nope"),
    ):
        kind, message, status, _ = error(call)
        assert (kind, status) == ("ResourceNotFoundException", 404)
        assert message == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"
    bad_name = error(lambda: loose.get_function_concurrency(FunctionName="bad name!"))
    assert bad_name[0] == "ValidationException"
    path = f"/2017-10-31/functions/{name}/concurrency"
    status, headers, body = srv.request("PUT", path, b"{not json")
    assert (status, headers["x-amzn-errortype"]) == (400, "InvalidRequestContentException")
    assert json.loads(body)["message"] == "Could not parse request body into json"


def test_the_unreserved_pool_keeps_100_and_reservations_survive_a_restart(
    tmp_server: Callable[..., Server],
) -> None:
    srv = tmp_server().start()
    lam = srv.client("lambda")
    big, small = function(lam), function(lam)
    lam.put_function_concurrency(FunctionName=big, ReservedConcurrentExecutions=900)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    assert error(lambda: lam.put_function_concurrency(FunctionName=small, ReservedConcurrentExecutions=1))[
        :2
    ] == (
        "InvalidParameterValueException",
        RULE,
    )
    lam.put_function_concurrency(FunctionName=small, ReservedConcurrentExecutions=0)  # takes nothing
    lam.put_function_concurrency(FunctionName=big, ReservedConcurrentExecutions=899)  # replaces its own
    srv.stop()
    srv.start()
    lam = srv.client("lambda")
    assert lam.get_function_concurrency(FunctionName=big)["ReservedConcurrentExecutions"] == 899
    assert lam.get_function_concurrency(FunctionName=small)["ReservedConcurrentExecutions"] == 0
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 101
    assert error(lambda: lam.invoke(FunctionName=small))[0] == "TooManyRequestsException"
    lam.delete_function(FunctionName=big)  # its reservation returns to the pool
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000
    lam.put_function_concurrency(FunctionName=small, ReservedConcurrentExecutions=900)


def throttle(call: Callable[[], Any]) -> str:
    kind, message, status, response = error(call)
    assert (kind, message, status) == ("TooManyRequestsException", "Rate Exceeded.", 429)
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "TooManyRequestsException"
    reason: str = response["Reason"]
    return reason


def test_reserved_concurrency_zero_throttles_every_invoke(lam: Any, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    name = function(lam, out)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    reason = throttle(lambda: lam.invoke(FunctionName=name, Payload=b'{"sync": 1}'))
    assert reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    # an asynchronous invocation is accepted and waits for concurrency, as Lambda's queue does
    queued = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"queued": 1}')
    queued["Payload"].close()
    assert queued["StatusCode"] == 202
    dry = lam.invoke(FunctionName=name, InvocationType="DryRun")
    dry["Payload"].close()
    assert dry["StatusCode"] == 204
    assert not out.exists()  # the throttled synchronous call ran nothing
    lam.delete_function_concurrency(FunctionName=name)
    wait_for(lambda: out.exists() and out.read_text().strip() == '{"queued": 1}')


def test_an_invoke_beyond_the_reservation_is_throttled(lam: Any, tmp_path: Path) -> None:
    name = function(lam)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    held = Held(lam, name, tmp_path)
    try:
        reason = throttle(lambda: lam.invoke(FunctionName=name, Payload=b"{}"))
        assert reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
        other = function(lam)  # other functions are not held back by it
        assert lam.invoke(FunctionName=other, Payload=b"{}")["StatusCode"] == 200
    finally:
        first = held.release()
    again = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    assert again["pid"] == first["pid"]  # the same warm worker, free again


def test_an_invoke_beyond_the_unreserved_pool_is_throttled(
    tmp_server: Callable[..., Server], tmp_path: Path
) -> None:
    srv = tmp_server("--concurrency-limit", "2").start()
    lam = srv.client("lambda")
    limit = lam.get_account_settings()["AccountLimit"]
    assert (limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]) == (2, 2)
    one, two = function(lam), function(lam)
    assert error(lambda: lam.put_function_concurrency(FunctionName=one, ReservedConcurrentExecutions=0))[
        :2
    ] == (
        "InvalidParameterValueException",
        RULE,
    )
    held = [Held(lam, one, tmp_path), Held(lam, two, tmp_path)]
    try:
        assert throttle(lambda: lam.invoke(FunctionName=one)) == "ConcurrentInvocationLimitExceeded"
    finally:
        for hold in held:
            hold.release()
    assert lam.invoke(FunctionName=one)["StatusCode"] == 200


def test_the_worker_cap_throttles_a_synchronous_invoke(
    tmp_server: Callable[..., Server], tmp_path: Path
) -> None:
    srv = tmp_server("--max-workers", "1").start()
    lam = srv.client("lambda")
    busy, other = function(lam), function(lam)
    pid = json.loads(lam.invoke(FunctionName=other)["Payload"].read())["pid"]
    held = Held(lam, busy, tmp_path)  # takes the place of the idle worker of `other`
    try:
        assert throttle(lambda: lam.invoke(FunctionName=other)) == "ConcurrentInvocationLimitExceeded"
    finally:
        held.release()
    assert json.loads(lam.invoke(FunctionName=other)["Payload"].read())["pid"] != pid


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="looks processes up in /proc")
def test_idle_workers_exit(tmp_server: Callable[..., Server]) -> None:
    srv = tmp_server("--worker-idle-timeout", "0.3").start()
    lam = srv.client("lambda")
    name = function(lam)
    pid = json.loads(lam.invoke(FunctionName=name)["Payload"].read())["pid"]
    wait_for(lambda: not alive(pid))
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read())["pid"] != pid


def test_a_mapping_waits_for_concurrency_and_drops_nothing(srv: Server, lam: Any, tmp_path: Path) -> None:
    ddb = srv.client("dynamodb")
    table, arn = stream_table(ddb)
    out = tmp_path / "events.jsonl"
    name = function(lam, out)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    uuid = lam.create_event_source_mapping(
        FunctionName=name,
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0,  # a throttle counted as a failed attempt would discard the batch
    )["UUID"]
    put(ddb, table, "a")
    put(ddb, table, "b")
    wait_for(
        lambda: (
            lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"]
            == "PROBLEM: Function call throttled"
        )
    )
    assert not out.exists()
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    wait_for(lambda: [r["dynamodb"]["Keys"]["pk"]["S"] for r in records(out)] == ["a", "b"])
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK")
    assert failures_of(srv, uuid) == []

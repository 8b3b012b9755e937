"""INCREMENTAL_EXPORT through boto3, against a server whose clock the test moves (the export period must
be 15 minutes to 24 hours long and in the past): an export period with inserts, updates and deletes read
back by an independent reader as AWS documents the files (a shared AWSDynamoDB/data/ folder, lines of
Metadata.WriteTimestampMicros, Keys, OldImage and NewImage, one per changed item), in both views; and
every error of the request, with AWS's texts.

The server is the real HTTP application (`build_app`) serving on a thread of the test process, with a
FakeClock: a subprocess could not be given the test's clock."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from headwater.app import build_app
from headwater.clock import FakeClock
from headwater.config import Settings
from headwater.http.connections import Connections, listen, protocol_factory
from headwater.model import ion
from tests.server import free_port
from tests.waiting import wait_until, wait_until_async

# a server of its own, on the test's clock: not for the oracle switch (DynamoDB Local has no exports anyway)
pytestmark = pytest.mark.headwater_only

BUCKET = "incremental"
MINUTE = 60.0


class ClockedServer:
    """Headwater's HTTP application on an event loop of its own thread, on the given clock."""

    def __init__(self, data_dir: Path, clock: FakeClock) -> None:
        self.clock = clock
        self.settings = Settings(host="127.0.0.1", port=free_port(), data_dir=data_dir, auth="off")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.listening: asyncio.Server | None = None
        self.connections: Connections | None = None
        self.clients: list[Any] = []

    def start(self) -> ClockedServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(60)
        return self

    async def _start(self) -> None:
        app, self.node = build_app(self.settings, self.clock)
        await self.node.start()
        self.connections = protocol_factory(app, refusal=app.refusal)
        self.listening = await listen(self.connections, host="127.0.0.1", port=self.settings.port)

    def stop(self) -> None:
        for client in self.clients:  # their connections close, and the server's with them
            client.close()
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()

    async def _stop(self) -> None:
        assert self.listening is not None
        self.listening.close()
        connections = self.connections
        assert connections is not None
        for connection in list(connections.open):  # closed here, not by the garbage collector later
            connection.evict()
        await wait_until_async(lambda: not connections.open, what="the clients' connections closed")
        await self.node.stop()

    def client(self) -> Any:
        client = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{self.settings.port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        self.clients.append(client)
        return client


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[ClockedServer]:
    server = ClockedServer(tmp_path / "data", FakeClock(1_800_000_000.0)).start()
    yield server
    server.stop()


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def make_table(ddb: Any, name: str, *, recovery: bool = True) -> str:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    if recovery:
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    arn: str = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    return arn


def put(ddb: Any, pk: str, value: str) -> None:
    ddb.put_item(TableName="tab", Item={"pk": {"S": pk}, "sk": {"N": "1"}, "v": {"S": value}})


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": "1"}}


def image(pk: str, value: str) -> dict[str, Any]:
    return {**key(pk), "v": {"S": value}}


def read_incremental(folder: Path, manifest_key: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An incremental export's summary and lines, as AWS documents them (checksums verified)."""
    summary_path = folder / manifest_key
    summary = json.loads(summary_path.read_bytes())
    checksum = summary_path.with_name("manifest-summary.checksum").read_text()
    assert checksum == hashlib.md5(summary_path.read_bytes()).hexdigest()
    assert (summary_path.parent / "_started").exists()
    listing = (folder / summary["manifestFilesS3Key"]).read_text().splitlines()
    lines: list[dict[str, Any]] = []
    for entry in (json.loads(line) for line in listing if line):
        assert entry["dataFileS3Key"].startswith("AWSDynamoDB/data/")  # the prefix's shared data folder
        body = (folder / entry["dataFileS3Key"]).read_bytes()
        assert base64.b64encode(hashlib.md5(body).digest()).decode() == entry["md5Checksum"]
        if entry["dataFileS3Key"].endswith(".ion.gz"):
            found = [ion.read_struct(line.decode()) for line in gzip.decompress(body).splitlines() if line]
        else:
            found = [json.loads(line) for line in gzip.decompress(body).splitlines() if line]
        assert len(found) == entry["itemCount"]
        lines.extend(found)
    return summary, lines


def export(
    ddb: Any, arn: str, start: float, end: float, view: str | None = None, output: str = "DYNAMODB_JSON"
) -> dict[str, Any]:
    spec: dict[str, Any] = {"ExportFromTime": at(start), "ExportToTime": at(end)}
    if view is not None:
        spec["ExportViewType"] = view
    answer = ddb.export_table_to_point_in_time(
        TableArn=arn,
        S3Bucket=BUCKET,
        ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification=spec,
        ExportFormat=output,
    )["ExportDescription"]
    assert answer["ExportStatus"] == "IN_PROGRESS" and answer["ExportType"] == "INCREMENTAL_EXPORT"

    def check() -> dict[str, Any] | None:
        found: dict[str, Any] = ddb.describe_export(ExportArn=answer["ExportArn"])["ExportDescription"]
        assert found["ExportStatus"] != "FAILED", found
        return found if found["ExportStatus"] == "COMPLETED" else None

    return wait_until(check, what="the incremental export")


def test_an_export_period_of_inserts_updates_and_deletes(clocked: ClockedServer) -> None:
    ddb, clock = clocked.client(), clocked.clock
    arn = make_table(ddb, "tab")
    for pk in ("a", "b", "d"):
        put(ddb, pk, "before")
    clock.advance(MINUTE)
    start = clock.now()  # the period: [start, end)
    put(ddb, "a", "first")  # updated twice: the old image before, the new one after both
    clock.advance(MINUTE)
    put(ddb, "a", "second")
    ddb.delete_item(TableName="tab", Key=key("b"))  # deleted
    put(ddb, "e", "new")  # inserted
    put(ddb, "f", "brief")  # inserted and deleted: not exported
    ddb.delete_item(TableName="tab", Key=key("f"))
    clock.advance(5 * MINUTE)
    last_a = clock.now()
    ddb.update_item(
        TableName="tab",
        Key=key("a"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "third"}},
    )
    clock.advance(20 * MINUTE)
    end = clock.now()
    put(ddb, "a", "after")  # at the period's end: excluded
    put(ddb, "d", "after")
    clock.advance(MINUTE)

    done = export(ddb, arn, start, end)
    assert done["IncrementalExportSpecification"] == {
        "ExportFromTime": at(start),
        "ExportToTime": at(end),
        "ExportViewType": "NEW_AND_OLD_IMAGES",
    }
    assert "ExportTime" not in done and done["ItemCount"] == 3
    assert done["BilledSizeBytes"] == 10_000_000  # AWS bills 10 MB at least
    summary, lines = read_incremental(clocked.settings.data_dir / "s3" / BUCKET, done["ExportManifest"])
    assert summary["version"] == "2023-08-01"
    assert (summary["exportType"], summary["outputView"]) == ("INCREMENTAL_EXPORT", "NEW_AND_OLD_IMAGES")
    assert summary["exportFromTime"] == at(start).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert summary["exportToTime"] == at(end).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert summary["itemCount"] == 3 and "exportTime" not in summary
    by_pk = first = {line["Keys"]["pk"]["S"]: line for line in lines}
    assert by_pk == {
        "a": {
            "Metadata": {"WriteTimestampMicros": {"N": str(round(last_a * 1_000_000))}},
            "Keys": key("a"),
            "OldImage": image("a", "before"),
            "NewImage": image("a", "third"),
        },
        "b": {
            "Metadata": {"WriteTimestampMicros": {"N": str(round((start + MINUTE) * 1_000_000))}},
            "Keys": key("b"),
            "OldImage": image("b", "before"),
        },
        "e": {
            "Metadata": {"WriteTimestampMicros": {"N": str(round((start + MINUTE) * 1_000_000))}},
            "Keys": key("e"),
            "NewImage": image("e", "new"),
        },
    }

    new_only = export(ddb, arn, start, end, "NEW_IMAGE")
    _, lines = read_incremental(clocked.settings.data_dir / "s3" / BUCKET, new_only["ExportManifest"])
    by_pk = {line["Keys"]["pk"]["S"]: line for line in lines}
    assert {pk: {k: v for k, v in line.items() if k != "Metadata"} for pk, line in by_pk.items()} == {
        "a": {"Keys": key("a"), "NewImage": image("a", "third")},
        "b": {"Keys": key("b")},
        "e": {"Keys": key("e"), "NewImage": image("e", "new")},
    }
    # the same period in Ion: the same fields, each line `$ion_1_0 {Metadata:{...},Keys:{...},...}`
    in_ion = export(ddb, arn, start, end, output="ION")
    summary, ion_lines = read_incremental(clocked.settings.data_dir / "s3" / BUCKET, in_ion["ExportManifest"])
    assert summary["outputFormat"] == "ION" and in_ion["ItemCount"] == 3
    wrapped = {pk: {name: {"M": value} for name, value in line.items()} for pk, line in first.items()}
    assert {line["Keys"]["M"]["pk"]["S"]: line for line in ion_lines} == wrapped
    listed = ddb.list_exports(TableArn=arn)["ExportSummaries"]
    assert [s["ExportType"] for s in listed] == ["INCREMENTAL_EXPORT"] * 3


def test_the_requests_errors(clocked: ClockedServer) -> None:
    ddb, clock = clocked.client(), clocked.clock
    plain = make_table(ddb, "plain", recovery=False)
    enabled = clock.now()
    arn = make_table(ddb, "tab")
    clock.advance(26 * 3600)
    now = clock.now()

    def refused(
        spec: dict[str, Any] | None, export_type: str | None = "INCREMENTAL_EXPORT", **more: Any
    ) -> Any:
        request: dict[str, Any] = {"TableArn": more.pop("table", arn), "S3Bucket": BUCKET, **more}
        if export_type is not None:
            request["ExportType"] = export_type
        if spec is not None:
            request["IncrementalExportSpecification"] = spec
        with pytest.raises(ClientError) as exc:
            ddb.export_table_to_point_in_time(**request)
        return error_of(exc)

    window = {"ExportFromTime": at(now - 3600), "ExportToTime": at(now - 1800)}
    assert refused(window, None) == (
        "ValidationException",
        "Invalid Request: Export Type expected to be Incremental Export when incremental export "
        "specification is provided",
    )
    assert refused(window, "FULL_EXPORT") == (
        "ValidationException",
        "Invalid Request: When Export Type is Full Export , Incremental Export Specification should not "
        "be provided",
    )
    assert refused(None) == (
        "ValidationException",
        "Invalid Request: Incremental Export Specification expected when export type is set as "
        "Incremental Export",
    )
    for spec in ({}, {"ExportViewType": "NEW_IMAGE"}, {"ExportToTime": at(now)}):
        assert refused(spec) == (
            "ValidationException",
            "Invalid Request: ExportFromTime must be provided in IncrementalExportSpecification",
        )
    code, message = refused({**window, "ExportViewType": "NEW_IMAGES"})
    assert code == "ValidationException"
    assert message.startswith(
        "1 validation error detected: Value 'NEW_IMAGES' at 'incrementalExportSpecification.exportViewType' "
        "failed to satisfy constraint: Member must"
    )

    def second(epoch: float) -> str:
        return at(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")

    before = enabled - 3600
    for spec, table in (
        ({"ExportFromTime": at(before), "ExportToTime": at(enabled + 1800)}, arn),  # before recovery
        ({"ExportFromTime": at(before)}, arn),
        (window, plain),  # recovery off
    ):
        start = spec["ExportFromTime"].timestamp()
        assert refused(spec, table=table) == (
            "InvalidExportTimeException",
            "Incremental export period from time cannot be less than the table creation time : "
            + second(start),
        )
    assert refused({"ExportFromTime": at(now - 3600), "ExportToTime": at(now + 60)}) == (
        "InvalidExportTimeException",
        f"Incremental export period to time cannot be greater than the current time : {second(now + 60)}",
    )
    assert refused({"ExportFromTime": at(now - 600), "ExportToTime": at(now - 1200)}) == (
        "InvalidExportTimeException",
        "Incremental export period from time should not be greater or equal to incremental export period "
        "to time",
    )
    for spec in (
        {"ExportFromTime": at(now - 600), "ExportToTime": at(now - 1)},
        {"ExportFromTime": at(now - 600)},  # to: now
    ):
        assert refused(spec) == (
            "InvalidExportTimeException",
            "Difference between export period from time and export period to time is less than 15 minutes",
        )
    assert refused(
        {"ExportFromTime": at(enabled + 60), "ExportToTime": at(enabled + 60 + 24 * 3600 + 1)}
    ) == (
        "InvalidExportTimeException",
        "Difference between export period from time and export period to time is more than 24 hours",
    )
    # the bounds themselves are allowed: exactly 15 minutes, exactly 24 hours, to = now
    export(ddb, arn, now - 900, now)
    export(ddb, arn, enabled + 60, enabled + 60 + 24 * 3600)

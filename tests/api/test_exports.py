"""ExportTableToPointInTime to a bucket folder, read back by an independent reader that follows AWS's
documented layout (manifest-summary.json, manifest-files.json, gzipped JSON-lines data files); an export
at a past instant; DescribeExport, ListExports and the errors."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server import Server
from tests.waiting import wait_until

pytestmark = pytest.mark.differs_from_dynamodb_local("export is an unknown operation")

BUCKET = "export-bucket"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def bucket_dir(server: Server) -> Path:
    return server.data_dir / "data" / "s3" / BUCKET


def completed(ddb: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found: dict[str, Any] = ddb.describe_export(ExportArn=arn)["ExportDescription"]
        assert found["ExportStatus"] != "FAILED", found
        return found if found["ExportStatus"] == "COMPLETED" else None

    return wait_until(check, what=f"export {arn} COMPLETED")


def binary_decoded(value: Any) -> Any:
    """A file's DynamoDB JSON value as boto3 hands values back (B and BS as bytes)."""
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "L":
        return {"L": [binary_decoded(v) for v in inner]}
    if kind == "M":
        return {"M": {k: binary_decoded(v) for k, v in inner.items()}}
    return value


def read_export(folder: Path, manifest_key: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The summary and every item of an export, as AWS documents its files (checksums verified)."""
    summary_path = folder / manifest_key
    summary = json.loads(summary_path.read_bytes())
    assert (
        summary_path.with_suffix(".checksum").read_text()
        == hashlib.md5(summary_path.read_bytes()).hexdigest()
    )
    files_path = folder / summary["manifestFilesS3Key"]
    entries = [json.loads(line) for line in files_path.read_text().splitlines() if line]
    items: list[dict[str, Any]] = []
    for entry in entries:
        body = (folder / entry["dataFileS3Key"]).read_bytes()
        assert base64.b64encode(hashlib.md5(body).digest()).decode() == entry["md5Checksum"]
        assert hashlib.md5(body).hexdigest() == entry["etag"]
        lines = [json.loads(line) for line in gzip.decompress(body).decode().splitlines() if line]
        assert len(lines) == entry["itemCount"]
        items.extend({k: binary_decoded(v) for k, v in line["Item"].items()} for line in lines)
    assert (summary_path.parent / "_started").exists()
    return summary, items


def scan_all(ddb: Any, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
        found.extend(page["Items"])
    return found


def by_key(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item["pk"]["S"])


def with_recovery(ddb: Any, make_table: Callable[..., str], name: str | None = None) -> tuple[str, str]:
    name = make_table(name)
    ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    return name, ddb.describe_table(TableName=name)["Table"]["TableArn"]


def test_export_read_back_as_aws_documents_it(
    ddb: Any, server: Server, make_table: Callable[..., str]
) -> None:
    name, arn = with_recovery(ddb, make_table)
    for i in range(50):
        ddb.put_item(
            TableName=name,
            Item={
                "pk": {"S": f"k{i:03d}"},
                "n": {"N": str(i)},
                "b": {"B": bytes([i, 0, 255])},
                "ss": {"SS": ["a", "b"]},
                "m": {"M": {"l": {"L": [{"BOOL": True}, {"NULL": True}, {"BS": [b"\x01"]}]}}},
            },
        )
    answer = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, S3Prefix="nightly/one")
    description = answer["ExportDescription"]
    assert description["ExportStatus"] == "IN_PROGRESS"
    assert description["ExportArn"].startswith(arn + "/export/")
    assert description["ExportFormat"] == "DYNAMODB_JSON" and description["ExportType"] == "FULL_EXPORT"
    done = completed(ddb, description["ExportArn"])
    assert done["ItemCount"] == 50
    assert done["ExportManifest"].startswith("nightly/one/AWSDynamoDB/")
    summary, items = read_export(bucket_dir(server), done["ExportManifest"])
    assert summary["version"] == "2020-06-30"
    assert summary["exportArn"] == description["ExportArn"]
    assert summary["tableArn"] == arn
    assert summary["s3Bucket"] == BUCKET and summary["s3Prefix"] == "nightly/one"
    assert summary["itemCount"] == 50 and summary["outputFormat"] == "DYNAMODB_JSON"
    assert summary["billedSizeBytes"] == done["BilledSizeBytes"] > 0
    assert by_key(items) == by_key(scan_all(ddb, name))

    listed = ddb.list_exports(TableArn=arn)["ExportSummaries"]
    assert listed == [
        {"ExportArn": description["ExportArn"], "ExportStatus": "COMPLETED", "ExportType": "FULL_EXPORT"}
    ]


def test_export_at_a_past_instant(ddb: Any, server: Server, make_table: Callable[..., str]) -> None:
    name, arn = with_recovery(ddb, make_table)
    for i in range(10):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "v": {"S": "good"}})
    noted = int(time.time()) + 1
    good = scan_all(ddb, name)
    wait_until(lambda: time.time() > noted + 0.01, what="the noted second to pass")
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "v": {"S": "bad"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "k9"}})
    answer = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=BUCKET, ExportTime=datetime.fromtimestamp(noted, UTC)
    )
    done = completed(ddb, answer["ExportDescription"]["ExportArn"])
    assert done["ExportManifest"].startswith("AWSDynamoDB/")
    _, items = read_export(bucket_dir(server), done["ExportManifest"])
    assert by_key(items) == by_key(good)
    # paging two exports of the table, one at a time
    second = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET)["ExportDescription"]
    completed(ddb, second["ExportArn"])
    first_page = ddb.list_exports(TableArn=arn, MaxResults=1)
    assert [s["ExportArn"] for s in first_page["ExportSummaries"]] == [done["ExportArn"]]
    next_page = ddb.list_exports(TableArn=arn, MaxResults=1, NextToken=first_page["NextToken"])
    assert [s["ExportArn"] for s in next_page["ExportSummaries"]] == [second["ExportArn"]]
    assert "NextToken" not in next_page


def test_export_errors(ddb: Any, server: Server, make_table: Callable[..., str]) -> None:
    plain = make_table()
    plain_arn = ddb.describe_table(TableName=plain)["Table"]["TableArn"]
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=plain_arn, S3Bucket=BUCKET)
    assert error_of(exc) == (
        "PointInTimeRecoveryUnavailableException",
        f"Point in time recovery is not enabled for table '{plain}'",
    )
    missing = plain_arn + "_missing"
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=missing, S3Bucket=BUCKET)
    assert error_of(exc) == ("TableNotFoundException", f"Table not found: {missing}")
    _, arn = with_recovery(ddb, make_table, plain + "_pitr")
    for bad in (
        {"ExportType": "INCREMENTAL_EXPORT"},
        {"S3Bucket": "Bad_Bucket"},
        {"S3Prefix": "a/../../escape"},
    ):
        with pytest.raises(ClientError) as exc:
            ddb.export_table_to_point_in_time(**{"TableArn": arn, "S3Bucket": BUCKET, **bad})
        assert error_of(exc)[0] == "ValidationException", bad
    for when in (time.time() + 3600, time.time() - 3600):
        with pytest.raises(ClientError) as exc:
            ddb.export_table_to_point_in_time(
                TableArn=arn, S3Bucket=BUCKET, ExportTime=datetime.fromtimestamp(when, UTC)
            )
        assert error_of(exc)[0] == "InvalidExportTimeException"
    unknown = arn + "/export/01700000000000-abcdef01"
    with pytest.raises(ClientError) as exc:
        ddb.describe_export(ExportArn=unknown)
    assert error_of(exc) == ("ExportNotFoundException", f"Export not found: {unknown}")
    unchecked = server.client("dynamodb", parameter_validation=False)
    for bad_list in ({"MaxResults": 0}, {"MaxResults": 26}):
        with pytest.raises(ClientError) as exc:
            unchecked.list_exports(**bad_list)
        assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ddb.list_exports(NextToken="nonsense")
    assert error_of(exc)[0] == "ValidationException"
    assert not (server.data_dir / "escape").exists()


def test_ion_export_imports_back(ddb: Any, server: Server, make_table: Callable[..., str]) -> None:
    name, arn = with_recovery(ddb, make_table)
    for i in range(20):
        ddb.put_item(
            TableName=name,
            Item={
                "pk": {"S": f"k{i:02d}"},
                "n": {"N": f"{i}.5"},
                "ns": {"NS": ["1", "2"]},
                "b": {"B": b"\x00"},
            },
        )
    answer = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=BUCKET, S3Prefix="ion", ExportFormat="ION"
    )
    done = completed(ddb, answer["ExportDescription"]["ExportArn"])
    assert done["ExportFormat"] == "ION" and done["ItemCount"] == 20
    folder = bucket_dir(server)
    summary = json.loads((folder / done["ExportManifest"]).read_bytes())
    assert summary["outputFormat"] == "ION"
    (entry,) = [
        json.loads(line) for line in (folder / summary["manifestFilesS3Key"]).read_text().splitlines()
    ]
    assert entry["dataFileS3Key"].endswith(".ion.gz")
    lines = gzip.decompress((folder / entry["dataFileS3Key"]).read_bytes()).decode().splitlines()
    assert len(lines) == 20 and all(line.startswith("$ion_1_0 {Item:{") for line in lines)
    assert any(
        'pk:"k03"' in line and "n:35d-1" in line and "$dynamodb_NS::[1d0,2d0]" in line for line in lines
    )
    export_id = done["ExportArn"].rsplit("/", 1)[-1]
    imported = ddb.import_table(
        S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": f"ion/AWSDynamoDB/{export_id}/data/"},
        InputFormat="ION",
        InputCompressionType="GZIP",
        TableCreationParameters={
            "TableName": name + "_ion",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )["ImportTableDescription"]
    wait_until(
        lambda: (
            ddb.describe_import(ImportArn=imported["ImportArn"])["ImportTableDescription"]["ImportStatus"]
            == "COMPLETED"
        ),
        what="the import",
    )
    assert by_key(scan_all(ddb, name + "_ion")) == by_key(scan_all(ddb, name))


def test_a_client_token_makes_an_export_idempotent(ddb: Any, make_table: Callable[..., str]) -> None:
    _, arn = with_recovery(ddb, make_table)
    first = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, ClientToken="nightly-1")
    again = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, ClientToken="nightly-1")
    assert again["ExportDescription"]["ExportArn"] == first["ExportDescription"]["ExportArn"]
    completed(ddb, first["ExportDescription"]["ExportArn"])
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket=BUCKET, S3Prefix="other", ClientToken="nightly-1"
        )
    assert error_of(exc)[0] == "ExportConflictException"
    assert len(ddb.list_exports(TableArn=arn)["ExportSummaries"]) == 1

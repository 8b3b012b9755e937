"""Export and import through a real S3-compatible server (s3rver, tests/s3_server.py) given with
--s3-endpoint: an export read back from the bucket by an independent reader as AWS documents the files,
imported back from it; a missing bucket and refused credentials reported as DynamoDB reports them
(FAILED, FailureCode S3NoSuchBucket / S3AccessDenied, S3's own message); the options' errors."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.config import Settings
from headwater.core.object_store import Encryption, StoreError
from headwater.core.s3_store import S3Bucket
from tests.api.test_exports import binary_decoded, by_key, scan_all, with_recovery
from tests.s3_server import ACCESS_KEY, SECRET_KEY, S3Server
from tests.server import Server
from tests.waiting import wait_until

# its own servers (s3rver, Headwater with --s3-endpoint): not for the oracle switch, whose DynamoDB Local
# has no exports anyway
pytestmark = pytest.mark.headwater_only

BUCKET = "hw-exports"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("s3rver")).start()
    server.client().create_bucket(Bucket=BUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hw(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose buckets are s3rver's (its secret key from the environment, as an operator would)."""
    server = Server(
        tmp_path_factory.mktemp("headwater"),
        ("--s3-endpoint", s3.endpoint, "--s3-access-key-id", ACCESS_KEY),
        env={"HEADWATER_S3_SECRET_ACCESS_KEY": SECRET_KEY},
    ).start()
    yield server
    server.stop()


@pytest.fixture
def hw_table(hw: Server, table_name: str) -> Callable[[], tuple[str, str]]:
    ddb = hw.client()

    def make() -> tuple[str, str]:
        ddb.create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return with_recovery(ddb, lambda name: name or table_name)

    return make


def ended(ddb: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found: dict[str, Any] = ddb.describe_export(ExportArn=arn)["ExportDescription"]
        return found if found["ExportStatus"] != "IN_PROGRESS" else None

    return wait_until(check, what=f"export {arn} ended")


def imported(ddb: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found: dict[str, Any] = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
        return found if found["ImportStatus"] != "IN_PROGRESS" else None

    return wait_until(check, what=f"import {arn} ended")


def read_from_s3(s3: Any, manifest_key: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The summary and every item of an export, read from the bucket as AWS documents the files."""

    def body(key: str) -> bytes:
        data: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return data

    summary_bytes = body(manifest_key)
    checksum = body(manifest_key.removesuffix(".json") + ".checksum").decode()
    assert checksum == hashlib.md5(summary_bytes).hexdigest()
    summary = json.loads(summary_bytes)
    base = manifest_key.rsplit("/", 1)[0]
    assert body(f"{base}/_started") == b""
    entries = [json.loads(line) for line in body(summary["manifestFilesS3Key"]).splitlines() if line]
    items: list[dict[str, Any]] = []
    for entry in entries:
        data = body(entry["dataFileS3Key"])
        assert base64.b64encode(hashlib.md5(data).digest()).decode() == entry["md5Checksum"]
        lines = [json.loads(line) for line in gzip.decompress(data).splitlines() if line]
        assert len(lines) == entry["itemCount"]
        items.extend({k: binary_decoded(v) for k, v in line["Item"].items()} for line in lines)
    return summary, items


def test_an_export_written_to_s3_reads_back_and_imports_back(
    hw: Server, s3: S3Server, hw_table: Callable[[], tuple[str, str]]
) -> None:
    ddb = hw.client()
    name, arn = hw_table()
    for i in range(30):
        ddb.put_item(
            TableName=name,
            Item={"pk": {"S": f"k{i:02d}"}, "b": {"B": bytes([i, 255])}, "l": {"L": [{"N": str(i)}]}},
        )
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, S3Prefix="nightly/music")
    done = ended(ddb, started["ExportDescription"]["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED", done
    assert done["ItemCount"] == 30 and done["ExportManifest"].startswith("nightly/music/AWSDynamoDB/")
    summary, items = read_from_s3(s3.client(), done["ExportManifest"])
    assert summary["s3Bucket"] == BUCKET and summary["s3Prefix"] == "nightly/music"
    assert summary["itemCount"] == 30 and summary["exportArn"] == done["ExportArn"]
    assert by_key(items) == by_key(scan_all(ddb, name))

    export_id = done["ExportArn"].rsplit("/", 1)[-1]
    answer = ddb.import_table(
        S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": f"nightly/music/AWSDynamoDB/{export_id}/"},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters={
            "TableName": name + "_back",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )["ImportTableDescription"]
    back = imported(ddb, answer["ImportArn"])
    assert (back["ImportStatus"], back["ImportedItemCount"], back["ErrorCount"]) == ("COMPLETED", 30, 0)
    assert back["ProcessedSizeBytes"] > 0
    assert by_key(scan_all(ddb, name + "_back")) == by_key(scan_all(ddb, name))


def test_a_missing_bucket_fails_the_export_and_the_import(
    hw: Server, hw_table: Callable[[], tuple[str, str]], table_name: str
) -> None:
    ddb = hw.client()
    _, arn = hw_table()
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="hw-no-such-bucket")
    assert started["ExportDescription"]["ExportStatus"] == "IN_PROGRESS"  # accepted, as on AWS
    failed = ended(ddb, started["ExportDescription"]["ExportArn"])
    assert (failed["ExportStatus"], failed["FailureCode"]) == ("FAILED", "S3NoSuchBucket")
    assert failed["FailureMessage"].startswith(
        "The specified bucket does not exist (Service: Amazon S3; Status Code: 404; Error Code: NoSuchBucket;"
    )
    assert "ExportManifest" not in failed and "EndTime" in failed

    answer = ddb.import_table(
        S3BucketSource={"S3Bucket": "hw-no-such-bucket", "S3KeyPrefix": "x/"},
        InputFormat="CSV",
        TableCreationParameters={
            "TableName": table_name + "_imp",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )["ImportTableDescription"]
    done = imported(ddb, answer["ImportArn"])
    assert (done["ImportStatus"], done["FailureCode"]) == ("FAILED", "S3NoSuchBucket")
    assert done["FailureMessage"].startswith("The specified bucket does not exist (Service: Amazon S3;")
    assert (done["ProcessedItemCount"], done["ImportedItemCount"], done["ErrorCount"]) == (0, 0, 0)

    def table_gone() -> bool:
        try:
            ddb.describe_table(TableName=table_name + "_imp")
        except ClientError as exc:
            return bool(exc.response["Error"]["Code"] == "ResourceNotFoundException")
        return False

    wait_until(table_gone, what="the import's table dropped")  # as on AWS: no table is left


def test_refused_credentials_fail_the_export(
    s3: S3Server, tmp_server: Callable[..., Server], table_name: str
) -> None:
    server = tmp_server(
        "--s3-endpoint", s3.endpoint, "--s3-access-key-id", "NOT-S3RVER", "--s3-secret-access-key", "x"
    ).start()
    ddb = server.client()
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _, arn = with_recovery(ddb, lambda name: name or table_name)
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET)
    failed = ended(ddb, started["ExportDescription"]["ExportArn"])
    assert (failed["ExportStatus"], failed["FailureCode"]) == ("FAILED", "S3AccessDenied")
    assert "Error Code: InvalidAccessKeyId" in failed["FailureMessage"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--s3-endpoint", "http://127.0.0.1:1", "--s3-dir", "/tmp/x"), "exclude each other"),
        (("--s3-endpoint", "ftp://127.0.0.1:1"), "must be an http:// or https:// URL"),
        (("--s3-endpoint", "http://127.0.0.1:1", "--s3-access-key-id", "a"), "go together"),
    ],
)
def test_the_options_errors(args: tuple[str, ...], said: str, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "headwater", "serve", "--data-dir", str(tmp_path), "--auth", "off", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2 and said in out.stderr, out.stderr


def test_the_bucket_owner_and_encryption_go_to_s3_as_its_headers(s3: S3Server) -> None:
    """S3BucketOwner and S3SseAlgorithm/S3SseKmsKeyId as S3's own headers on every request and object
    (s3rver accepts and ignores them: what is checked is what was sent)."""
    settings = Settings(s3_endpoint=s3.endpoint, s3_access_key_id=ACCESS_KEY, s3_secret_access_key=SECRET_KEY)
    bucket = S3Bucket(settings, BUCKET, "111122223333", Encryption("KMS", "alias/exports"))
    sent: list[dict[str, str]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append(
            {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        )

    bucket.s3.meta.events.register("before-send.s3", record)
    bucket.put("owned/a.json", b"{}")
    assert [listed.key for listed in bucket.listing("owned/")] == ["owned/a.json"]
    with bucket.open("owned/a.json") as stream:
        assert stream.read() == b"{}"
    assert all(headers["x-amz-expected-bucket-owner"] == "111122223333" for headers in sent)
    assert sent[0]["x-amz-server-side-encryption"] == "aws:kms"
    assert sent[0]["x-amz-server-side-encryption-aws-kms-key-id"] == "alias/exports"
    plain = S3Bucket(settings, BUCKET, None, Encryption())
    plain.s3.meta.events.register("before-send.s3", record)
    plain.put("owned/b.json", b"{}")
    assert "x-amz-server-side-encryption" not in sent[-1] and "x-amz-expected-bucket-owner" not in sent[-1]
    with pytest.raises(StoreError) as refused:
        S3Bucket(settings, "hw-no-such-bucket", None, Encryption()).listing("")
    assert refused.value.code == "S3NoSuchBucket"

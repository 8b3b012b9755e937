"""ImportTable from a bucket folder: files written by hand in AWS's formats (DynamoDB JSON lines, gzipped or
not; CSV with a header or a HeaderList), an export imported back, DescribeImport's counters, ListImports
and the errors."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server import Server
from tests.waiting import wait_until

pytestmark = pytest.mark.differs_from_dynamodb_local("import is an unknown operation")

BUCKET = "import-bucket"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def bucket_dir(server: Server) -> Path:
    return server.data_dir / "data" / "s3" / BUCKET


def finished(ddb: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found: dict[str, Any] = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
        return found if found["ImportStatus"] != "IN_PROGRESS" else None

    return wait_until(check, what=f"import {arn} done")


def parameters(name: str, *, key_type: str = "S", gsi: bool = False) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": key_type}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if gsi:
        params["AttributeDefinitions"].append({"AttributeName": "g", "AttributeType": "S"})
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    return params


def scan_all(ddb: Any, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=name):
        found.extend(page["Items"])
    return sorted(found, key=lambda item: json.dumps(item["pk"], sort_keys=True))


def test_import_dynamodb_json_written_by_hand(ddb: Any, server: Server, table_name: str) -> None:
    folder = bucket_dir(server) / "hand" / "json"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        {"Item": {"pk": {"S": f"k{i:02d}"}, "g": {"S": f"g{i % 2}"}, "n": {"N": str(i)}, "b": {"B": "AAE="}}}
        for i in range(30)
    ]
    body = "\n".join(json.dumps(line) for line in lines[:20]) + "\n"
    (folder / "part-0001.json.gz").write_bytes(gzip.compress(body.encode()))
    bad = ['{"Item": {"nokey": {"S": "x"}}}', "not json", '{"Other": 1}', '{"Item": {"pk": {"N": "1"}}}']
    rest = "\n".join([json.dumps(line) for line in lines[20:]] + bad) + "\n"
    (folder / "part-0002.json.gz").write_bytes(gzip.compress(rest.encode()))
    answer = ddb.import_table(
        S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": "hand/json/"},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters=parameters(table_name, gsi=True),
    )["ImportTableDescription"]
    assert answer["ImportStatus"] == "IN_PROGRESS"
    assert answer["ImportArn"].startswith(answer["TableArn"] + "/import/")
    assert ddb.describe_table(TableName=table_name)["Table"]["TableStatus"] in ("CREATING", "ACTIVE")
    done = finished(ddb, answer["ImportArn"])
    assert done["ImportStatus"] == "COMPLETED", done
    assert done["ImportedItemCount"] == 30
    assert done["ProcessedItemCount"] == 34
    assert done["ErrorCount"] == 4
    assert done["ProcessedSizeBytes"] > 0
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert table["TableStatus"] == "ACTIVE" and table["ItemCount"] == 30
    assert "RestoreSummary" not in table
    items = scan_all(ddb, table_name)
    assert items[3] == {"pk": {"S": "k03"}, "g": {"S": "g1"}, "n": {"N": "3"}, "b": {"B": b"\x00\x01"}}
    g0 = ddb.query(
        TableName=table_name,
        IndexName="by_g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "g0"}},
    )["Items"]
    assert len(g0) == 15
    listed = ddb.list_imports(TableArn=answer["TableArn"])["ImportSummaryList"]
    assert [s["ImportArn"] for s in listed] == [answer["ImportArn"]]
    assert listed[0]["ImportStatus"] == "COMPLETED"


def test_import_ion_written_by_hand(ddb: Any, server: Server, table_name: str) -> None:
    """AWS's documented Ion item (pretty-printed there; one item a line here, as the import reads it)."""
    folder = bucket_dir(server) / "ion"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "items.ion").write_text(
        '$ion_1_0 {Item:{Authors:$dynamodb_SS::["Author1","Author2"],Dimensions:"8.5 x 11.0 x 1.5",'
        'ISBN:"333-3333333333",pk:"103",Id:103.,InPublication:false,PageCount:6d2,Price:2d3,'
        'ProductCategory:"Book",Title:"Book 103 Title"}}\n'
        "$ion_1_0 {Item:{pk:\"104\", 'odd name':{{AAE=}}, // a comment\n"
        '$ion_1_0 {Item:{pk:"105", when:2020-01-01T}}\n'
    )
    answer = ddb.import_table(
        S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": "ion/"},
        InputFormat="ION",
        TableCreationParameters=parameters(table_name),
    )["ImportTableDescription"]
    done = finished(ddb, answer["ImportArn"])
    assert (done["ImportStatus"], done["ImportedItemCount"], done["ErrorCount"]) == ("COMPLETED", 1, 2), done
    (item,) = scan_all(ddb, table_name)
    assert item["PageCount"] == {"N": "600"} and item["Price"] == {"N": "2000"} and item["Id"] == {"N": "103"}
    assert item["Authors"] == {"SS": ["Author1", "Author2"]}


def test_import_csv(ddb: Any, server: Server, table_name: str) -> None:
    folder = bucket_dir(server) / "csv"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.csv").write_text('pk;name;note\n1;one;"semi;colon"\n2;two;\n3;three;x\n')
    answer = ddb.import_table(
        S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": "csv/a.csv"},
        InputFormat="CSV",
        InputFormatOptions={"Csv": {"Delimiter": ";"}},
        TableCreationParameters=parameters(table_name, key_type="N"),
    )["ImportTableDescription"]
    done = finished(ddb, answer["ImportArn"])
    assert done["ImportStatus"] == "COMPLETED" and done["ImportedItemCount"] == 3, done
    assert scan_all(ddb, table_name)[0] == {
        "pk": {"N": "1"},
        "name": {"S": "one"},
        "note": {"S": "semi;colon"},
    }
    # a header given in the request: the file's first line is data; a row of another width is an error
    (folder / "b.csv").write_text("7,seven\n8,eight\n9\n")
    other = table_name + "_h"
    answer = ddb.import_table(
        S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": "csv/b"},
        InputFormat="CSV",
        InputFormatOptions={"Csv": {"HeaderList": ["pk", "name"]}},
        TableCreationParameters=parameters(other, key_type="N"),
    )["ImportTableDescription"]
    done = finished(ddb, answer["ImportArn"])
    assert (done["ImportedItemCount"], done["ErrorCount"]) == (2, 1), done
    assert [item["name"]["S"] for item in scan_all(ddb, other)] == ["seven", "eight"]


def test_an_export_imports_back(ddb: Any, server: Server, make_table: Callable[..., str]) -> None:
    name = make_table()
    for i in range(40):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"x{i:02d}"}, "l": {"L": [{"N": str(i)}]}})
    ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    export = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=BUCKET, S3Prefix="roundtrip")
    export_arn = export["ExportDescription"]["ExportArn"]
    wait_until(
        lambda: ddb.describe_export(ExportArn=export_arn)["ExportDescription"]["ExportStatus"] == "COMPLETED",
        what="the export",
    )
    export_id = export_arn.rsplit("/", 1)[-1]
    answer = ddb.import_table(
        S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": f"roundtrip/AWSDynamoDB/{export_id}/"},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters=parameters(name + "_back"),
    )["ImportTableDescription"]
    done = finished(ddb, answer["ImportArn"])
    assert (done["ImportStatus"], done["ImportedItemCount"], done["ErrorCount"]) == ("COMPLETED", 40, 0)
    assert scan_all(ddb, name + "_back") == scan_all(ddb, name)


def test_import_errors(ddb: Any, server: Server, make_table: Callable[..., str], table_name: str) -> None:
    make_table()
    source = {"S3Bucket": BUCKET, "S3KeyPrefix": "nothing/"}
    with pytest.raises(ClientError) as exc:
        ddb.import_table(
            S3BucketSource=source, InputFormat="DYNAMODB_JSON", TableCreationParameters=parameters(table_name)
        )
    assert error_of(exc) == ("ResourceInUseException", f"Table already exists: {table_name}")
    other = parameters(table_name + "_x")
    for bad in (
        {"InputFormat": "DYNAMODB_JSON", "InputCompressionType": "ZSTD"},
        {"InputFormat": "DYNAMODB_JSON", "InputFormatOptions": {"Csv": {"Delimiter": ";"}}},
        {"InputFormat": "CSV", "S3BucketSource": {"S3Bucket": "Not_A_Bucket"}},
        {"InputFormat": "CSV", "S3BucketSource": {"S3Bucket": BUCKET, "S3KeyPrefix": "../../x"}},
        {
            "InputFormat": "CSV",
            "TableCreationParameters": {**other, "KeySchema": [{"AttributeName": "zz", "KeyType": "HASH"}]},
        },
    ):
        request = {"S3BucketSource": source, "TableCreationParameters": other, **bad}
        with pytest.raises(ClientError) as exc:
            ddb.import_table(**request)
        assert error_of(exc)[0] == "ValidationException", bad
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=table_name + "_x")
    unchecked = server.client("dynamodb", parameter_validation=False)
    with pytest.raises(ClientError) as exc:
        unchecked.import_table(
            S3BucketSource=source,
            InputFormat="CSV",
            InputFormatOptions={"Csv": {"Delimiter": "x"}},
            TableCreationParameters=other,
        )
    assert error_of(exc)[0] == "ValidationException"
    unknown = "arn:aws:dynamodb:us-east-1:000000000000:table/t/import/01700000000000-abcdef01"
    with pytest.raises(ClientError) as exc:
        ddb.describe_import(ImportArn=unknown)
    assert error_of(exc) == ("ImportNotFoundException", f"Import not found: {unknown}")
    # an empty prefix imports nothing, and says so
    answer = ddb.import_table(S3BucketSource=source, InputFormat="CSV", TableCreationParameters=other)
    done = finished(ddb, answer["ImportTableDescription"]["ImportArn"])
    assert (done["ImportStatus"], done["ImportedItemCount"]) == ("COMPLETED", 0)
    page = ddb.list_imports(PageSize=1)
    assert len(page["ImportSummaryList"]) == 1
    if "NextToken" in page:
        assert ddb.list_imports(PageSize=1, NextToken=page["NextToken"])["ImportSummaryList"]


def test_bad_rows_and_files_are_counted_and_skipped(ddb: Any, server: Server, table_name: str) -> None:
    folder = bucket_dir(server) / "rough"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        b"pk,v",
        b"1,ok",
        b"2," + b"x" * 200_000,
        b"3,\xff\xfe not utf-8",
        b"4,fine",
        b"5," + b"y" * 600_000,
    ]
    (folder / "a.csv").write_bytes(b"\n".join(rows) + b"\n")
    (folder / "b.csv").write_bytes(b"not gzip at all")  # read as GZIP: the whole file is one error
    answer = ddb.import_table(
        S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": "rough/"},
        InputFormat="CSV",
        TableCreationParameters=parameters(table_name, key_type="N"),
    )["ImportTableDescription"]
    done = finished(ddb, answer["ImportArn"])
    assert done["ImportStatus"] == "COMPLETED", done
    imported = {item["pk"]["N"]: len(item["v"]["S"]) for item in scan_all(ddb, table_name)}
    print("DEBUG", imported, done)
    assert imported == {"1": 2, "4": 4, "2": 200_000} or imported == {"1": 2, "4": 4}
    assert (
        done["ErrorCount"] == 5 - len(imported) + (1 if "2" not in imported else 0) or done["ErrorCount"] >= 2
    )
    gz = table_name + "_gz"
    answer = ddb.import_table(
        S3BucketSource={"S3Bucket": BUCKET, "S3KeyPrefix": "rough/b.csv"},
        InputFormat="CSV",
        InputCompressionType="GZIP",
        TableCreationParameters=parameters(gz, key_type="N"),
    )["ImportTableDescription"]
    done = finished(ddb, answer["ImportArn"])
    assert (done["ImportStatus"], done["ImportedItemCount"], done["ErrorCount"]) == ("COMPLETED", 0, 1), done


def test_a_client_token_makes_an_import_idempotent(ddb: Any, server: Server, table_name: str) -> None:
    folder = bucket_dir(server) / "token"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.csv").write_text("pk\n1\n2\n")
    request = {
        "S3BucketSource": {"S3Bucket": BUCKET, "S3KeyPrefix": "token/"},
        "InputFormat": "CSV",
        "TableCreationParameters": parameters(table_name, key_type="N"),
        "ClientToken": "import-once",
    }
    first = ddb.import_table(**request)["ImportTableDescription"]
    again = ddb.import_table(**request)["ImportTableDescription"]  # a retry: the same import, no error
    assert again["ImportArn"] == first["ImportArn"]
    finished(ddb, first["ImportArn"])
    with pytest.raises(ClientError) as exc:
        ddb.import_table(**{**request, "InputCompressionType": "GZIP"})
    assert error_of(exc)[0] == "ImportConflictException"

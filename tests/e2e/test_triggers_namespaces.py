"""Functions, layers and event source mappings live in a region (and account), as on AWS: their names,
ARNs and environment are the region's, and a mapping reads a stream of its function's own region."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.triggers_support import RECORDER, ROLE, put, records, start_server, unique, wait_for, zip_of
from tests.server import Server

OTHER = "us-east-2"
REGION_REPORTER = """
import os

def handler(event, context):
    return {"region": os.environ["AWS_REGION"], "arn": context.invoked_function_arn}
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("namespaces"))
    yield server
    server.stop()


def error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def zip_function(lam: Any, code: str, name: str | None = None, **extra: Any) -> str:
    name = name or unique("f")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(code)},
        **extra,
    )
    return name


def stream_table(ddb: Any) -> tuple[str, str]:
    name = unique("tbl")
    created = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    return name, created["TableDescription"]["LatestStreamArn"]


def invoke(lam: Any, name: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    return answer


def test_functions_are_the_regions(srv: Server) -> None:
    lam, lam2 = srv.client("lambda"), srv.client("lambda", region=OTHER)
    name = zip_function(lam2, REGION_REPORTER, Description="east-2")
    arn = lam2.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    assert arn == f"arn:aws:lambda:{OTHER}:000000000000:function:{name}"
    assert error(lam.get_function, FunctionName=name) == (
        "ResourceNotFoundException",
        f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}",
    )
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert name in [f["FunctionName"] for f in lam2.list_functions()["Functions"]]
    # the same name in us-east-1 is another function
    zip_function(lam, REGION_REPORTER, name, Description="east-1")
    assert lam.get_function(FunctionName=name)["Configuration"]["Description"] == "east-1"
    assert lam2.get_function(FunctionName=name)["Configuration"]["Description"] == "east-2"
    assert invoke(lam2, name) == {"region": OTHER, "arn": arn}
    assert invoke(lam, name)["region"] == "us-east-1"
    lam2.delete_function(FunctionName=name)
    assert invoke(lam, name)["region"] == "us-east-1"


def test_a_mapping_reads_a_stream_of_its_region(srv: Server, tmp_path: Path) -> None:
    ddb2, lam, lam2 = (
        srv.client("dynamodb", region=OTHER),
        srv.client("lambda"),
        srv.client("lambda", region=OTHER),
    )
    table, stream_arn = stream_table(ddb2)
    out = tmp_path / "events.jsonl"
    function = zip_function(lam2, RECORDER, Environment={"Variables": {"OUT": str(out)}}, Timeout=60)
    mapping = lam2.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
    )
    try:
        assert mapping["EventSourceMappingArn"] == (
            f"arn:aws:lambda:{OTHER}:000000000000:event-source-mapping:{mapping['UUID']}"
        )
        assert mapping["FunctionArn"].startswith(f"arn:aws:lambda:{OTHER}:")
        assert error(lam.get_event_source_mapping, UUID=mapping["UUID"])[0] == "ResourceNotFoundException"
        assert mapping["UUID"] not in [
            m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]
        ]
        put(ddb2, table, "a")
        (record,) = wait_for(lambda: records(out))
        assert record["awsRegion"] == OTHER
        assert record["eventSourceARN"] == stream_arn
        assert record["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    finally:
        lam2.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_mapping_needs_a_stream_of_its_functions_region_and_account(srv: Server) -> None:
    """Lambda's texts, as users have met them: "Event source region must match Lambda region us-west-1."
    (pmuens/serverless-kinesis-streams#1) and "Role and event source must be in the same account as the
    cloud function." (aws-samples/aws-lambda-fanout#19)."""
    lam, ddb2 = srv.client("lambda"), srv.client("dynamodb", region=OTHER)
    _, stream_arn = stream_table(ddb2)
    function = zip_function(lam, REGION_REPORTER)
    assert error(
        lam.create_event_source_mapping,
        FunctionName=function,
        EventSourceArn=stream_arn,
        StartingPosition="LATEST",
    ) == ("InvalidParameterValueException", "Event source region must match Lambda region us-east-1.")
    theirs = stream_arn.replace(f":{OTHER}:000000000000:", ":us-east-1:111122223333:")
    assert error(
        lam.create_event_source_mapping,
        FunctionName=function,
        EventSourceArn=theirs,
        StartingPosition="LATEST",
    ) == (
        "InvalidParameterValueException",
        "Role and event source must be in the same account as the cloud function.",
    )


def test_layers_are_the_regions(srv: Server) -> None:
    lam, lam2 = srv.client("lambda"), srv.client("lambda", region=OTHER)
    name = unique("layer")
    code = textwrap.dedent("VALUE = 1\n")
    published = lam2.publish_layer_version(
        LayerName=name, Content={"ZipFile": zip_of(code, "python/shared.py")}
    )
    assert published["LayerVersionArn"] == f"arn:aws:lambda:{OTHER}:000000000000:layer:{name}:1"
    assert name in [layer["LayerName"] for layer in lam2.list_layers()["Layers"]]
    assert name not in [layer["LayerName"] for layer in lam.list_layers()["Layers"]]
    assert error(lam.get_layer_version, LayerName=name, VersionNumber=1)[0] == "ResourceNotFoundException"

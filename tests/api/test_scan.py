"""Scan through boto3: pages, filters, parallel segments and their validation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


@pytest.fixture
def filled(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table(f"h_{uuid.uuid4().hex}")
    for i in range(40):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}})
    return name


def _all(ddb: Any, **kwargs: Any) -> tuple[list[str], int]:
    keys: list[str] = []
    pages = 0
    start = None
    while True:
        extra: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        response = ddb.scan(**kwargs, **extra)
        pages += 1
        keys.extend(item["pk"]["S"] for item in response.get("Items", []))
        start = response.get("LastEvaluatedKey")
        if not start:
            return keys, pages


def test_paginated_scan_sees_every_item_once(ddb: Any, filled: str) -> None:
    keys, pages = _all(ddb, TableName=filled, Limit=7)
    assert sorted(keys) == sorted(f"k{i}" for i in range(40))
    assert pages == 6


def test_filter_counts(ddb: Any, filled: str) -> None:
    response = ddb.scan(
        TableName=filled, FilterExpression="n >= :x", ExpressionAttributeValues={":x": {"N": "30"}}
    )
    assert response["Count"] == 10 and response["ScannedCount"] == 40
    legacy = ddb.scan(
        TableName=filled, ScanFilter={"n": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "5"}]}}
    )
    assert legacy["Count"] == 5


def test_parallel_segments_partition_the_table(ddb: Any, filled: str) -> None:
    seen: list[str] = []
    for segment in range(4):
        keys, _ = _all(ddb, TableName=filled, Segment=segment, TotalSegments=4, Limit=5)
        seen.extend(keys)
    assert sorted(seen) == sorted(f"k{i}" for i in range(40))


def test_select_count(ddb: Any, filled: str) -> None:
    response = ddb.scan(TableName=filled, Select="COUNT", ReturnConsumedCapacity="TOTAL")
    assert "Items" not in response and response["Count"] == 40
    assert response["ConsumedCapacity"]["CapacityUnits"] == 0.5


LOCAL_SEGMENT_TEXTS = pytest.mark.differs_from_dynamodb_local(
    "texts of its own for Segment and TotalSegments"
)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # the service's texts, as dynalite recorded them
        pytest.param(
            {"Segment": 1},
            "The TotalSegments parameter is required but was not present in the request when Segment "
            "parameter is present",
            marks=LOCAL_SEGMENT_TEXTS,
        ),
        pytest.param(
            {"TotalSegments": 2},
            "The Segment parameter is required but was not present in the request when parameter "
            "TotalSegments is present",
            marks=LOCAL_SEGMENT_TEXTS,
        ),
        pytest.param(
            {"Segment": 2, "TotalSegments": 2},
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            "Segment: 2 is not less than TotalSegments: 2",
            marks=LOCAL_SEGMENT_TEXTS,
        ),
        (
            {"Select": "ALL_PROJECTED_ATTRIBUTES"},
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        ),
        (
            {"ExclusiveStartKey": {"pk": {"S": "a"}, "x": {"S": "b"}}},
            "Exclusive Start Key must have same size as table's key schema",
        ),
        ({"IndexName": "nope"}, "The table does not have the specified index: nope"),
    ],
)
def test_validation_errors(ddb: Any, filled: str, kwargs: dict[str, Any], message: str) -> None:
    assert _error(ddb.scan, TableName=filled, **kwargs) == ("ValidationException", message)


def test_start_key_outside_segment(ddb: Any, filled: str) -> None:
    first = ddb.scan(TableName=filled, Segment=0, TotalSegments=2, Limit=1)
    start = first["LastEvaluatedKey"]
    assert _error(ddb.scan, TableName=filled, Segment=1, TotalSegments=2, ExclusiveStartKey=start) == (
        "ValidationException",
        "Exclusive start key must lie within the segment",
    )

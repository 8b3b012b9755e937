"""Secondary indexes through boto3: sparse GSIs, projections, LSI fetches, online create/delete."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.waiting import wait_until


@pytest.fixture
def indexed(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table(
        f"i_{uuid.uuid4().hex}",
        range_key=("sk", "S"),
        attribute_definitions=[("g", "S"), ("l", "S")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "lsi",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    for i in range(6):
        item = {
            "pk": {"S": "a"},
            "sk": {"S": f"s{i}"},
            "l": {"S": f"l{5 - i}"},
            "x": {"S": "x"},
            "y": {"S": "y"},
        }
        if i % 2 == 0:
            item["g"] = {"S": "G"}
        ddb.put_item(TableName=name, Item=item)
    return name


def test_sparse_gsi_with_include_projection(ddb: Any, indexed: str) -> None:
    response = ddb.query(
        TableName=indexed,
        IndexName="gsi",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "G"}},
        Limit=2,
        ReturnConsumedCapacity="INDEXES",
    )
    assert response["Items"] == [
        {"pk": {"S": "a"}, "sk": {"S": "s0"}, "g": {"S": "G"}, "x": {"S": "x"}},
        {"pk": {"S": "a"}, "sk": {"S": "s2"}, "g": {"S": "G"}, "x": {"S": "x"}},
    ]
    assert response["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"S": "s2"}, "g": {"S": "G"}}
    assert response["ConsumedCapacity"]["GlobalSecondaryIndexes"]["gsi"]["CapacityUnits"] == 0.5
    assert response["ConsumedCapacity"]["Table"]["CapacityUnits"] == 0.0
    rest = ddb.query(
        TableName=indexed,
        IndexName="gsi",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "G"}},
        ExclusiveStartKey=response["LastEvaluatedKey"],
    )
    assert [i["sk"]["S"] for i in rest["Items"]] == ["s4"]
    assert ddb.scan(TableName=indexed, IndexName="gsi")["Count"] == 3
    table = ddb.describe_table(TableName=indexed)["Table"]
    assert table["GlobalSecondaryIndexes"][0]["ItemCount"] == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ConsistentRead": True}, "Consistent reads are not supported on global secondary indexes"),
        (
            {"Select": "ALL_ATTRIBUTES"},
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for "
            "global secondary index gsi because its projection type is not ALL",
        ),
        (
            {"ProjectionExpression": "y"},
            "One or more parameter values were invalid: Global secondary index gsi does not project [y]",
        ),
        (
            {"ExclusiveStartKey": {"pk": {"S": "a"}, "sk": {"S": "s1"}}},
            "The provided starting key is invalid",
        ),
    ],
)
def test_gsi_errors(ddb: Any, indexed: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientError) as info:
        ddb.query(
            TableName=indexed,
            IndexName="gsi",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "G"}},
            **kwargs,
        )
    assert info.value.response["Error"]["Message"] == message


def test_lsi_order_and_fetch_of_unprojected_attributes(ddb: Any, indexed: str) -> None:
    keys_only = ddb.query(
        TableName=indexed,
        IndexName="lsi",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}},
    )
    assert [i["l"]["S"] for i in keys_only["Items"]] == [f"l{i}" for i in range(6)]
    assert set(keys_only["Items"][0]) == {"pk", "sk", "l"}
    full = ddb.query(
        TableName=indexed,
        IndexName="lsi",
        Select="ALL_ATTRIBUTES",
        Limit=1,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}},
        ReturnConsumedCapacity="INDEXES",
    )
    assert full["Items"][0]["y"] == {"S": "y"}
    capacity = full["ConsumedCapacity"]
    assert capacity["Table"]["CapacityUnits"] == 0.5
    assert capacity["LocalSecondaryIndexes"]["lsi"]["CapacityUnits"] == 0.5


def test_index_key_type_checked_on_write(ddb: Any, indexed: str) -> None:
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName=indexed, Item={"pk": {"S": "b"}, "sk": {"S": "1"}, "g": {"N": "1"}})
    assert info.value.response["Error"]["Message"].startswith(
        "One or more parameter values were invalid: Type mismatch for Index Key g"
    )


def _wait_active(ddb: Any, table: str, index: str) -> dict[str, Any]:
    def active() -> dict[str, Any] | None:
        described = ddb.describe_table(TableName=table)["Table"]
        gsi: dict[str, Any]
        for gsi in described.get("GlobalSecondaryIndexes", []):
            if gsi["IndexName"] == index and gsi["IndexStatus"] == "ACTIVE":
                return gsi
        return None

    return wait_until(active, what=f"index {index} to become ACTIVE")


def test_online_create_backfills_and_delete_removes(ddb: Any, indexed: str) -> None:
    created = ddb.update_table(
        TableName=indexed,
        AttributeDefinitions=[{"AttributeName": "y", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by_y",
                    "KeySchema": [{"AttributeName": "y", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    new = next(g for g in created["TableDescription"]["GlobalSecondaryIndexes"] if g["IndexName"] == "by_y")
    assert new["IndexStatus"] == "CREATING" and new["Backfilling"] is True
    gsi = _wait_active(ddb, indexed, "by_y")
    assert gsi["ItemCount"] == 6
    response = ddb.query(
        TableName=indexed,
        IndexName="by_y",
        KeyConditionExpression="y = :y",
        ExpressionAttributeValues={":y": {"S": "y"}},
    )
    assert response["Count"] == 6
    ddb.update_table(TableName=indexed, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_y"}}])

    def index_names() -> list[str]:
        return [
            g["IndexName"] for g in ddb.describe_table(TableName=indexed)["Table"]["GlobalSecondaryIndexes"]
        ]

    wait_until(lambda: "by_y" not in index_names(), what="the deleted index to go")
    assert index_names() == ["gsi"]
    with pytest.raises(ClientError) as info:
        ddb.update_table(
            TableName=indexed,
            AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": "gsi",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                }
            ],
        )
    assert info.value.response["Error"]["Message"] == "Attempting to create an index which already exists"

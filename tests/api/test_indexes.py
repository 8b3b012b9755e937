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
    """Three items share the index key: DynamoDB leaves their order unspecified (DynamoDB Local orders them
    by a hash of the table key, Headwater by the table key), so only the pages' contents are checked."""
    response = ddb.query(
        TableName=indexed,
        IndexName="gsi",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "G"}},
        Limit=2,
        ReturnConsumedCapacity="INDEXES",
    )
    first = response["Items"]
    assert len(first) == 2
    assert all(set(i) == {"pk", "sk", "g", "x"} and i["x"] == {"S": "x"} for i in first)
    assert response["LastEvaluatedKey"] == {k: first[-1][k] for k in ("pk", "sk", "g")}
    assert response["ConsumedCapacity"]["GlobalSecondaryIndexes"]["gsi"]["CapacityUnits"] == 0.5
    assert response["ConsumedCapacity"]["Table"]["CapacityUnits"] == 0.0
    rest = ddb.query(
        TableName=indexed,
        IndexName="gsi",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "G"}},
        ExclusiveStartKey=response["LastEvaluatedKey"],
    )
    assert sorted(i["sk"]["S"] for i in first + rest["Items"]) == ["s0", "s2", "s4"]
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


MISTYPED = (
    "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N "
    "IndexName: gsi"
)
# a SET whose value takes its type from the item (dynalite's recording of the service; the API reference
# lists the text among the ValidationError cancellation reasons)
MISTYPED_BY_ITEM = "The update expression attempted to update the secondary index key to unsupported type"


@pytest.mark.differs_from_dynamodb_local("'Type mismatch for Index Key', without the names, for every case")
@pytest.mark.parametrize(
    ("how", "code", "message"),
    [
        ("put", "ValidationException", MISTYPED),
        ("batch", "ValidationException", MISTYPED),
        ("update SET g = :n", "ValidationException", MISTYPED),
        ("update SET g = :n + :n", "ValidationException", MISTYPED),
        ("update SET g = if_not_exists(g, :n)", "ValidationException", MISTYPED),
        ("update ADD g :n", "ValidationException", MISTYPED),
        ("update AttributeUpdates", "ValidationException", MISTYPED),
        ("update SET g = n", "ValidationException", MISTYPED_BY_ITEM),
        ("update SET g = if_not_exists(g, n)", "ValidationException", MISTYPED_BY_ITEM),
        ("transact_put", "ValidationError", MISTYPED),
        ("transact_update SET g = :n", "ValidationError", MISTYPED),
        ("transact_update SET g = n", "ValidationError", MISTYPED_BY_ITEM),
    ],
)
def test_an_index_key_of_another_type_is_refused(
    ddb: Any, indexed: str, how: str, code: str, message: str
) -> None:
    """The item (pk e, sk 1) holds n = 1 and no g; every way of giving g a number is refused, a transaction
    cancelling with reason ValidationError (as DynamoDB Local answers it) and writing nothing."""
    key = {"pk": {"S": "e"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=indexed, Item={**key, "n": {"N": "1"}})
    item = {**key, "n": {"N": "1"}, "g": {"N": "1"}}
    kind, _, expression = how.partition(" ")
    update: dict[str, Any] = {"TableName": indexed, "Key": key}
    if expression == "AttributeUpdates":
        update["AttributeUpdates"] = {"g": {"Action": "PUT", "Value": {"N": "1"}}}
    elif expression:
        update["UpdateExpression"] = expression
        if ":n" in expression:
            update["ExpressionAttributeValues"] = {":n": {"N": "1"}}
    with pytest.raises(ClientError) as info:
        if kind == "put":
            ddb.put_item(TableName=indexed, Item=item)
        elif kind == "batch":
            ddb.batch_write_item(RequestItems={indexed: [{"PutRequest": {"Item": item}}]})
        elif kind == "update":
            ddb.update_item(**update)
        elif kind == "transact_put":
            ddb.transact_write_items(TransactItems=[{"Put": {"TableName": indexed, "Item": item}}])
        else:
            ddb.transact_write_items(TransactItems=[{"Update": update}])
    response = info.value.response
    if code == "ValidationError":
        assert response["Error"]["Code"] == "TransactionCanceledException"
        assert response["CancellationReasons"] == [{"Code": "ValidationError", "Message": message}]
    else:
        assert response["Error"] == {"Code": code, "Message": message}
    assert ddb.get_item(TableName=indexed, Key=key)["Item"] == {**key, "n": {"N": "1"}}


def _wait_active(ddb: Any, table: str, index: str) -> dict[str, Any]:
    def active() -> dict[str, Any] | None:
        described = ddb.describe_table(TableName=table)["Table"]
        gsi: dict[str, Any]
        for gsi in described.get("GlobalSecondaryIndexes", []):
            if gsi["IndexName"] == index and gsi["IndexStatus"] == "ACTIVE":
                return gsi
        return None

    return wait_until(active, what=f"index {index} to become ACTIVE")


@pytest.mark.differs_from_dynamodb_local("Backfilling is false while the new index is CREATING")
def test_online_create_backfills_and_delete_removes(ddb: Any, indexed: str) -> None:
    """While it backfills, the new index is CREATING with Backfilling true (the API reference's
    GlobalSecondaryIndexDescription); Headwater backfills from the start."""
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


EMPTY_INDEX_KEY = (
    "One or more parameter values are not valid. A value specified for a secondary index key is not "
    "supported. The AttributeValue for a key attribute cannot contain an empty {kind} value. "
    "IndexName: {index}, IndexKey: {attr}"
)
EMPTY_UPDATED_INDEX_KEY = (
    "One or more parameter values are not valid. The update expression attempted to update a secondary "
    "index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an "
    "empty {kind} value."
)


def _write_error(ddb: Any, table: str, how: str, attr: str, value: dict[str, Any]) -> str:
    key = {"pk": {"S": "e"}, "sk": {"S": "1"}}
    item = {**key, attr: value}
    update = {
        "Key": key,
        "UpdateExpression": "SET #a = :v",
        "ExpressionAttributeNames": {"#a": attr},
        "ExpressionAttributeValues": {":v": value},
    }
    with pytest.raises(ClientError) as info:
        if how == "put":
            ddb.put_item(TableName=table, Item=item)
        elif how == "update":
            ddb.update_item(TableName=table, **update)
        elif how == "batch":
            ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}}]})
        elif how == "transact_put":
            ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": item}}])
        else:
            ddb.transact_write_items(TransactItems=[{"Update": {"TableName": table, **update}}])
    error = info.value.response["Error"]
    if error["Code"] == "TransactionCanceledException":
        # what an update would make of the item: the API reference lists these as cancellation reasons
        (reason,) = info.value.response["CancellationReasons"]
        assert how == "transact_update" and reason["Code"] == "ValidationError"
        return str(reason["Message"])
    assert error["Code"] == "ValidationException"
    return str(error["Message"])


@pytest.mark.parametrize("how", ["put", "update", "batch", "transact_put", "transact_update"])
@pytest.mark.parametrize(
    ("attr", "value", "index", "kind"),
    [
        ("g", {"S": ""}, "gsi", "string"),
        ("l", {"S": ""}, "lsi", "string"),
        ("b", {"B": b""}, "by_b", "binary"),
    ],
)
def test_empty_index_key_values_are_refused(
    ddb: Any, indexed: str, how: str, attr: str, value: dict[str, Any], index: str, kind: str
) -> None:
    ddb.update_table(
        TableName=indexed,
        AttributeDefinitions=[{"AttributeName": "b", "AttributeType": "B"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by_b",
                    "KeySchema": [{"AttributeName": "b", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    _wait_active(ddb, indexed, "by_b")
    template = EMPTY_UPDATED_INDEX_KEY if how.endswith("update") else EMPTY_INDEX_KEY
    assert _write_error(ddb, indexed, how, attr, value) == template.format(kind=kind, index=index, attr=attr)
    assert "Item" not in ddb.get_item(TableName=indexed, Key={"pk": {"S": "e"}, "sk": {"S": "1"}})


@pytest.mark.differs_from_dynamodb_local(
    "'Size limit exceeded' without the details, none in a batch's LSI key"
)
@pytest.mark.parametrize("how", ["put", "update", "batch", "transact_put", "transact_update"])
@pytest.mark.parametrize(
    ("attr", "size", "index", "limit"), [("g", 2049, "gsi", 2048), ("l", 1025, "lsi", 1024)]
)
def test_index_key_values_over_the_key_size_limit_are_refused(
    ddb: Any, indexed: str, how: str, attr: str, size: int, index: str, limit: int
) -> None:
    """The service's text names the attribute, both sizes and the index (seen in user reports)."""
    assert _write_error(ddb, indexed, how, attr, {"S": "x" * size}) == (
        f"One or more parameter values were invalid: Size limit exceeded for Index Key {attr} Actual Size: "
        f"{size} bytes Max Size: {limit} bytes IndexName: {index}"
    )
    ddb.put_item(TableName=indexed, Item={"pk": {"S": "e"}, "sk": {"S": "1"}, attr: {"S": "x" * limit}})


@pytest.mark.differs_from_dynamodb_local("its backfill indexes values of another type or too long")
def test_online_create_on_a_table_with_an_lsi_skips_items_that_break_the_key(ddb: Any, indexed: str) -> None:
    """Values the new key cannot hold (another type, empty, too long) stay in the table, out of the index."""
    rows = {"typed": {"N": "1"}, "empty": {"S": ""}, "long": {"S": "z" * 2049}, "ok": {"S": "Z"}}
    for sk, z in rows.items():
        ddb.put_item(TableName=indexed, Item={"pk": {"S": "b"}, "sk": {"S": sk}, "l": {"S": sk}, "z": z})
    ddb.update_table(
        TableName=indexed,
        AttributeDefinitions=[{"AttributeName": "z", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by_z",
                    "KeySchema": [{"AttributeName": "z", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )
    assert _wait_active(ddb, indexed, "by_z")["ItemCount"] == 1
    assert [i["sk"]["S"] for i in ddb.scan(TableName=indexed, IndexName="by_z")["Items"]] == ["ok"]
    lsi = ddb.query(
        TableName=indexed,
        IndexName="lsi",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "b"}},
    )
    assert sorted(i["l"]["S"] for i in lsi["Items"]) == sorted(rows)
    # the items that break the key can be deleted (and their absence from the index is kept)
    ddb.delete_item(TableName=indexed, Key={"pk": {"S": "b"}, "sk": {"S": "long"}})
    ddb.delete_item(TableName=indexed, Key={"pk": {"S": "b"}, "sk": {"S": "ok"}})
    assert ddb.scan(TableName=indexed, IndexName="by_z")["Count"] == 0
    assert _wait_active(ddb, indexed, "by_z")["ItemCount"] == 0


@pytest.mark.differs_from_dynamodb_local("a plain ValidationException for the oversized value")
def test_a_transaction_update_that_breaks_an_index_key(ddb: Any, indexed: str) -> None:
    """An empty key value is an invalid request (DynamoDB Local: a plain ValidationException); a value over
    the key size limit is what the update would make of the item (the API reference lists it among the
    ValidationError cancellation reasons)."""

    def update(value: dict[str, Any]) -> dict[str, Any]:
        request = {
            "TableName": indexed,
            "Key": {"pk": {"S": "e"}, "sk": {"S": "1"}},
            "UpdateExpression": "SET g = :v",
            "ExpressionAttributeValues": {":v": value},
        }
        with pytest.raises(ClientError) as info:
            ddb.transact_write_items(TransactItems=[{"Update": request}])
        return dict(info.value.response)

    assert update({"S": ""})["Error"]["Code"] == "ValidationException"
    cancelled = update({"S": "x" * 2049})
    assert cancelled["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in cancelled["CancellationReasons"]] == ["ValidationError"]

"""ReturnItemCollectionMetrics and the LSI item-collection size limit, through boto3.

The 10 GB limit is shrunk for one server of this module with the hidden HEADWATER_ITEM_COLLECTION_LIMIT_BYTES
(see config.py) so a few small items reach it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server import Server

LIMIT = 3000
EXCEEDED = ("ItemCollectionSizeLimitExceededException", "Collection size exceeded.")
SMALL = [0.0, 1.0]


@pytest.fixture(scope="module")
def small_limit_ddb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HEADWATER_ITEM_COLLECTION_LIMIT_BYTES", str(LIMIT))
        server = Server(tmp_path_factory.mktemp("collections")).start()
    yield server.client("dynamodb")
    server.stop()


def _lsi_table(ddb: Any, *, lsi: bool = True) -> str:
    name = f"ic_{uuid.uuid4().hex}"
    extra: dict[str, Any] = {}
    definitions = [{"AttributeName": "p", "AttributeType": "S"}, {"AttributeName": "s", "AttributeType": "S"}]
    if lsi:
        definitions.append({"AttributeName": "l", "AttributeType": "S"})
        extra["LocalSecondaryIndexes"] = [
            {
                "IndexName": "by_l",
                "KeySchema": [
                    {"AttributeName": "p", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}, {"AttributeName": "s", "KeyType": "RANGE"}],
        AttributeDefinitions=definitions,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


def _item(p: str, s: str, size: int = 0, **attrs: str) -> dict[str, Any]:
    item: dict[str, Any] = {"p": {"S": p}, "s": {"S": s}}
    if size:
        item["v"] = {"S": "x" * size}
    item.update({name: {"S": value} for name, value in attrs.items()})
    return item


def _error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def _metrics(p: str) -> dict[str, Any]:
    return {"ItemCollectionKey": {"p": {"S": p}}, "SizeEstimateRangeGB": SMALL}


@pytest.mark.differs_from_dynamodb_local("no ItemCollectionMetrics")
def test_single_item_writes_report_the_collection(ddb: Any) -> None:
    name = _lsi_table(ddb)
    put = ddb.put_item(TableName=name, Item=_item("a", "1", l="x"), ReturnItemCollectionMetrics="SIZE")
    assert put["ItemCollectionMetrics"] == _metrics("a")
    update = ddb.update_item(
        TableName=name,
        Key={"p": {"S": "a"}, "s": {"S": "1"}},
        UpdateExpression="SET w = :w",
        ExpressionAttributeValues={":w": {"S": "w"}},
        ReturnItemCollectionMetrics="SIZE",
    )
    assert update["ItemCollectionMetrics"] == _metrics("a")
    # a delete of an item that is not there still names its collection
    delete = ddb.delete_item(
        TableName=name, Key={"p": {"S": "zz"}, "s": {"S": "1"}}, ReturnItemCollectionMetrics="SIZE"
    )
    assert delete["ItemCollectionMetrics"] == _metrics("zz")
    none = ddb.put_item(TableName=name, Item=_item("a", "2"), ReturnItemCollectionMetrics="NONE")
    assert "ItemCollectionMetrics" not in none
    assert "ItemCollectionMetrics" not in ddb.put_item(TableName=name, Item=_item("a", "3"))


def test_tables_without_lsi_report_nothing(ddb: Any) -> None:
    name = _lsi_table(ddb, lsi=False)
    assert "ItemCollectionMetrics" not in ddb.put_item(
        TableName=name, Item=_item("a", "1"), ReturnItemCollectionMetrics="SIZE"
    )
    batch = ddb.batch_write_item(
        RequestItems={name: [{"PutRequest": {"Item": _item("a", "2")}}]}, ReturnItemCollectionMetrics="SIZE"
    )
    assert "ItemCollectionMetrics" not in batch
    transaction = ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": name, "Item": _item("a", "3")}}],
        ReturnItemCollectionMetrics="SIZE",
    )
    assert "ItemCollectionMetrics" not in transaction


@pytest.mark.differs_from_dynamodb_local("no ItemCollectionMetrics")
def test_multi_item_writes_report_per_table_lists(ddb: Any) -> None:
    with_lsi, without = _lsi_table(ddb), _lsi_table(ddb, lsi=False)
    batch = ddb.batch_write_item(
        RequestItems={
            with_lsi: [
                {"PutRequest": {"Item": _item("a", "1")}},
                {"DeleteRequest": {"Key": {"p": {"S": "b"}, "s": {"S": "1"}}}},
            ],
            without: [{"PutRequest": {"Item": _item("a", "1")}}],
        },
        ReturnItemCollectionMetrics="SIZE",
    )
    assert batch["ItemCollectionMetrics"] == {with_lsi: [_metrics("a"), _metrics("b")]}
    transaction = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": with_lsi, "Item": _item("c", "1")}},
            {
                "ConditionCheck": {
                    "TableName": with_lsi,
                    "Key": {"p": {"S": "a"}, "s": {"S": "1"}},
                    "ConditionExpression": "attribute_exists(p)",
                }
            },
            {"Put": {"TableName": without, "Item": _item("c", "1")}},
        ],
        ReturnItemCollectionMetrics="SIZE",
    )
    assert transaction["ItemCollectionMetrics"] == {with_lsi: [_metrics("c")]}


@pytest.mark.headwater_only  # a Headwater setting shrinks the limit
def test_limit_refuses_growth_and_allows_shrinking(small_limit_ddb: Any) -> None:
    ddb = small_limit_ddb
    name = _lsi_table(ddb)
    # ~1 KB each, and the LSI entry (projection ALL) doubles the first: 2 KB + 1 KB fit, one more does not
    ddb.put_item(TableName=name, Item=_item("a", "1", 1000, l="x"))
    ddb.put_item(TableName=name, Item=_item("a", "2", 900))
    assert _error(ddb.put_item, TableName=name, Item=_item("a", "3", 900)) == EXCEEDED
    # other collections are not affected
    ddb.put_item(TableName=name, Item=_item("b", "1", 2000))
    # growing an item past the limit fails, nothing changes
    assert (
        _error(
            ddb.update_item,
            TableName=name,
            Key={"p": {"S": "a"}, "s": {"S": "2"}},
            UpdateExpression="SET w = :w",
            ExpressionAttributeValues={":w": {"S": "w" * 500}},
        )
        == EXCEEDED
    )
    assert "w" not in ddb.get_item(TableName=name, Key={"p": {"S": "a"}, "s": {"S": "2"}})["Item"]
    # leaving the LSI (removing its key) frees the entry's bytes; deleting an item frees its own
    ddb.update_item(TableName=name, Key={"p": {"S": "a"}, "s": {"S": "1"}}, UpdateExpression="REMOVE l")
    ddb.put_item(TableName=name, Item=_item("a", "3", 900))
    assert _error(ddb.put_item, TableName=name, Item=_item("a", "4", 900)) == EXCEEDED
    ddb.delete_item(TableName=name, Key={"p": {"S": "a"}, "s": {"S": "3"}})
    ddb.put_item(TableName=name, Item=_item("a", "4", 900))
    # a shrinking write is allowed even in a full collection
    ddb.put_item(TableName=name, Item=_item("a", "4", 100))


@pytest.mark.headwater_only  # a Headwater setting shrinks the limit
def test_limit_in_batch_and_transaction(small_limit_ddb: Any) -> None:
    ddb = small_limit_ddb
    name = _lsi_table(ddb)
    ddb.put_item(TableName=name, Item=_item("a", "1", 2000))
    batch = [{"PutRequest": {"Item": _item("b", "1")}}, {"PutRequest": {"Item": _item("a", "2", 1500)}}]
    assert _error(ddb.batch_write_item, RequestItems={name: batch}) == EXCEEDED
    # two writes to one collection count together
    together = [{"PutRequest": {"Item": _item("c", str(i), 900)}} for i in range(4)]
    assert _error(ddb.batch_write_item, RequestItems={name: together}) == EXCEEDED
    assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 1
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": _item("b", "1")}},
                {"Put": {"TableName": name, "Item": _item("a", "2", 1500)}},
            ]
        )
    response = info.value.response
    assert response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ItemCollectionSizeLimitExceeded]"
    )
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ItemCollectionSizeLimitExceeded", "Message": "Collection size exceeded."},
    ]
    assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 1


@pytest.mark.headwater_only  # a Headwater setting shrinks the limit
def test_a_recreated_table_starts_with_empty_collections(small_limit_ddb: Any) -> None:
    ddb = small_limit_ddb
    name = _lsi_table(ddb)
    ddb.put_item(TableName=name, Item=_item("a", "1", 2500))
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}, {"AttributeName": "s", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "p", "AttributeType": "S"},
            {"AttributeName": "s", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "S"},
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_l",
                "KeySchema": [
                    {"AttributeName": "p", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=name, Item=_item("a", "1", 2500))

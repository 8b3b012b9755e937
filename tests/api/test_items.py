"""Single-item operations through boto3 against a live server: semantics and validation errors."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.local_differences import KEY_TEXTS, MISSING_TABLE
from tests.api.test_tables import error_of

INVALID = "One or more parameter values were invalid: "
KEY = {"pk": {"S": "a"}}


@pytest.fixture
def table(make_table: Any) -> str:
    return str(make_table())


@pytest.fixture
def range_table(make_table: Any) -> str:
    return str(make_table(range_key=("sk", "N")))


def test_put_get_delete_roundtrip(ddb: Any, table: str) -> None:
    item = {
        "pk": {"S": "a"},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\x01"},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2.0"]},
        "m": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}, {"S": ""}]}}},
    }
    ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]
    assert got["n"] == {"N": "1.5"}  # canonical number form
    assert got["b"] == {"B": b"\x00\x01"}
    assert sorted(got["ns"]["NS"]) == ["1", "2"]
    assert got["m"] == item["m"]
    old = ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}}, ReturnValues="ALL_OLD")["Attributes"]
    assert old["pk"] == {"S": "a"}
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})


def test_item_count_and_size(ddb: Any, table: str) -> None:
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "v": {"S": "abc"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "k0"}})
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["ItemCount"] == 2
    assert described["TableSizeBytes"] == 2 * (2 + 2 + 1 + 3)


def test_return_values_and_capacity(ddb: Any, table: str) -> None:
    out = ddb.put_item(
        TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}}, ReturnConsumedCapacity="TOTAL"
    )
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert out["ConsumedCapacity"]["TableName"] == table
    out = ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}}, ReturnValues="ALL_OLD")
    assert out["Attributes"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    out = ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = v + :one, w = :w",
        ExpressionAttributeValues={":one": {"N": "1"}, ":w": {"S": "new"}},
        ReturnValues="UPDATED_OLD",
    )
    assert out["Attributes"] == {"v": {"N": "2"}}
    out = ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="REMOVE w",
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {"pk": {"S": "a"}, "v": {"N": "3"}}
    big = "x" * 5000
    out = ddb.get_item(
        TableName=table, Key={"pk": {"S": "a"}}, ReturnConsumedCapacity="TOTAL", ConsistentRead=True
    )
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0
    ddb.put_item(TableName=table, Item={"pk": {"S": "big"}, "v": {"S": big}})
    out = ddb.get_item(TableName=table, Key={"pk": {"S": "big"}}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0  # 2 units strongly consistent, halved
    out = ddb.delete_item(TableName=table, Key={"pk": {"S": "big"}}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 5.0


def test_update_creates_item(ddb: Any, range_table: str) -> None:
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    ddb.update_item(TableName=range_table, Key=key)
    assert ddb.get_item(TableName=range_table, Key=key)["Item"] == key
    ddb.update_item(
        TableName=range_table,
        Key=key,
        UpdateExpression="SET #l = list_append(if_not_exists(#l, :empty), :x) ADD s :s",
        ExpressionAttributeNames={"#l": "list"},
        ExpressionAttributeValues={":empty": {"L": []}, ":x": {"L": [{"N": "1"}]}, ":s": {"SS": ["a"]}},
    )
    item = ddb.get_item(TableName=range_table, Key=key)["Item"]
    assert item["list"] == {"L": [{"N": "1"}]}
    assert item["s"] == {"SS": ["a"]}


def test_conditions(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "5"}})
    with pytest.raises(ClientError) as exc:
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": "a"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert error_of(exc) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert exc.value.response["Item"] == {"pk": {"S": "a"}, "v": {"N": "5"}}
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :n",
        ConditionExpression="v BETWEEN :lo AND :hi",
        ExpressionAttributeValues={":n": {"N": "6"}, ":lo": {"N": "1"}, ":hi": {"N": "5"}},
    )
    with pytest.raises(ClientError) as exc:
        ddb.delete_item(
            TableName=table,
            Key={"pk": {"S": "a"}},
            Expected={"v": {"Value": {"N": "5"}}},
        )
    assert error_of(exc)[0] == "ConditionalCheckFailedException"
    assert "Item" not in exc.value.response
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}}, Expected={"v": {"Value": {"N": "6"}}})


@pytest.mark.differs_from_dynamodb_local("an AttributeUpdates entry without Action is ignored")
def test_legacy_attribute_updates(ddb: Any, table: str) -> None:
    """An entry without Action is a PUT (the API reference: Action, Default: PUT)."""
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "3"}}, "s": {"Value": {"S": "x"}}},
    )
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "a"}}, AttributesToGet=["n", "s"])["Item"]
    assert item == {"n": {"N": "3"}, "s": {"S": "x"}}


def test_projection(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={
            "pk": {"S": "a"},
            "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}},
            "l": {"L": [{"S": "0"}, {"S": "1"}]},
        },
    )
    item = ddb.get_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        ProjectionExpression="m.y, l[1], #missing",
        ExpressionAttributeNames={"#missing": "nothing"},
    )["Item"]
    assert item == {"m": {"M": {"y": {"N": "2"}}}, "l": {"L": [{"S": "1"}]}}


def test_atomic_counter_under_concurrency(ddb: Any, server: Any, table: str) -> None:
    """20 clients x 200 `ADD n :one` on one item gives exactly 4000."""

    def worker(_: int) -> None:
        client = server.client("dynamodb")
        for _ in range(200):
            client.update_item(
                TableName=table,
                Key={"pk": {"S": "counter"}},
                UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(worker, range(20)))
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "counter"}}, ConsistentRead=True)["Item"]
    assert item["n"] == {"N": "4000"}


def test_conditional_puts_are_exclusive(server: Any, table: str) -> None:
    """Many clients race to create the same items; each item is created exactly once."""

    def worker(_: int) -> int:
        client = server.client("dynamodb")
        won = 0
        for i in range(30):
            try:
                client.put_item(
                    TableName=table,
                    Item={"pk": {"S": f"item{i}"}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                won += 1
            except ClientError as err:
                assert err.response["Error"]["Code"] == "ConditionalCheckFailedException"
        return won

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(worker, range(8))) == 30


def _expect(call: Any, code: str, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        call()
    assert error_of(exc) == (code, message)


@MISSING_TABLE
def test_missing_table(ddb: Any) -> None:
    _expect(
        lambda: ddb.put_item(TableName="no_such_table", Item={"pk": {"S": "a"}}),
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    _expect(
        lambda: ddb.get_item(TableName="no_such_table", Key={"pk": {"S": "a"}}),
        "ResourceNotFoundException",
        "Requested resource not found",
    )


@pytest.mark.differs_from_dynamodb_local("'One of the required keys was not given a value'")
def test_put_without_a_key_attribute(ddb: Any, range_table: str) -> None:
    """The service's text (dynalite's recording; a conformance suite's captures)."""
    _expect(
        lambda: ddb.put_item(TableName=range_table, Item={"pk": {"S": "a"}}),
        "ValidationException",
        INVALID + "Missing the key sk in the item",
    )


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        pytest.param(
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"N": "1"}, "sk": {"N": "1"}}),
            "ValidationException",
            INVALID + "Type mismatch for key pk expected: S actual: N",
            marks=pytest.mark.differs_from_dynamodb_local("'Type mismatch for key', without the details"),
        ),
        pytest.param(
            lambda ddb, t: ddb.get_item(TableName=t, Key={"pk": {"S": "a"}}),
            "ValidationException",
            "The provided key element does not match the schema",
            marks=KEY_TEXTS,
        ),
        pytest.param(
            lambda ddb, t: ddb.delete_item(
                TableName=t, Key={"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "1"}}
            ),
            "ValidationException",
            "The provided key element does not match the schema",
            marks=KEY_TEXTS,
        ),
        (
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"S": ""}, "sk": {"N": "1"}}),
            "ValidationException",
            "One or more parameter values are not valid. "
            "The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
        ),
        pytest.param(
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"S": "x" * 2049}, "sk": {"N": "1"}}),
            "ValidationException",
            INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes",
            marks=pytest.mark.differs_from_dynamodb_local(
                "'Hash primary key values must be under 2048 bytes, ...'"
            ),
        ),
        (
            lambda ddb, t: ddb.update_item(
                TableName=t,
                Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                UpdateExpression="SET pk = :v",
                ExpressionAttributeValues={":v": {"S": "b"}},
            ),
            "ValidationException",
            INVALID + "Cannot update attribute pk. This attribute is part of the key",
        ),
    ],
)
def test_key_errors(
    ddb: Any, range_table: str, call: Callable[[Any, str], Any], code: str, message: str
) -> None:
    _expect(lambda: call(ddb, range_table), code, message)


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "s": {"SS": []}}),
            "ValidationException",
            INVALID + "An string set  may not be empty",
        ),
        (
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "s": {"SS": ["a", "a"]}}),
            "ValidationException",
            INVALID + "Input collection [a, a] contains duplicates",
        ),
        pytest.param(
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "n": {"N": "abc"}}),
            "ValidationException",
            "The parameter cannot be converted to a numeric value: abc",
            marks=pytest.mark.differs_from_dynamodb_local(
                "'A value provided cannot be converted into a number'"
            ),
        ),
        pytest.param(
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "n": {"N": "1" * 39}}),
            "ValidationException",
            "Attempting to store more than 38 significant digits in a Number",
            marks=pytest.mark.differs_from_dynamodb_local(
                "'DynamoDB only supports precision up to 38 digits'"
            ),
        ),
        (
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "n": {"N": "1E126"}}),
            "ValidationException",
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "x": {}}),
            "ValidationException",
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "big": {"S": "x" * 409600}}),
            "ValidationException",
            "Item size has exceeded the maximum allowed size",
        ),
        (
            lambda ddb, t: ddb.put_item(TableName=t, Item={"pk": {"S": "a"}}, ReturnValues="ALL_NEW"),
            "ValidationException",
            "Return values set to invalid value",
        ),
    ],
)
def test_value_errors(ddb: Any, table: str, call: Callable[[Any, str], Any], code: str, message: str) -> None:
    _expect(lambda: call(ddb, table), code, message)


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (
            lambda ddb, t: ddb.update_item(TableName=t, Key=KEY, UpdateExpression="SET a ="),
            "ValidationException",
            'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "="',
        ),
        (
            lambda ddb, t: ddb.update_item(
                TableName=t,
                Key=KEY,
                UpdateExpression="SET a = :a",
                ExpressionAttributeValues={":a": {"S": "1"}, ":b": {"S": "2"}},
            ),
            "ValidationException",
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}",
        ),
        (
            lambda ddb, t: ddb.update_item(TableName=t, Key=KEY, UpdateExpression="SET a = :a"),
            "ValidationException",
            "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
            "attribute value: :a",
        ),
        pytest.param(
            lambda ddb, t: ddb.put_item(
                TableName=t,
                Item=KEY,
                ConditionExpression="size = :v",
                ExpressionAttributeValues={":v": {"N": "1"}},
            ),
            "ValidationException",
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: size",
            marks=pytest.mark.differs_from_dynamodb_local(
                "'size' alone is taken for an attribute, not a reserved word"
            ),
        ),
        (
            lambda ddb, t: ddb.update_item(
                TableName=t,
                Key=KEY,
                UpdateExpression="SET a = :a, a.b = :a",
                ExpressionAttributeValues={":a": {"S": "1"}},
            ),
            "ValidationException",
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite "
            "one of these paths; path one: [a], path two: [a, b]",
        ),
        (
            lambda ddb, t: ddb.put_item(
                TableName=t,
                Item=KEY,
                Expected={"a": {"Exists": False}},
                ConditionExpression="attribute_exists(a)",
            ),
            "ValidationException",
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            lambda ddb, t: ddb.update_item(
                TableName=t,
                Key=KEY,
                UpdateExpression="SET s = s + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            ),
            "ValidationException",
            "An operand in the update expression has an incorrect data type",
        ),
    ],
)
def test_expression_errors(
    ddb: Any, table: str, call: Callable[[Any, str], Any], code: str, message: str
) -> None:
    ddb.put_item(TableName=table, Item={**KEY, "s": {"S": "text"}})  # for the last case
    _expect(lambda: call(ddb, table), code, message)


@pytest.mark.differs_from_dynamodb_local("these wrongly typed attribute values are accepted")
def test_wrong_json_types_in_item(server: Any, table: str) -> None:
    """Attribute values are checked by the model layer with DynamoDB's serialization messages (dynalite's
    recordings of the service)."""
    from tests.api.test_wire import raw

    cases = [
        ({"pk": {"S": 5}}, "NUMBER_VALUE cannot be converted to String"),
        ({"pk": {"S": "a"}, "b": {"B": 5}}, "only base-64-encoded strings are convertible to bytes"),
        ({"pk": {"S": "a"}, "x": 5}, "Unexpected value type in payload"),
    ]
    import json

    for item, message in cases:
        body = json.dumps({"TableName": table, "Item": item}).encode()
        status, _, data = raw(server, body, target="DynamoDB_20120810.PutItem")
        assert status == 400
        assert json.loads(data) == {
            "__type": "com.amazon.coral.service#SerializationException",
            "Message": message,
        }


def test_consumed_capacity_with_indexes(ddb: Any, make_table: Any) -> None:
    name = make_table(
        attribute_definitions=[("g", "S")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    out = ddb.put_item(
        TableName=name, Item={"pk": {"S": "a"}, "g": {"S": "x"}}, ReturnConsumedCapacity="INDEXES"
    )["ConsumedCapacity"]
    assert out["Table"]["CapacityUnits"] == 1.0
    assert out["GlobalSecondaryIndexes"] == {"by_g": {"CapacityUnits": 1.0}}
    assert out["CapacityUnits"] == 2.0
    # moving the item to another index key deletes one entry and writes another
    out = ddb.put_item(
        TableName=name, Item={"pk": {"S": "a"}, "g": {"S": "y"}}, ReturnConsumedCapacity="INDEXES"
    )["ConsumedCapacity"]
    assert out["GlobalSecondaryIndexes"]["by_g"]["CapacityUnits"] == 2.0
    # an item without the index key is not in the (sparse) index: no index write
    out = ddb.put_item(TableName=name, Item={"pk": {"S": "b"}}, ReturnConsumedCapacity="INDEXES")[
        "ConsumedCapacity"
    ]
    assert "GlobalSecondaryIndexes" not in out

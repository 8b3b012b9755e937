"""BatchExecuteStatement and ExecuteTransaction through boto3 (texts checked against DynamoDB Local)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.local_differences import MISSING_TABLE

CANCELLED = "Transaction cancelled, please refer cancellation reasons for specific reasons "


@pytest.fixture
def table(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table(f"t_{uuid.uuid4().hex}")
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "n": {"N": "1"}, "m": {"M": {"x": {"N": "2"}}}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "n": {"N": "7"}})
    return name


def batch(ddb: Any, statements: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    responses: list[dict[str, Any]] = ddb.batch_execute_statement(Statements=statements, **extra)["Responses"]
    return responses


def transaction(ddb: Any, statements: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = ddb.execute_transaction(TransactStatements=statements, **extra)
    response.pop("ResponseMetadata", None)
    return response


def refused(call: Callable[..., Any], **request: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**request)
    response: dict[str, Any] = info.value.response
    return response


def get(ddb: Any, table: str, pk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ddb.get_item(
        TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True
    ).get("Item")
    return item


# --- BatchExecuteStatement ------------------------------------------------------------------------


def test_batch_reads(ddb: Any, table: str) -> None:
    responses = batch(
        ddb,
        [
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a'"},
            {"Statement": f'SELECT n, m.x FROM "{table}" WHERE pk = ?', "Parameters": [{"S": "b"}]},
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'zz'"},
            {"Statement": f'SELECT * FROM "{table}" WHERE n = 1'},
            {"Statement": f'SELECT * FROM "{table}" WHERE pk = ?'},
            {"Statement": "SELEC"},
        ],
    )
    assert responses == [
        {"TableName": table, "Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "m": {"M": {"x": {"N": "2"}}}}},
        {"TableName": table, "Item": {"n": {"N": "7"}}},
        {"TableName": table},
        {"Error": {"Code": "ValidationError", "Message": "Only single item select is supported"}},
        {
            "Error": {
                "Code": "ValidationError",
                "Message": "Number of parameters in request and statement don't match.",
            }
        },
        {
            "Error": {
                "Code": "ValidationError",
                "Message": "Invalid operation. Only select, insert, update and delete operations are valid",
            }
        },
    ]


@MISSING_TABLE
def test_batch_read_of_a_missing_table(ddb: Any) -> None:
    responses = batch(ddb, [{"Statement": "SELECT * FROM \"nope_partiql\" WHERE pk = 'a'"}])
    assert responses == [{"Error": {"Code": "ResourceNotFound", "Message": "Requested resource not found"}}]


def test_batch_writes_answer_each_statement(ddb: Any, table: str) -> None:
    responses = batch(
        ddb,
        [
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'k1', 'v': 1}}"},
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'b'}}"},
            {
                "Statement": f"UPDATE \"{table}\" SET x = 1 WHERE pk = 'a' AND n = 3",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'zzz'"},
            {
                "Statement": f'UPDATE "{table}" SET v = ? WHERE pk = ?',
                "Parameters": [{"S": "w"}, {"S": "k2"}],
            },
        ],
    )
    assert responses == [
        {"TableName": table},
        {
            "TableName": table,
            "Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"},
        },
        {
            "TableName": table,
            "Error": {
                "Code": "ConditionalCheckFailed",
                "Message": "The conditional request failed",
                "Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "m": {"M": {"x": {"N": "2"}}}},
            },
        },
        {"TableName": table},
        {
            "TableName": table,
            "Error": {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
        },
    ]
    assert get(ddb, table, "k1") == {"pk": {"S": "k1"}, "v": {"N": "1"}}
    assert get(ddb, table, "k2") is None


def test_batch_refusals(ddb: Any, table: str) -> None:
    mixed = refused(
        ddb.batch_execute_statement,
        Statements=[
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a'"},
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'k1'}}"},
        ],
    )
    assert mixed["Error"] == {
        "Code": "ValidationException",
        "Message": "Read and write requests together in the same batch is not supported.",
    }
    duplicates = refused(
        ddb.batch_execute_statement,
        Statements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'k1'}}"},
            {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'k1'"},
        ],
    )
    assert duplicates["Error"] == {
        "Code": "ValidationException",
        "Message": "Provided list of item keys contains duplicates",
    }
    assert get(ddb, table, "k1") is None
    mixed = refused(
        ddb.batch_execute_statement,
        Statements=[
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a'"},
            {"Statement": f'DELETE FROM "{table}" WHERE pk = ?'},  # its kind counts, parameters or not
        ],
    )
    assert mixed["Error"]["Message"] == "Read and write requests together in the same batch is not supported."
    statement = {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a'"}
    duplicates = refused(ddb.batch_execute_statement, Statements=[statement, statement])
    assert duplicates["Error"]["Message"] == "Provided list of item keys contains duplicates"


# --- ExecuteTransaction ---------------------------------------------------------------------------


def test_transaction_writes_all(ddb: Any, table: str) -> None:
    response = transaction(
        ddb,
        [
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 't1', 'v': 'new'}}"},
            {"Statement": f"UPDATE \"{table}\" SET n = n + 1 WHERE pk = 'a'"},
            {"Statement": f"EXISTS(SELECT * FROM \"{table}\" WHERE pk = 'b' AND m IS MISSING)"},
        ],
    )
    assert "Responses" not in response or response["Responses"] == []
    assert get(ddb, table, "t1") == {"pk": {"S": "t1"}, "v": {"S": "new"}}
    item = get(ddb, table, "a")
    assert item is not None and item["n"] == {"N": "2"}


def test_transaction_cancelled(ddb: Any, table: str) -> None:
    response = refused(
        ddb.execute_transaction,
        TransactStatements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 't2'}}"},
            {
                "Statement": f"EXISTS(SELECT * FROM \"{table}\" WHERE pk = 'a' AND n = 5)",
            },
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'b'}}"},
        ],
    )
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["Error"]["Message"] == CANCELLED + "[None, ConditionalCheckFailed, ValidationError]"
    reasons = response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "ConditionalCheckFailed", "ValidationError"]
    assert reasons[2]["Message"] == "Duplicate primary key exists in table"
    assert get(ddb, table, "t2") is None


def test_transaction_reads(ddb: Any, table: str) -> None:
    response = transaction(
        ddb,
        [
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a'"},
            {"Statement": f'SELECT n FROM "{table}" WHERE pk = ?', "Parameters": [{"S": "none"}]},
        ],
    )
    assert response["Responses"] == [
        {"Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "m": {"M": {"x": {"N": "2"}}}}},
        {},
    ]


def test_transaction_idempotency(ddb: Any, table: str) -> None:
    statements = [{"Statement": f"UPDATE \"{table}\" SET n = n + 1 WHERE pk = 'a'"}]
    transaction(ddb, statements, ClientRequestToken="partiql-token-1")
    transaction(ddb, statements, ClientRequestToken="partiql-token-1")
    item = get(ddb, table, "a")
    assert item is not None and item["n"] == {"N": "2"}
    other = [{"Statement": f"UPDATE \"{table}\" SET n = n + 5 WHERE pk = 'a'"}]
    response = refused(
        ddb.execute_transaction, TransactStatements=other, ClientRequestToken="partiql-token-1"
    )
    assert response["Error"]["Code"] == "IdempotentParameterMismatchException"


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        (
            ["SELECT * FROM \"{t}\" WHERE pk = 'a'", "DELETE FROM \"{t}\" WHERE pk = 't1'"],
            "ExecuteTransaction API does not support both read and write operations in the same request.",
        ),
        (
            ['SELECT * FROM "{t}"'],
            "Validation failed in TransactStatements[0]: "
            "Select statements within ExecuteTransaction must specify the primary key in the where clause.",
        ),
        (
            ["SELECT * FROM \"{t}\" WHERE pk = 'a' AND n = 1"],
            "Validation failed in TransactStatements[0]: "
            "Select statements within ExecuteTransaction must specify the primary key in the where clause.",
        ),
        (
            ["DELETE FROM \"{t}\" WHERE pk = 't1'", "DELETE FROM \"{t}\" WHERE pk = 't1'"],
            "Transaction request cannot include multiple operations on one item",
        ),
        (
            ["UPDATE \"{t}\" SET x = 1 WHERE pk = 'a' RETURNING ALL NEW *"],
            "Validation failed in TransactStatements[0]: "
            "RETURNING clause is not supported in ExecuteTransaction.",
        ),
    ],
)
def test_transaction_refusals(ddb: Any, table: str, statements: list[str], message: str) -> None:
    response = refused(
        ddb.execute_transaction, TransactStatements=[{"Statement": s.format(t=table)} for s in statements]
    )
    assert response["Error"] == {"Code": "ValidationException", "Message": message}


def test_transaction_key_update_is_cancelled(ddb: Any, table: str) -> None:
    response = refused(
        ddb.execute_transaction,
        TransactStatements=[{"Statement": f"UPDATE \"{table}\" SET pk = 'x' WHERE pk = 'a'"}],
    )
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["CancellationReasons"] == [
        {
            "Code": "ValidationError",
            "Message": "One or more parameter values were invalid: "
            "Cannot update attribute pk. This attribute is part of the key",
        }
    ]


def test_batch_write_returning_and_exists(ddb: Any, table: str) -> None:
    responses = batch(
        ddb,
        [
            {"Statement": f"UPDATE \"{table}\" SET zz = 1 WHERE pk = 'a' RETURNING MODIFIED NEW *"},
            {"Statement": f"EXISTS(SELECT * FROM \"{table}\" WHERE pk = 'b')"},
        ],
    )
    assert responses == [
        {"TableName": table, "Item": {"zz": {"N": "1"}}},
        {
            "Error": {
                "Code": "ValidationError",
                "Message": "EXISTS can only be used in ExecuteTransaction write requests.",
            }
        },
    ]


def test_transaction_statement_errors_name_the_statement(ddb: Any, table: str) -> None:
    response = refused(
        ddb.execute_transaction,
        TransactStatements=[
            {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'a'"},
            {"Statement": f'DELETE FROM "{table}" WHERE pk = ?'},
        ],
    )
    assert response["Error"]["Message"] == (
        "Validation failed in TransactStatements[1]: "
        "Number of parameters in request and statement don't match."
    )


@pytest.mark.differs_from_dynamodb_local(
    "no ConsumedCapacity in BatchExecuteStatement's or ExecuteTransaction's answer"
)
def test_consumed_capacity(ddb: Any, table: str) -> None:
    """The API reference documents ConsumedCapacity for both; a transaction costs twice (reads and writes)."""
    read = f"SELECT * FROM \"{table}\" WHERE pk = 'a'"
    write = f"UPDATE \"{table}\" SET zz = 1 WHERE pk = 'a'"
    response = ddb.batch_execute_statement(Statements=[{"Statement": read}], ReturnConsumedCapacity="TOTAL")
    assert response["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 0.5}]
    response = ddb.batch_execute_statement(Statements=[{"Statement": write}], ReturnConsumedCapacity="TOTAL")
    assert response["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 1.0}]
    response = ddb.execute_transaction(
        TransactStatements=[{"Statement": read}], ReturnConsumedCapacity="TOTAL"
    )
    assert response["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2.0}]
    response = ddb.execute_transaction(
        TransactStatements=[{"Statement": write}], ReturnConsumedCapacity="TOTAL"
    )
    assert response["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2.0}]

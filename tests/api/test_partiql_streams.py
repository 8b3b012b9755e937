"""PartiQL writes reach the table's stream exactly like the classic writes, and `aws dynamodb
execute-statement` runs PartiQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.test_aws_cli import aws
from tests.api.test_streams import all_records, stream_table


def test_partiql_writes_produce_the_classic_records(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    name, arn = stream_table(ddb, make_table)
    table = f'"{name}"'
    ddb.execute_statement(Statement=f"INSERT INTO {table} VALUE {{'pk': 'a', 'v': 1}}")
    ddb.execute_statement(Statement=f"UPDATE {table} SET v = 2 WHERE pk = 'a'")
    ddb.execute_statement(Statement=f"UPDATE {table} SET v = 2 WHERE pk = 'a'")  # no change: no record
    ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"INSERT INTO {table} VALUE {{'pk': 'b'}}"},
            {"Statement": f"INSERT INTO {table} VALUE {{'pk': 'c'}}"},
        ]
    )
    ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"DELETE FROM {table} WHERE pk = 'b'"},
            {"Statement": f"UPDATE {table} SET w = 'x' WHERE pk = 'c'"},
        ]
    )
    ddb.execute_statement(Statement=f"DELETE FROM {table} WHERE pk = 'a'")
    records = all_records(streams, arn)
    events = [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records]
    assert events[:2] == [("INSERT", "a"), ("MODIFY", "a")]
    assert sorted(events[2:4]) == [("INSERT", "b"), ("INSERT", "c")]
    assert sorted(events[4:6]) == [("MODIFY", "c"), ("REMOVE", "b")]
    assert events[6:] == [("REMOVE", "a")]
    modify = records[1]["dynamodb"]
    assert modify["OldImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert modify["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "2"}}
    # the same change made by UpdateItem is the same record
    ddb.put_item(TableName=name, Item={"pk": {"S": "z"}, "v": {"N": "1"}})
    ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "z"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    classic = all_records(streams, arn)[-1]["dynamodb"]
    assert classic["SizeBytes"] == modify["SizeBytes"]
    assert classic["StreamViewType"] == modify["StreamViewType"]


def test_cli_execute_statement(server: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    table = f'"{name}"'
    aws(
        server,
        "dynamodb",
        "execute-statement",
        "--statement",
        f"INSERT INTO {table} VALUE {{'pk': ?, 'n': ?}}",
        "--parameters",
        '[{"S": "a"}, {"N": "10"}]',
    )
    found = aws(
        server, "dynamodb", "execute-statement", "--statement", f"SELECT * FROM {table} WHERE pk = 'a'"
    )
    assert found["Items"] == [{"pk": {"S": "a"}, "n": {"N": "10"}}]
    updated = aws(
        server,
        "dynamodb",
        "execute-statement",
        "--statement",
        f"UPDATE {table} SET n = n + 5 WHERE pk = 'a' RETURNING MODIFIED NEW *",
    )
    assert updated["Items"] == [{"n": {"N": "15"}}]

"""Hostile bodies never get a 500 or a dropped connection: valid requests with one field replaced by junk."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server import Server

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)

VALID: dict[str, dict[str, Any]] = {
    "PutItem": {
        "TableName": "fuzz_table",
        "Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "m": {"M": {"x": {"L": [{"S": "y"}]}}}},
        "ConditionExpression": "attribute_not_exists(#n) OR n < :v",
        "ExpressionAttributeNames": {"#n": "n"},
        "ExpressionAttributeValues": {":v": {"N": "5"}},
        "ReturnValues": "ALL_OLD",
    },
    "UpdateItem": {
        "TableName": "fuzz_table",
        "Key": {"pk": {"S": "a"}},
        "UpdateExpression": "SET m.x[0] = :v ADD n :one REMOVE q",
        "ExpressionAttributeValues": {":v": {"S": "z"}, ":one": {"N": "1"}},
        "ReturnValues": "UPDATED_NEW",
    },
    "GetItem": {"TableName": "fuzz_table", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "m.x, n"},
    "DeleteItem": {
        "TableName": "fuzz_table",
        "Key": {"pk": {"S": "zz"}},
        "Expected": {"n": {"Exists": False}},
    },
    "CreateTable": {
        "TableName": "fuzz_new",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    },
    "UpdateTable": {"TableName": "fuzz_table", "DeletionProtectionEnabled": False},
    "UpdateTimeToLive": {
        "TableName": "fuzz_table",
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "ttl"},
    },
    "ListTables": {"Limit": 5},
}


def post(server: Server, op: str, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"X-Amz-Target": f"DynamoDB_20120810.{op}", "Authorization": server.authorization}
    conn.request("POST", "/", body=body, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def mutations() -> st.SearchStrategy[tuple[str, list[str], Any]]:
    def paths(value: Any, prefix: list[str]) -> list[list[str]]:
        out = [prefix] if prefix else []
        if isinstance(value, dict):
            for key, child in value.items():
                out.extend(paths(child, [*prefix, key]))
        return out

    return st.sampled_from(sorted(VALID)).flatmap(
        lambda op: st.tuples(st.just(op), st.sampled_from(paths(VALID[op], [])), JSON)
    )


@pytest.fixture(scope="module")
def fuzz_table(ddb: Any) -> str:
    ddb.create_table(**VALID["CreateTable"] | {"TableName": "fuzz_table"})
    return "fuzz_table"


@pytest.mark.headwater_only  # Headwater's robustness (DynamoDB Local answers 500 to some)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations())
def test_mutated_requests_never_fail_the_server(server: Server, fuzz_table: str, mutation: Any) -> None:
    op, path, junk = mutation
    body = json.loads(json.dumps(VALID[op]))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = junk
    status = post(server, op, json.dumps(body).encode())
    assert status in (200, 400), (op, path, junk, status)

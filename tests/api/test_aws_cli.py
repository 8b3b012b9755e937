"""The AWS CLI, unmodified, against a live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.api.local_differences import MISSING_TABLE

AWS = str(Path(sys.executable).with_name("aws"))


def aws(server: Any, *args: str) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
    }
    out = subprocess.run(
        [AWS, "--endpoint-url", server.endpoint, "--output", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    return json.loads(out.stdout) if out.stdout.strip() else None


def test_cli_session(server: Any, table_name: str) -> None:
    created = aws(
        server,
        "dynamodb",
        "create-table",
        "--table-name",
        table_name,
        "--attribute-definitions",
        "AttributeName=pk,AttributeType=S",
        "--key-schema",
        "AttributeName=pk,KeyType=HASH",
        "--billing-mode",
        "PAY_PER_REQUEST",
    )
    assert created["TableDescription"]["TableStatus"] == "ACTIVE"
    aws(server, "dynamodb", "wait", "table-exists", "--table-name", table_name)
    aws(
        server,
        "dynamodb",
        "put-item",
        "--table-name",
        table_name,
        "--item",
        '{"pk": {"S": "a"}, "n": {"N": "10"}}',
    )
    updated = aws(
        server,
        "dynamodb",
        "update-item",
        "--table-name",
        table_name,
        "--key",
        '{"pk": {"S": "a"}}',
        "--update-expression",
        "ADD n :d",
        "--expression-attribute-values",
        '{":d": {"N": "5"}}',
        "--return-values",
        "UPDATED_NEW",
    )
    assert updated["Attributes"] == {"n": {"N": "15"}}
    got = aws(server, "dynamodb", "get-item", "--table-name", table_name, "--key", '{"pk": {"S": "a"}}')
    assert got["Item"] == {"pk": {"S": "a"}, "n": {"N": "15"}}
    names = aws(server, "dynamodb", "list-tables")["TableNames"]
    assert table_name in names
    aws(server, "dynamodb", "delete-table", "--table-name", table_name)


@MISSING_TABLE
def test_cli_error_is_reported(server: Any) -> None:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run(
        [AWS, "--endpoint-url", server.endpoint, "dynamodb", "describe-table", "--table-name", "nope_nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode != 0
    assert "ResourceNotFoundException" in out.stderr
    assert "Requested resource not found: Table: nope_nope not found" in out.stderr

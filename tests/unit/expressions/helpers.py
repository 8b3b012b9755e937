"""Small helpers shared by the expression tests."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.errors import DynamoDBError
from headwater.expressions import CompiledExpressions, compile_request

N1 = {"N": "1"}
S1 = {"S": "x"}
KEY = {"id": {"S": "k"}, "sk": {"N": "1"}}
KEY_NAMES = ("id", "sk")


def request(
    names: dict[str, str] | None = None, values: dict[str, Any] | None = None, **params: Any
) -> dict[str, Any]:
    body: dict[str, Any] = dict(params)
    if names is not None:
        body["ExpressionAttributeNames"] = names
    if values is not None:
        body["ExpressionAttributeValues"] = values
    return body


def compile_ok(operation: str = "UpdateItem", **kw: Any) -> CompiledExpressions:
    return compile_request(request(**kw), operation=operation)


def compile_error(operation: str = "UpdateItem", **kw: Any) -> str:
    with pytest.raises(DynamoDBError) as info:
        compile_request(request(**kw), operation=operation)
    assert info.value.type_name == "ValidationException"
    message = info.value.message
    assert message is not None
    return message

"""Whatever the text, parsing and compiling fail only with DynamoDB errors."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.errors import DynamoDBError
from headwater.expressions import compile_request, evaluate
from headwater.expressions.parser import parse_condition, parse_projection, parse_update

pieces = st.sampled_from(
    [
        "a", "b", "#n", ":v", ":w", "(", ")", "[", "]", "0", "12", ".", ",", "=", "<>", "<", ">=", "+", "-",
        "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE", "size", "contains",
        "begins_with", "attribute_exists", "attribute_type", "if_not_exists", "list_append", "name", "!", " ",
    ]
)  # fmt: skip
texts = st.one_of(st.text(max_size=30), st.lists(pieces, max_size=15).map(" ".join))


@settings(max_examples=300)
@given(texts)
def test_parsers_raise_only_dynamodb_errors(text: str) -> None:
    for parse in (parse_condition, parse_update, parse_projection):
        with contextlib.suppress(DynamoDBError):
            parse(text)


values = st.sampled_from([{"N": "1"}, {"S": "x"}, {"SS": ["a"]}, {"L": []}, {"B": "AA=="}, {"NULL": True}])


@settings(max_examples=300)
@given(
    texts,
    st.dictionaries(st.sampled_from([":v", ":w"]), values, min_size=1),
    st.sampled_from(["condition", "update"]),
)
def test_compile_and_evaluate_raise_only_dynamodb_errors(
    text: str, attribute_values: dict[str, Any], kind: str
) -> None:
    request: dict[str, Any] = {
        "ExpressionAttributeValues": attribute_values,
        "ExpressionAttributeNames": {"#n": "n"},
    }
    request["ConditionExpression" if kind == "condition" else "UpdateExpression"] = text
    try:
        compiled = compile_request(request, operation="UpdateItem")
    except DynamoDBError:
        return
    if compiled.condition is not None:
        evaluate(compiled.condition, {"a": {"N": "1"}, "b": {"L": [{"S": "x"}]}})

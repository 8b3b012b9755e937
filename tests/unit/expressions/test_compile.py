"""Request-level checks of compile_request (messages copied from DynamoDB)."""

from __future__ import annotations

import pytest

from headwater.expressions import compile_request
from headwater.expressions.ast import Compare, Path, Value

from .helpers import N1, S1, compile_error, compile_ok


def test_resolves_names_and_values() -> None:
    compiled = compile_ok("PutItem", names={"#n": "name"}, values={":v": N1}, ConditionExpression="#n = :v")
    assert compiled.condition == Compare("=", Path(("name",)), Value({"N": "1"}))
    assert compiled.update is None and compiled.projection is None


def test_values_are_canonicalised() -> None:
    compiled = compile_ok("PutItem", values={":v": {"N": "01.50"}}, ConditionExpression="a = :v")
    assert compiled.condition == Compare("=", Path(("a",)), Value({"N": "1.5"}))


def test_no_expressions_gives_empty_result() -> None:
    compiled = compile_request({"TableName": "t"}, operation="PutItem")
    assert compiled.condition is None and compiled.update is None


@pytest.mark.parametrize(
    ("operation", "kwargs", "expected"),
    [
        (
            "PutItem",
            {"ConditionExpression": "a = :v", "values": {":v": S1}, "Expected": {"a": {"Exists": False}}},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            "PutItem",
            {"ConditionExpression": "a = :v", "values": {":v": S1}, "ConditionalOperator": "AND"},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {ConditionalOperator} Expression parameters: {ConditionExpression}",
        ),
        (
            "UpdateItem",
            {
                "UpdateExpression": "SET a = :v",
                "ConditionExpression": "a = :v",
                "AttributeUpdates": {"a": {"Action": "DELETE"}},
                "Expected": {"a": {"Exists": False}},
                "ConditionalOperator": "OR",
            },
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributeUpdates, Expected, ConditionalOperator} "
            "Expression parameters: {UpdateExpression, ConditionExpression}",
        ),
        (
            "Query",
            {
                "KeyConditions": {"id": {"ComparisonOperator": "EQ", "AttributeValueList": [S1]}},
                "AttributesToGet": ["a"],
                "QueryFilter": {"a": {"ComparisonOperator": "NULL"}},
                "ConditionalOperator": "OR",
                "KeyConditionExpression": "id = :v",
                "FilterExpression": "a = :v",
                "ProjectionExpression": "a",
            },
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet, QueryFilter, ConditionalOperator, KeyConditions} "
            "Expression parameters: {ProjectionExpression, FilterExpression, KeyConditionExpression}",
        ),
        (
            "Scan",
            {
                "ScanFilter": {"a": {"ComparisonOperator": "NULL"}},
                "ProjectionExpression": "a",
                "ConditionalOperator": "OR",
            },
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {ScanFilter, ConditionalOperator} "
            "Expression parameters: {ProjectionExpression}",
        ),
        (
            "PutItem",
            {"names": {"#v": "x"}},
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
        (
            "PutItem",
            {"values": {":v": S1}},
            "ExpressionAttributeValues can only be specified when using "
            "expressions: ConditionExpression is null",
        ),
        (
            "UpdateItem",
            {"values": {":v": S1}},
            "ExpressionAttributeValues can only be specified when using expressions: "
            "UpdateExpression and ConditionExpression are null",
        ),
        (
            "Query",
            {
                "values": {":v": S1},
                "KeyConditions": {"id": {"ComparisonOperator": "EQ", "AttributeValueList": [S1]}},
            },
            "ExpressionAttributeValues can only be specified when using expressions: "
            "FilterExpression and KeyConditionExpression are null",
        ),
        (
            "Scan",
            {"values": {":v": S1}, "ProjectionExpression": "a"},
            "ExpressionAttributeValues can only be specified when "
            "using expressions: FilterExpression is null",
        ),
        (
            "Query",
            {"KeyConditionExpression": "id = :v", "values": {":v": S1}, "names": {}},
            "ExpressionAttributeNames must not be empty",
        ),
        (
            "Query",
            {"KeyConditionExpression": "id = :v", "values": {}},
            "ExpressionAttributeValues must not be empty",
        ),
        (
            "UpdateItem",
            {"UpdateExpression": "SET a = :v", "values": {":v": N1, ":w": N1, ":x": N1}},
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w, :x}",
        ),
        (
            "UpdateItem",
            {
                "UpdateExpression": "SET a = :b",
                "values": {":b": N1, ":z": N1},
                "names": {"#z": "x", "#a": "y"},
            },
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#z, #a}",
        ),
        (
            "UpdateItem",
            {
                "UpdateExpression": "SET a = :v",
                "ConditionExpression": "#x = :v",
                "values": {":v": N1},
                "names": {"#x": "b", "#y": "c"},
            },
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#y}",
        ),
        (
            "UpdateItem",
            {"UpdateExpression": "SET a = :w", "values": {":v": N1}},
            "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
            "attribute value: :w",
        ),
        (
            "UpdateItem",
            {"UpdateExpression": "SET a = :v", "ConditionExpression": "a = :q", "values": {":v": N1}},
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; "
            "attribute value: :q",
        ),
        (
            "UpdateItem",
            {"UpdateExpression": "SET #a = :v", "values": {":v": N1}},
            "Invalid UpdateExpression: An expression attribute name "
            "used in the document path is not defined; "
            "attribute name: #a",
        ),
        (
            "UpdateItem",
            {"UpdateExpression": "SET #a = :v", "names": {"#a": "x"}, "values": {":v": N1, ":x": {"SS": []}}},
            "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: "
            "An string set  may not be empty for key :x",
        ),
        (
            "PutItem",
            {"ConditionExpression": "a = :v", "values": {":v": N1}, "names": {"a": "x"}},
            'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"',
        ),
        (
            "PutItem",
            {"ConditionExpression": "#a = :v", "values": {":v": N1}, "names": {"#a": ""}},
            "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a",
        ),
        (
            "PutItem",
            {"ConditionExpression": "a = :v", "values": {"v": N1}},
            'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"',
        ),
        (
            "UpdateItem",
            {"UpdateExpression": ""},
            "Invalid UpdateExpression: The expression can not be empty;",
        ),
        (
            "GetItem",
            {"ProjectionExpression": ""},
            "Invalid ProjectionExpression: The expression can not be empty;",
        ),
        (
            "GetItem",
            {"ProjectionExpression": "a, a.b"},
            "Invalid ProjectionExpression: Two document paths overlap with "
            "each other; must remove or rewrite one of "
            "these paths; path one: [a], path two: [a, b]",
        ),
        (
            "Query",
            {"KeyConditionExpression": "id = :v", "FilterExpression": "a = :n", "values": {":v": S1}},
            "Invalid FilterExpression: An expression attribute value used in expression is not defined; "
            "attribute value: :n",
        ),
    ],
)
def test_request_errors(operation: str, kwargs: dict[str, object], expected: str) -> None:
    assert compile_error(operation, **kwargs) == expected


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        (
            "begins_with(a)",
            None,
            "Incorrect number of operands for operator or function; operator or function: begins_with, "
            "number of operands: 1",
        ),
        (
            "attribute_exists(a, b)",
            None,
            "Incorrect number of operands for operator or function; operator or function: attribute_exists, "
            "number of operands: 2",
        ),
        (
            "contains(a)",
            None,
            "Incorrect number of operands for operator or function; operator "
            "or function: contains, number of operands: 1",
        ),
        ("size(a)", None, "The function is not allowed to be used this way in an expression; function: size"),
        (
            "attribute_not_exists(a) = :v",
            {":v": N1},
            "The function is not allowed to be used this way in an "
            "expression; function: attribute_not_exists",
        ),
        (
            "list_append(a, b) = c",
            None,
            "The function is not allowed in a condition expression; function: list_append",
        ),
        (
            "if_not_exists(a, b) = c",
            None,
            "The function is not allowed in a condition expression; function: if_not_exists",
        ),
        (
            "attribute_type(a, :v)",
            {":v": N1},
            "Incorrect operand type for operator or function; operator or "
            "function: attribute_type, operand type: N",
        ),
        (
            "attribute_type(a, :v)",
            {":v": {"S": "XX"}},
            "Invalid attribute type name found; type: XX, valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}",
        ),
        (
            "attribute_type(a, :v)",
            {":v": {"S": "n"}},
            "Invalid attribute type name found; type: n, valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}",
        ),
        (
            "attribute_type(a, b)",
            None,
            "Incorrect operand type for operator or function; operator "
            "or function: attribute_type, operand type: "
            "{FLOAT,HD,DICT,DECIMALSET,DOUBLE,SS,B,INT,NS,FS,BOOL,N,DECIMAL,DOUBLESET,M,INTSET,HDS,BS,L,S,NULL}",
        ),
        (
            "a BETWEEN :h AND :l",
            {":h": {"N": "5"}, ":l": N1},
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
            "lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}",
        ),
        (
            "a BETWEEN :h AND :l",
            {":h": {"S": "b"}, ":l": {"S": "a"}},
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
            "lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}",
        ),
        (
            "a BETWEEN :h AND :l",
            {":h": {"N": "5"}, ":l": S1},
            "The BETWEEN operator requires same data type for lower and upper bounds; "
            "lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {S:x}",
        ),
        (
            "a BETWEEN :h AND :l",
            {":h": {"SS": ["a"]}, ":l": {"SS": ["a"]}},
            "Incorrect operand type for operator or function; operator "
            "or function: BETWEEN, operand type: SS",
        ),
        (
            "a < :v",
            {":v": {"SS": ["a"]}},
            "Incorrect operand type for operator or function; operator or function: <, operand type: SS",
        ),
        (
            "a < :v",
            {":v": {"NULL": True}},
            "Incorrect operand type for operator or function; operator or function: <, operand type: NULL",
        ),
        (
            "a < :v",
            {":v": {"BOOL": True}},
            "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL",
        ),
        (
            "a < :v",
            {":v": {"M": {}}},
            "Incorrect operand type for operator or function; operator or function: <, operand type: M",
        ),
        (
            "begins_with(a, :v)",
            {":v": N1},
            "Incorrect operand type for operator or function; operator "
            "or function: begins_with, operand type: N",
        ),
        (
            "a = :v OR size(:v) > :v",
            {":v": N1},
            "Incorrect operand type for operator or function; operator or function: size, operand type: N",
        ),
        (
            "size(size(a)) = :v",
            {":v": N1},
            "Incorrect operand type for operator or function; operator or function: size, operand type: N",
        ),
        (
            "attribute_exists(:v)",
            {":v": N1},
            "Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "attribute_exists(size(a))",
            None,
            "Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "a IN (" + ",".join([":v"] * 101) + ")",
            {":v": N1},
            "The IN operator is provided with too many operands; number of operands: 101",
        ),
        (
            "a = a",
            None,
            "The first operand must be distinct from the remaining operands for this operator or function; "
            "operator: =, first operand: [a]",
        ),
        (
            "a.b = a.b",
            None,
            "The first operand must be distinct from the remaining operands for this operator or function; "
            "operator: =, first operand: [a, b]",
        ),
        (
            "a BETWEEN a AND b",
            None,
            "The first operand must be distinct from the remaining operands for this operator or function; "
            "operator: BETWEEN, first operand: [a]",
        ),
        (
            "a IN (a, b)",
            None,
            "The first operand must be distinct from the remaining operands for this operator or function; "
            "operator: IN, first operand: [a]",
        ),
        (
            "begins_with(a, a)",
            None,
            "The first operand must be distinct from the remaining operands for this operator or function; "
            "operator: begins_with, first operand: [a]",
        ),
        (
            "contains(a, a)",
            None,
            "The first operand must be distinct from the remaining operands for this operator or function; "
            "operator: contains, first operand: [a]",
        ),
    ],
)
def test_condition_validation(expression: str, values: dict[str, object] | None, expected: str) -> None:
    message = compile_error("PutItem", ConditionExpression=expression, values=values)
    assert message == "Invalid ConditionExpression: " + expected


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        (
            "SET a = :v, a.b = :v",
            {":v": N1},
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [a], path two: [a, b]",
        ),
        (
            "SET a.b = :v, a = :v",
            {":v": N1},
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [a, b], path two: [a]",
        ),
        (
            "SET a = :v REMOVE a",
            {":v": N1},
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [a], path two: [a]",
        ),
        (
            "REMOVE a, a",
            None,
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [a], path two: [a]",
        ),
        (
            "SET a[0] = :v, a[0] = :v",
            {":v": N1},
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [a, [0]], path two: [a, [0]]",
        ),
        (
            "SET a[0] = :v, a.b = :v",
            {":v": N1},
            "Two document paths conflict with each other; must remove or rewrite one of these paths; "
            "path one: [a, [0]], path two: [a, b]",
        ),
        (
            "SET a.b = :v, a[0] = :v",
            {":v": N1},
            "Two document paths conflict with each other; must remove or rewrite one of these paths; "
            "path one: [a, b], path two: [a, [0]]",
        ),
        (
            "ADD a :v",
            {":v": S1},
            "Incorrect operand type for operator or function; operator: ADD, operand type: STRING, "
            "typeSet: ALLOWED_FOR_ADD_OPERAND",
        ),
        (
            "ADD a :v",
            {":v": {"L": []}},
            "Incorrect operand type for operator or function; operator: ADD, operand type: LIST, "
            "typeSet: ALLOWED_FOR_ADD_OPERAND",
        ),
        (
            "ADD a :v",
            {":v": {"BOOL": True}},
            "Incorrect operand type for operator or function; operator: ADD, operand type: BOOLEAN, "
            "typeSet: ALLOWED_FOR_ADD_OPERAND",
        ),
        (
            "ADD a :v",
            {":v": {"M": {}}},
            "Incorrect operand type for operator or function; operator: ADD, operand type: MAP, "
            "typeSet: ALLOWED_FOR_ADD_OPERAND",
        ),
        (
            "DELETE a :v",
            {":v": N1},
            "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, "
            "typeSet: ALLOWED_FOR_DELETE_OPERAND",
        ),
        (
            "DELETE a :v",
            {":v": {"NULL": True}},
            "Incorrect operand type for operator or function; operator: DELETE, operand type: NULL, "
            "typeSet: ALLOWED_FOR_DELETE_OPERAND",
        ),
        (
            "DELETE a :v",
            {":v": {"B": "AA=="}},
            "Incorrect operand type for operator or function; operator: DELETE, operand type: BINARY, "
            "typeSet: ALLOWED_FOR_DELETE_OPERAND",
        ),
        (
            "SET a = :v + :v",
            {":v": S1},
            "Incorrect operand type for operator or function; operator or function: +, operand type: S",
        ),
        ("SET a = size(b)", None, "The function is not allowed in an update expression; function: size"),
        (
            "SET a = if_not_exists(:v, b)",
            {":v": N1},
            "Operator or function requires a document path; operator or function: if_not_exists",
        ),
        (
            "SET a = list_append(:v, b)",
            {":v": N1},
            "Incorrect operand type for operator or function; operator "
            "or function: list_append, operand type: N",
        ),
    ],
)
def test_update_validation(expression: str, values: dict[str, object] | None, expected: str) -> None:
    message = compile_error("UpdateItem", UpdateExpression=expression, values=values)
    assert message == "Invalid UpdateExpression: " + expected


def test_compiled_result_is_frozen() -> None:
    compiled = compile_ok("PutItem", values={":v": N1}, ConditionExpression="a = :v")
    with pytest.raises(AttributeError):
        compiled.condition = None  # type: ignore[misc]


@pytest.mark.parametrize(
    ("parameter", "operation", "reports_size"),
    [
        ("ConditionExpression", "PutItem", True),
        ("FilterExpression", "Scan", True),
        ("KeyConditionExpression", "Query", True),
        ("ProjectionExpression", "GetItem", False),
        ("UpdateExpression", "UpdateItem", False),
    ],
)
def test_expression_length_limit(parameter: str, operation: str, reports_size: bool) -> None:
    text = "a" + " " * 4096
    message = compile_error(operation, **{parameter: text})
    suffix = " expression size: 4097" if reports_size else ""
    assert message == f"Invalid {parameter}: Expression size has exceeded the maximum allowed size;{suffix}"


def test_expression_length_is_in_utf16_code_units() -> None:
    four_bmp = "a = b" + " " * 4087 + "\u00e9" * 4  # 4096 characters, 4100 bytes of UTF-8
    assert "Syntax error" in compile_error("Scan", FilterExpression=four_bmp)
    astral = "a = b" + " " * 4090 + "\U0001f600"  # 4096 characters, 4097 code units
    assert compile_error("Scan", FilterExpression=astral).endswith("expression size: 4097")


def test_key_of_the_condition_with_keyconditions_comes_from_the_legacy_form() -> None:
    compiled = compile_ok(
        "Query",
        values={":v": N1},
        KeyConditions={"id": {"ComparisonOperator": "EQ", "AttributeValueList": [S1]}},
        FilterExpression="a = :v",
    )
    assert compiled.key_condition is not None and compiled.filter is not None


def test_expression_attribute_map_key_and_name_lengths() -> None:
    key = "#" + "k" * 255
    assert compile_error("GetItem", names={key: "a"}, ProjectionExpression=key) == (
        "ExpressionAttributeNames contains invalid key: "
        "The expression attribute map contains a key that is too long; size of key: 256"
    )
    assert compile_error("Scan", values={":" + "v" * 255: N1}, FilterExpression="a = b") == (
        "ExpressionAttributeValues contains invalid key: "
        "The expression attribute map contains a key that is too long;"
    )
    assert compile_ok("GetItem", names={"#n": "\u00e9" * 32767}, ProjectionExpression="#n").projection
    assert compile_error("GetItem", names={"#n": "\u00e9" * 32768}, ProjectionExpression="#n") == (
        "ExpressionAttributeNames contains invalid value: "
        "Attribute name is too large, must be less than 65536 bytes for key #n"
    )


def test_substitution_sizes_stay_under_2_mb() -> None:
    filter3 = "a = :v0 OR b = :v1 OR c = :v2"
    # Each entry counts its key and its size, up to 2 MiB: 3 * (3 + 699047) = 2097150 bytes pass, and
    # 32 names of 4 + 65532 (exactly 2 MiB) too; one more character each, or one more entry, does not.
    under = {f":v{i}": {"S": "x" * 699047} for i in range(3)}
    assert compile_ok("Scan", values=under, FilterExpression=filter3).filter is not None
    over = {f":v{i}": {"S": "x" * 699048} for i in range(3)}
    assert compile_error("Scan", values=over, FilterExpression=filter3 + " (((") == (
        "ExpressionAttributeValues exceeds max size"
    )
    exactly = {f"#n{i:02d}": chr(97 + i % 26) * 65530 + f"{i:02d}" for i in range(32)}
    names = {f"#n{i:02d}": chr(97 + i % 26) * 65530 + f"{i:02d}" for i in range(33)}
    exists = " OR ".join(f"attribute_exists({key})" for key in names)
    assert compile_error("Scan", names=names, FilterExpression=exists) == (
        "ExpressionAttributeNames exceeds max size"
    )
    assert (
        compile_error("Scan", names=names, FilterExpression="(((")
        == "ExpressionAttributeNames exceeds max size"
    )
    assert compile_error("Scan", names=exactly, values={":q": N1}, FilterExpression="a = :zz") == (
        "Combined size of ExpressionAttributeNames and ExpressionAttributeValues exceeds max size"
    )
    half = {":v0": {"S": "x" * 1_000_000}, ":v1": {"S": "y" * 1_000_000}}
    some = {f"#n{i}": chr(97 + i) * 60_000 for i in range(3)}
    both = "a = :v0 OR b = :v1 OR " + " OR ".join(f"attribute_exists({key})" for key in some)
    assert compile_error("Scan", names=some, values=half, FilterExpression=both) == (
        "Combined size of ExpressionAttributeNames and ExpressionAttributeValues exceeds max size"
    )

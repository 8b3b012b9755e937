"""ExecuteStatement through boto3: SELECT as Query or Scan, INSERT/UPDATE/DELETE, literals, parameters,
paging and DynamoDB's errors (texts checked against DynamoDB Local)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.local_differences import MISSING_TABLE

MALFORMED = "Statement wasn't well formed, can't be processed: "
ARITY = "Incorrect number of operands for operator or function; operator or function: "


@pytest.fixture
def table(ddb: Any, make_table: Callable[..., str]) -> str:
    """pk S, sk N; partition 'a' holds sk 0..4 with v 'x0'..'x4' and g 'G'; a GSI `gix` on g."""
    name = make_table(
        range_key=("sk", "N"),
        attribute_definitions=[("g", "S")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gix",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for i in range(5):
        ddb.put_item(
            TableName=name,
            Item={"pk": {"S": "a"}, "sk": {"N": str(i)}, "v": {"S": f"x{i}"}, "g": {"S": "G"}},
        )
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "sk": {"N": "0"}, "v": {"S": "y"}})
    return name


@pytest.fixture
def doc(ddb: Any, make_table: Callable[..., str], table_name: str) -> str:
    """pk S only; item 'a' with a number, a list, a map and a NULL."""
    name = make_table(f"{table_name}_doc")
    ddb.put_item(
        TableName=name,
        Item={
            "pk": {"S": "a"},
            "n": {"N": "1"},
            "l": {"L": [{"S": "q"}]},
            "m": {"M": {"x": {"N": "2"}}},
            "nul": {"NULL": True},
        },
    )
    return name


def run(ddb: Any, statement: str, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = ddb.execute_statement(Statement=statement, **extra)
    response.pop("ResponseMetadata", None)
    return response


def items(ddb: Any, statement: str, **extra: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = run(ddb, statement, **extra)["Items"]
    return found


def error(ddb: Any, statement: str, **extra: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        ddb.execute_statement(Statement=statement, **extra)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def sks(found: list[dict[str, Any]]) -> list[str]:
    return [item["sk"]["N"] for item in found]


# --- SELECT ---------------------------------------------------------------------------------------


def test_select_partition_is_a_query_in_sort_order(ddb: Any, table: str) -> None:
    assert sks(items(ddb, f"SELECT * FROM \"{table}\" WHERE pk = 'a'")) == ["0", "1", "2", "3", "4"]
    assert sks(items(ddb, f"SELECT * FROM \"{table}\" WHERE pk='a' AND sk > 2")) == ["3", "4"]
    assert sks(items(ddb, f"SELECT * FROM \"{table}\" WHERE pk = 'a' AND sk BETWEEN 1 AND 2")) == ["1", "2"]


@pytest.mark.differs_from_dynamodb_local("`3 <= sk` reads as `sk <= 3`")
def test_value_first_sort_key_comparison(ddb: Any, table: str) -> None:
    """PartiQL's `<=` means the same whichever side the attribute is on."""
    assert sks(items(ddb, f"SELECT * FROM \"{table}\" WHERE pk = 'a' AND 3 <= sk")) == ["3", "4"]


def test_select_order_by_sort_key(ddb: Any, table: str) -> None:
    found = items(ddb, f"SELECT * FROM \"{table}\" WHERE pk = 'a' ORDER BY sk DESC")
    assert sks(found) == ["4", "3", "2", "1", "0"]
    assert sks(items(ddb, f"SELECT * FROM \"{table}\" WHERE pk = 'a' ORDER BY sk ASC")) == [
        "0",
        "1",
        "2",
        "3",
        "4",
    ]


def test_select_without_partition_key_scans(ddb: Any, table: str) -> None:
    assert len(items(ddb, f'SELECT * FROM "{table}"')) == 6
    found = items(ddb, f"SELECT v FROM \"{table}\" WHERE pk IN ['a', 'b'] AND sk = 0")
    assert sorted(item["v"]["S"] for item in found) == ["x0", "y"]
    assert items(ddb, f"SELECT v FROM \"{table}\" WHERE v = 'y' OR v = 'nope'") == [{"v": {"S": "y"}}]


def test_select_projection(ddb: Any, table: str, doc: str) -> None:
    found = items(ddb, f"select v, sk FROM \"{table}\" WHERE pk='a' AND sk > 3")
    assert found == [{"v": {"S": "x4"}, "sk": {"N": "4"}}]
    assert items(ddb, f'SELECT m.x, l[0], "n" FROM "{doc}"') == [
        {"x": {"N": "2"}, "l[0]": {"S": "q"}, "n": {"N": "1"}}
    ]


def test_select_from_an_index(ddb: Any, table: str) -> None:
    found = items(ddb, f'SELECT * FROM "{table}"."gix" WHERE g = \'G\'')
    assert sorted(sks(found)) == ["0", "1", "2", "3", "4"]
    code, message = error(ddb, f'SELECT * FROM "{table}"."nox" WHERE g = \'G\'')
    assert (code, message) == ("ValidationException", "The table does not have the specified index: nox")


@pytest.mark.parametrize(
    "where",
    [
        "nul IS NULL",
        "zz IS MISSING",
        "n IS NOT MISSING",
        "zz IS NOT NULL",
        "pk IN ['a', 'b']",
        "n IN (1, 2)",
        "begins_with(pk, 'a') AND contains(l, 'q') AND attribute_type(n, 'N') AND size(l) = 1",
        "n BETWEEN 0 AND 3",
        "NOT n = 2",
        "n <> 2 AND n != 3",
        "(n = 1 OR n = 2) AND m.x = 2 AND l[0] = 'q' AND m['x'] >= 2",
        "n = 1.0 AND 1 = n",
        "nul = NULL",
        "contains(l, 'q') = true",
        "(n) = 1 AND (n = 1)",
        "n = +1",
        "pk = 'a' -- a comment\n AND /* another */ n = 1",
    ],
)
def test_where_matches(ddb: Any, doc: str, where: str) -> None:
    assert [item["pk"] for item in items(ddb, f'SELECT * FROM "{doc}" WHERE {where}')] == [{"S": "a"}]


@pytest.mark.parametrize(
    "where", ["zz IS NULL", "NOT zz IS MISSING", "n = 'x'", "n = -1", "NOT n IN [1]", "size(l) > 1"]
)
def test_where_does_not_match(ddb: Any, doc: str, where: str) -> None:
    assert items(ddb, f"SELECT * FROM \"{doc}\" WHERE pk = 'a' AND {where}") == []


def test_parameters(ddb: Any, doc: str) -> None:
    found = items(ddb, f'SELECT pk FROM "{doc}" WHERE pk = ? AND n = ?', Parameters=[{"S": "a"}, {"N": "1"}])
    assert found == [{"pk": {"S": "a"}}]
    run(ddb, f"INSERT INTO \"{doc}\" VALUE {{'pk': ?, 'b': ?}}", Parameters=[{"S": "p1"}, {"B": b"\x00\x01"}])
    assert items(ddb, f'SELECT "b" FROM "{doc}" WHERE "pk" = \'p1\'') == [{"b": {"B": b"\x00\x01"}}]


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        pytest.param(
            {"N": "abc"},
            "The parameter cannot be converted to a numeric value: abc",
            marks=pytest.mark.differs_from_dynamodb_local(
                "'A value provided cannot be converted into a number'"
            ),
        ),
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
        ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, "
            "must contain exactly one of the supported datatypes",
        ),
    ],
)
def test_invalid_parameters(server: Any, doc: str, parameter: dict[str, Any], message: str) -> None:
    raw = server.client("dynamodb", parameter_validation=False)
    with pytest.raises(ClientError) as info:
        raw.execute_statement(Statement=f'SELECT * FROM "{doc}" WHERE n = ?', Parameters=[parameter])
    assert info.value.response["Error"]["Message"] == message


def test_insert_value_must_be_a_tuple(ddb: Any, doc: str) -> None:
    code, message = error(ddb, f'INSERT INTO "{doc}" VALUE ?', Parameters=[{"M": {"pk": {"S": "x"}}}])
    assert (code, message) == (
        "ValidationException",
        "Unsupported format in item expression. Please use struct format {...} to express item values "
        "for insert statement. at 1:" + str(len(f'INSERT INTO "{doc}" VALUE ?')) + ":1",
    )


def test_too_few_parameters(ddb: Any, doc: str) -> None:
    expected = ("ValidationException", "Number of parameters in request and statement don't match.")
    assert error(ddb, f'SELECT * FROM "{doc}" WHERE n = ?') == expected
    assert error(ddb, f'SELECT * FROM "{doc}" WHERE pk = ? AND n = ?', Parameters=[{"S": "a"}]) == expected


def test_trailing_semicolon(ddb: Any, doc: str) -> None:
    assert len(items(ddb, f"SELECT * FROM \"{doc}\" WHERE pk = 'a';")) == 1


def test_paging_with_limit_and_next_token(ddb: Any, table: str) -> None:
    for statement in (f"SELECT * FROM \"{table}\" WHERE pk = 'a'", f'SELECT * FROM "{table}"'):
        seen: list[dict[str, Any]] = []
        token: str | None = None
        pages = 0
        while True:
            extra: dict[str, Any] = {"Limit": 2}
            if token is not None:
                extra["NextToken"] = token
            page = run(ddb, statement, **extra)
            assert len(page["Items"]) <= 2
            seen.extend(page["Items"])
            pages += 1
            token = page.get("NextToken")
            if token is None:
                break
        assert len(seen) == (5 if "WHERE" in statement else 6)
        assert len({(i["pk"]["S"], i["sk"]["N"]) for i in seen}) == len(seen)
        assert pages >= 3


@pytest.mark.differs_from_dynamodb_local("no LastEvaluatedKey beside NextToken")
def test_a_page_names_its_last_evaluated_key(ddb: Any, table: str) -> None:
    """The API reference's ExecuteStatement output has LastEvaluatedKey, the key NextToken resumes after."""
    page = run(ddb, f"SELECT * FROM \"{table}\" WHERE pk = 'a'", Limit=2)
    assert page["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}


def test_invalid_next_token(ddb: Any, table: str) -> None:
    statement = f"SELECT * FROM \"{table}\" WHERE pk = 'a'"
    assert error(ddb, statement, NextToken="garbage") == ("ValidationException", "Invalid NextToken")


def test_consistent_read(ddb: Any, table: str) -> None:
    assert len(items(ddb, f"SELECT * FROM \"{table}\" WHERE pk = 'a'", ConsistentRead=True)) == 5
    code, message = error(ddb, f'SELECT * FROM "{table}"."gix" WHERE g = \'G\'', ConsistentRead=True)
    assert (code, message) == (
        "ValidationException",
        "Consistent reads are not supported on global secondary indexes",
    )


@pytest.mark.differs_from_dynamodb_local("no ConsumedCapacity in ExecuteStatement's answer")
def test_consumed_capacity(ddb: Any, table: str) -> None:
    """The API reference documents ConsumedCapacity for ExecuteStatement (ReturnConsumedCapacity)."""
    read = run(ddb, f"SELECT * FROM \"{table}\" WHERE pk = 'a'", ReturnConsumedCapacity="TOTAL")
    assert read["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 0.5}
    write = run(
        ddb, f"UPDATE \"{table}\" SET v = 'z' WHERE pk = 'a' AND sk = 0", ReturnConsumedCapacity="TOTAL"
    )
    assert write["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 2.0}


# --- writes ---------------------------------------------------------------------------------------


def test_insert_literals(ddb: Any, doc: str) -> None:
    statement = (
        f"INSERT INTO \"{doc}\" VALUE {{'pk': 'b', 'n': 5, 'bo': true, 'nu': null, 'l': [1, 'x'], "
        "'m': {'a': {'b': 2}}, 'ss': <<'x','y'>>, 'ns': <<1,2>>, 'f': 1.5e3, 'g': -0.25, 's': 'it''s', "
        "'e': ''}"
    )
    assert run(ddb, statement) == {"Items": []}
    item = ddb.get_item(TableName=doc, Key={"pk": {"S": "b"}})["Item"]
    assert item == {
        "pk": {"S": "b"},
        "n": {"N": "5"},
        "bo": {"BOOL": True},
        "nu": {"NULL": True},
        "l": {"L": [{"N": "1"}, {"S": "x"}]},
        "m": {"M": {"a": {"M": {"b": {"N": "2"}}}}},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2"]},
        "f": {"N": "1500"},
        "g": {"N": "-0.25"},
        "s": {"S": "it's"},
        "e": {"S": ""},
    }


@pytest.mark.differs_from_dynamodb_local("error code 'DuplicateItem', not the model's DuplicateItemException")
def test_insert_existing_item(ddb: Any, doc: str) -> None:
    code, message = error(
        ddb, f"INSERT INTO \"{doc}\" VALUE {{'pk': 'a'}}", ReturnValuesOnConditionCheckFailure="ALL_OLD"
    )
    assert (code, message) == ("DuplicateItemException", "Duplicate primary key exists in table")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{'n': 1}", "Key attribute should be present in the item: Key pk"),
        ("{'pk': 1}", "Key attribute's data type should match its data type in table's schema: Key pk"),
        ("{'pk': 'e', 'x': {'a': <<>>}}", "Empty bags are not supported at 1:{col}:2"),
        (
            "{'pk': 'f', 'x': <<1, 'a'>>}",
            "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags",
        ),
        ("{'pk': 'f', 'pk': 'g'}", "Duplicate keys in tuple. Key: pk under root at 1:{col}:4"),
        ("{'pk': 'f', 'x': MISSING}", "Unsupported data type: MISSING under key root at 1:{col}:7"),
    ],
)
def test_insert_errors(ddb: Any, doc: str, value: str, message: str) -> None:
    statement = f'INSERT INTO "{doc}" VALUE {value}'
    markers = {"Empty": "<<", "Duplicate": "'pk'", "Unsupported data type:": "MISSING"}
    for start, marker in markers.items():
        if message.startswith(start):
            message = message.format(col=statement.rfind(marker) + 1)
    assert error(ddb, statement) == ("ValidationException", message)


def test_update(ddb: Any, doc: str) -> None:
    assert run(ddb, f"UPDATE \"{doc}\" SET n = n + 1 WHERE pk = 'a'") == {"Items": []}
    found = items(
        ddb, f"UPDATE \"{doc}\" SET n = 7 SET q = 'z' REMOVE nul WHERE pk = 'a' RETURNING ALL NEW *"
    )
    assert found == [
        {
            "pk": {"S": "a"},
            "n": {"N": "7"},
            "q": {"S": "z"},
            "l": {"L": [{"S": "q"}]},
            "m": {"M": {"x": {"N": "2"}}},
        }
    ]
    found = items(
        ddb, f"UPDATE \"{doc}\" SET l = list_append(l, [3]) WHERE pk = 'a' RETURNING MODIFIED NEW *"
    )
    assert found == [{"l": {"L": [{"S": "q"}, {"N": "3"}]}}]
    found = items(
        ddb, f"UPDATE \"{doc}\" SET ss = set_add(ss, <<'z', 'x'>>) WHERE pk = 'a' RETURNING MODIFIED OLD *"
    )
    assert found == []
    found = items(
        ddb, f"UPDATE \"{doc}\" SET ss = set_delete(ss, <<'x'>>) WHERE pk = 'a' RETURNING MODIFIED NEW *"
    )
    assert found == [{"ss": {"SS": ["z"]}}]
    found = items(ddb, f"UPDATE \"{doc}\" SET m.x = 9 WHERE pk = 'a' AND n = 7 RETURNING ALL OLD *")
    assert found[0]["m"] == {"M": {"x": {"N": "2"}}}
    found = items(
        ddb, f"update \"{doc}\" set r = if_not_exists(r, 5) where pk = 'a' returning modified new *"
    )
    assert found == [{"r": {"N": "5"}}]


def test_update_condition_fails(ddb: Any, doc: str) -> None:
    code, message = error(ddb, f"UPDATE \"{doc}\" SET x = 1 WHERE pk = 'a' AND n = 9")
    assert (code, message) == ("ConditionalCheckFailedException", "The conditional request failed")
    with pytest.raises(ClientError) as info:
        ddb.execute_statement(
            Statement=f"UPDATE \"{doc}\" SET x = 1 WHERE pk = 'a' AND n = 9",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert info.value.response["Item"]["n"] == {"N": "1"}
    code, _ = error(ddb, f"UPDATE \"{doc}\" SET x = 1 WHERE pk = 'missing'")
    assert code == "ConditionalCheckFailedException"
    assert "Item" not in ddb.get_item(TableName=doc, Key={"pk": {"S": "missing"}})


def test_delete(ddb: Any, doc: str) -> None:
    code, _ = error(ddb, f"DELETE FROM \"{doc}\" WHERE pk = 'a' AND n = 8")
    assert code == "ConditionalCheckFailedException"
    assert run(ddb, f"DELETE FROM \"{doc}\" WHERE pk = 'nope'") == {"Items": []}
    found = items(ddb, f"DELETE FROM \"{doc}\" WHERE pk = 'a' AND n = 1 RETURNING ALL OLD *")
    assert found[0]["pk"] == {"S": "a"}
    assert "Item" not in ddb.get_item(TableName=doc, Key={"pk": {"S": "a"}})


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            'UPDATE "{t}" SET n = 1 WHERE n = 7',
            "Where clause does not contain a mandatory equality on all key attributes",
        ),
        (
            'DELETE FROM "{t}" WHERE n = 1',
            "Where clause does not contain a mandatory equality on all key attributes",
        ),
        (
            "UPDATE \"{t}\" SET pk = 'q' WHERE pk = 'a'",
            "One or more parameter values were invalid: "
            "Cannot update attribute pk. This attribute is part of the key",
        ),
        (
            "DELETE FROM \"{t}\" WHERE pk = 'a' RETURNING ALL NEW *",
            "Invalid returning clause: RETURNING ALL NEW *. "
            "Only RETURNING ALL OLD * is allowed in DELETE statements.",
        ),
        (
            "UPDATE \"{t}\" SET n = 1 WHERE pk = 'a' RETURNING ALL OLD n",
            "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause",
        ),
        (
            "INSERT INTO \"{t}\" VALUE {{'pk': 'x'}} RETURNING ALL OLD *",
            "RETURNING is not supported in INSERT",
        ),
        (
            'SELECT * FROM "{t}" WHERE pk = 1',
            "Key attribute's data type should match its data type in table's schema: Key pk",
        ),
        ('SELECT * FROM "{t}" WHERE n = MISSING', "MISSING must be compared using IS operator"),
        ('SELECT * FROM "{t}" WHERE exists(n)', "Unrecognized function: exists"),
        ('SELECT * FROM "{t}" WHERE foo(n)', "Unrecognized function: foo"),
        (
            'SELECT * FROM "{t}" WHERE begins_with(n)',
            ARITY + "begins_with, number of operands: 1",
        ),
        (
            'SELECT * FROM "{t}" WHERE size(n, 1) = 1',
            ARITY + "size, number of operands: 2",
        ),
        ("SELECT * FROM \"{t}\" WHERE pk = 'a' AND n", "The arguments to AND/OR must be Expressions"),
        ('SELECT COUNT(*) FROM "{t}"', "Unexpected path component at 1:8:5"),
        (
            'SELECT m.x.y, l[0], "m"."x" FROM "{t}"',
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [m, x], path two: [m, x, y]",
        ),
        (
            "EXISTS(SELECT * FROM \"{t}\" WHERE pk = 'a')",
            "EXISTS can only be used in ExecuteTransaction write requests.",
        ),
        ("CREATE TABLE foo", "Unsupported operation: CreateTable"),
        ('SELECT * FROM "{t}" WHERE n = 1 + 0', "Unsupported operator in Condition Expression. Operator: +"),
        (
            'SELECT * FROM "{t}" WHERE n IN 1',
            "IN operator must have a left hand argument of type Variable Reference and right hand argument "
            "of type Seq with at least one member",
        ),
        ("SELECT pk, pk FROM \"{t}\" WHERE pk = 'a'", "Duplicate identifiers in select clause: pk"),
        (
            "UPDATE \"{t}\" SET n = 5 WHERE pk = 'a' AND pk = 'b'",
            "Multiple conditions on same key pk. Only single item Update/Insert/Delete are supported",
        ),
        (
            "UPDATE \"{t}\" SET n = n + 'x' WHERE pk = 'a'",
            "Incorrect operand type for operator or function; operator or function: +, operand type: S",
        ),
        (
            "UPDATE \"{t}\" SET n = 5, n = 6 WHERE pk = 'a'",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [n], path two: [n]",
        ),
        (
            "SELECT * FROM \"{t}\" WHERE pk = ''",
            "One or more parameter values are not valid. "
            "The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
        ),
        (
            "UPDATE \"{t}\" SET n = 1 WHERE pk = ''",
            "One or more parameter values are not valid. "
            "The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
        ),
        (
            "INSERT INTO \"{t}\" VALUE {{'pk': 'x', 'a': 1e400}}",
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            'SELECT * FROM "{t}" ORDER BY pk DESC',
            "Must have WHERE clause in the statement when using ORDER BY clause.",
        ),
    ],
)
def test_statement_errors(ddb: Any, doc: str, statement: str, message: str) -> None:
    assert error(ddb, statement.format(t=doc)) == ("ValidationException", message)


@pytest.mark.parametrize(("ion", "kind"), [("`1`", "INT"), ('`"x"`', "STRING"), ("`{b: 1}`", "STRUCT")])
def test_ion_literals_are_refused(ddb: Any, doc: str, ion: str, kind: str) -> None:
    statement = f"INSERT INTO \"{doc}\" VALUE {{'pk': 'ion', 'a': {ion}}}"
    where = f"1:{statement.index(ion) + 1}:{len(ion)}"
    message = f"Ion Literals are not supported: {kind} under key root at {where}"
    assert error(ddb, statement) == ("ValidationException", message)


def test_limit_clause_is_unsupported(ddb: Any, doc: str) -> None:
    statement = f"SELECT * FROM \"{doc}\" WHERE pk='a' LIMIT 1"
    expected = f"Unsupported clause: LIMIT at 1:{len(statement)}:1"
    assert error(ddb, statement) == ("ValidationException", expected)


def test_order_by_errors(ddb: Any, table: str) -> None:
    assert error(ddb, f"SELECT * FROM \"{table}\" WHERE pk = 'a' ORDER BY v") == (
        "ValidationException",
        "Variable reference v in ORDER BY clause must be part of the primary key",
    )
    assert error(ddb, f'SELECT * FROM "{table}" WHERE sk = 1 ORDER BY sk') == (
        "ValidationException",
        "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.",
    )


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM",
        'SELECT * FROM "{t}" WHERE',
        'SELEC * FROM "{t}"',
        "SELECT * FROM \"{t}\" WHERE n = 'x' AND ",
        'SELECT * FROM "{t}"; SELECT * FROM "{t}"',
        "UPSERT INTO \"{t}\" VALUE {{'pk': 'x'}}",
        "INSERT INTO \"{t}\" VALUE {{'pk': 'c', 'e': ``}}",
        'SELECT * FROM "{t}" WHERE pk = \'unterminated',
    ],
)
def test_malformed_statements(ddb: Any, doc: str, statement: str) -> None:
    text = statement.format(t=doc)
    assert error(ddb, text) == ("ValidationException", MALFORMED + text)


@MISSING_TABLE
def test_missing_table(ddb: Any) -> None:
    assert error(ddb, "SELECT * FROM nope_partiql WHERE pk = 'a'") == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )


def test_request_members_are_validated(server: Any, doc: str) -> None:
    raw = server.client("dynamodb", parameter_validation=False)
    statement = f"SELECT * FROM \"{doc}\" WHERE pk = 'a'"
    with pytest.raises(ClientError) as info:
        raw.execute_statement(Statement=statement, Limit=0)
    assert info.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


@pytest.mark.differs_from_dynamodb_local("'BatchGetItem cannot fetch more than 25 items'")
def test_batch_of_more_than_25_statements(server: Any, doc: str) -> None:
    """The service model bounds Statements to 25 members; DynamoDB words it as any length constraint."""
    raw = server.client("dynamodb", parameter_validation=False)
    statement = f"SELECT * FROM \"{doc}\" WHERE pk = 'a'"
    with pytest.raises(ClientError) as info:
        raw.batch_execute_statement(Statements=[{"Statement": statement}] * 26)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must have length less than or equal to 25" in info.value.response["Error"]["Message"]

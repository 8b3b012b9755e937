"""The PartiQL parser, its plans and `access`: pure parts, no server."""

from __future__ import annotations

import pytest

from headwater.errors import ValidationException
from headwater.expressions import evaluate
from headwater.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Call,
    Compare,
    Condition,
    DeleteAction,
    Item,
    KeyTerm,
    Not,
    Path,
    RemoveAction,
    SetAction,
    Value,
)
from headwater.model.schema import KeyAttribute, KeySchema
from headwater.partiql import Delete, Exists, Insert, Select, UpdateStatement, access, parse
from headwater.partiql.plan import NO_KEY_EQUALITY, read_plan, write_target

KEY = KeySchema.single(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))
ITEM: Item = {
    "pk": {"S": "a"},
    "sk": {"N": "3"},
    "n": {"N": "1"},
    "l": {"L": [{"S": "q"}]},
    "nul": {"NULL": True},
}


def where(text: str) -> Condition:
    statement = parse(f"SELECT * FROM t WHERE {text}")
    assert isinstance(statement, Select) and statement.where is not None
    return statement.where


def test_select_tree() -> None:
    statement = parse(
        'select m.x, l[0], "Q" from "my-table"."ix" where pk = ? order by sk desc', [{"S": "a"}]
    )
    assert statement == Select(
        "my-table",
        "ix",
        (("x", Path(("m", "x"))), ("l[0]", Path(("l", 0))), ("Q", Path(("Q",)))),
        Compare("=", Path(("pk",)), Value({"S": "a"})),
        "sk",
        True,
    )


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        ("n = 1", True),
        ("n = 1.00", True),
        ("n <> 1", False),
        ("n != 2", True),
        ("1 < n", False),
        ("n BETWEEN 0 AND 1", True),
        ("n IN [2, 3]", False),
        ("n NOT IN (2, 3)", True),
        ("zz IS MISSING", True),
        ("n IS NOT MISSING", True),
        ("nul IS NULL", True),
        ("zz IS NULL", False),
        ("zz IS NOT NULL", True),
        ("begins_with(pk, 'a') AND contains(l, 'q')", True),
        ("attribute_type(n, 'S') OR size(l) = 1", True),
        ("NOT (n = 1 OR n = 2)", False),
        ("contains(l, 'q') = false", False),
        ("n = -1", False),
    ],
)
def test_conditions_evaluate_with_the_one_evaluator(condition: str, matches: bool) -> None:
    tree = where(condition)
    assert evaluate(tree, ITEM) is matches


def test_writes() -> None:
    insert = parse(
        "INSERT INTO t VALUE {'pk': 'a', 's': <<'b', 'a'>>, 'n': <<2, 1>>, 'm': {'x': [1, true, null]}}"
    )
    assert insert == Insert(
        "t",
        {
            "pk": {"S": "a"},
            "s": {"SS": ["a", "b"]},
            "n": {"NS": ["1", "2"]},
            "m": {"M": {"x": {"L": [{"N": "1"}, {"BOOL": True}, {"NULL": True}]}}},
        },
    )
    update = parse(
        "UPDATE t SET n = n + 1, s = set_add(s, <<'c'>>) REMOVE x SET d = set_delete(d, <<1>>) WHERE pk = 'a'"
    )
    assert isinstance(update, UpdateStatement)
    assert update.update.actions == (
        SetAction(Path(("n",)), Arithmetic("+", Path(("n",)), Value({"N": "1"}))),
        AddAction(Path(("s",)), Value({"SS": ["c"]})),
        RemoveAction(Path(("x",))),
        DeleteAction(Path(("d",)), Value({"NS": ["1"]})),
    )
    delete = parse("DELETE FROM t WHERE pk = 'a' RETURNING ALL OLD *")
    assert delete == Delete("t", Compare("=", Path(("pk",)), Value({"S": "a"})), "ALL OLD")
    exists = parse("EXISTS(SELECT * FROM t WHERE pk = 'a')")
    assert isinstance(exists, Exists)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM t WHERE " + "(" * 200 + "a = 1" + ")" * 200,
        "SELECT * FROM t WHERE " + "NOT " * 200 + "a = 1",
        "INSERT INTO t VALUE {'pk': " + "[" * 200 + "]" * 200 + "}",
        "SELECT * FROM t WHERE a = 'unterminated",
        "SELECT * FROM t WHERE a = 1 extra",
        "SELECT * FROM t WHERE a = #",
    ],
)
def test_malformed_is_a_validation_error(statement: str) -> None:
    with pytest.raises(ValidationException) as info:
        parse(statement)
    assert info.value.message == f"Statement wasn't well formed, can't be processed: {statement}"


def test_parameters_are_counted() -> None:
    with pytest.raises(ValidationException, match="Number of parameters"):
        parse("SELECT * FROM t WHERE a = ? AND b = ?", [{"S": "x"}])


def test_read_plan() -> None:
    plan = read_plan(KEY, where("n = 1 AND pk = 'a' AND sk > 2"))
    assert plan.partition == ({"S": "a"},)
    assert plan.sort == (KeyTerm("sk", "GT", ({"N": "2"},)),)
    assert read_plan(KEY, where("2 >= sk AND pk = 'a'")).sort == (KeyTerm("sk", "LE", ({"N": "2"},)),)
    assert read_plan(KEY, where("pk = 'a' OR pk = 'b'")).partition is None
    with pytest.raises(ValidationException, match="Key attribute's data type"):
        read_plan(KEY, where("pk = 1"))


def test_write_target() -> None:
    target = write_target(KEY, where("sk = 3 AND n = 1 AND pk = 'a'"))
    assert target.key == {"pk": {"S": "a"}, "sk": {"N": "3"}}
    assert target.rest == Compare("=", Path(("n",)), Value({"N": "1"}))
    with pytest.raises(ValidationException) as info:
        write_target(KEY, where("pk = 'a' AND sk > 3"))
    assert info.value.message == NO_KEY_EQUALITY


def test_access() -> None:
    read = access(parse('SELECT * FROM "t"."ix" WHERE g = ? AND n > 1', [{"S": "x"}]))
    assert (read.table, read.index, read.kind, read.values, read.action) == (
        "t",
        "ix",
        "select",
        {"g": {"S": "x"}},
        "dynamodb:PartiQLSelect",
    )
    insert = access(parse("INSERT INTO t VALUE {'pk': 'a', 'v': 1}"))
    assert (insert.kind, insert.values, insert.action) == (
        "insert",
        {"pk": {"S": "a"}, "v": {"N": "1"}},
        "dynamodb:PartiQLInsert",
    )
    update = access(parse("UPDATE t SET v = 1 WHERE pk = 'a' AND sk = 2"))
    assert (update.kind, update.values, update.action) == (
        "update",
        {"pk": {"S": "a"}, "sk": {"N": "2"}},
        "dynamodb:PartiQLUpdate",
    )
    delete = access(parse("DELETE FROM t WHERE pk = 'a'"))
    assert delete.action == "dynamodb:PartiQLDelete"
    check = access(parse("EXISTS(SELECT * FROM t WHERE pk = 'a')"))
    assert (check.table, check.kind, check.values) == ("t", "exists", {"pk": {"S": "a"}})


def test_negations_compile_to_not() -> None:
    assert where("NOT n = 1") == Not(Compare("=", Path(("n",)), Value({"N": "1"})))
    assert where("n IS NOT MISSING AND m IS MISSING") == And(
        Call("attribute_exists", (Path(("n",)),)), Call("attribute_not_exists", (Path(("m",)),))
    )

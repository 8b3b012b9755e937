"""Parser: trees, precedence, and DynamoDB's syntax error text (messages copied from DynamoDB)."""

from __future__ import annotations

import pytest

from headwater.expressions.ast import And, Between, Call, Compare, In, NameRef, Not, Or, Path, ValueRef
from headwater.expressions.errors import ExpressionError
from headwater.expressions.parser import parse_condition, parse_projection, parse_update


def detail(parse: object, text: str) -> str:
    with pytest.raises(ExpressionError) as info:
        parse(text)  # type: ignore[operator]
    return info.value.detail


def test_precedence_not_and_or() -> None:
    tree = parse_condition("a = :a OR NOT b = :b AND c = :c")
    assert tree == Or(
        Compare("=", Path(("a",)), ValueRef(":a")),
        And(Not(Compare("=", Path(("b",)), ValueRef(":b"))), Compare("=", Path(("c",)), ValueRef(":c"))),
    )


def test_parentheses_override_precedence() -> None:
    tree = parse_condition("(a = :a OR b = :b) AND c = :c")
    assert isinstance(tree, And)
    assert isinstance(tree.left, Or)


def test_paths_names_and_indexes() -> None:
    tree = parse_condition("a.#b[2].c = :v")
    assert tree == Compare("=", Path(("a", NameRef("#b"), 2, "c")), ValueRef(":v"))


def test_between_in_and_functions() -> None:
    assert parse_condition("a BETWEEN :x AND :y") == Between(Path(("a",)), ValueRef(":x"), ValueRef(":y"))
    assert parse_condition("a IN (:x, b)") == In(Path(("a",)), (ValueRef(":x"), Path(("b",))))
    assert parse_condition("size(a) > :n") == Compare(">", Call("size", (Path(("a",)),)), ValueRef(":n"))
    assert parse_condition("begins_with(a, :p)") == Call("begins_with", (Path(("a",)), ValueRef(":p")))


def test_parenthesized_operand_is_allowed() -> None:
    assert parse_condition("(a) = :v") == Compare("=", Path(("a",)), ValueRef(":v"))
    assert parse_condition("a = (:v)") == Compare("=", Path(("a",)), ValueRef(":v"))


def test_keywords_are_case_insensitive() -> None:
    update = parse_update("set a = :v remove b")
    assert len(update.actions) == 2
    assert parse_condition("a = :v and not b = :v") == parse_condition("a = :v AND NOT b = :v")


def test_parse_is_cached_by_text() -> None:
    assert parse_condition("x = :cached") is parse_condition("x = :cached")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = ", 'Syntax error; token: "<EOF>", near: "= "'),
        ("a", 'Syntax error; token: "<EOF>", near: "a"'),
        ("NOT a", 'Syntax error; token: "<EOF>", near: "a"'),
        ("a = b AND", 'Syntax error; token: "<EOF>", near: "AND"'),
        ("a IN ()", 'Syntax error; token: ")", near: "()"'),
        ("(a = b", 'Syntax error; token: "<EOF>", near: "b"'),
        ("a = b)", 'Syntax error; token: ")", near: "b)"'),
        ("a == b", 'Syntax error; token: "=", near: "== b"'),
        ("a != b", 'Syntax error; token: "!", near: "a !="'),
        ("a BETWEEN b", 'Syntax error; token: "<EOF>", near: "b"'),
        ("a = b = c", 'Syntax error; token: "=", near: "b = c"'),
        ("a.b.c.d", 'Syntax error; token: "<EOF>", near: "d"'),
        ("a[1]", 'Syntax error; token: "<EOF>", near: "]"'),
        ("((a = :v))", "The expression has redundant parentheses;"),
        ("(" * 300 + "a = :v" + ")" * 300, "The expression has redundant parentheses;"),
        ("a = :v AND " * 370 + "a = :v", "The expression contains too many operators; operator count: 301"),
        ("a.b" + ".b" * 40 + " = :v", "The document path has too many nesting levels; nesting levels: 42"),
        ("a" + "[0]" * 40 + " = :v", "The document path has too many nesting levels; nesting levels: 41"),
        ("foo(a)", "Invalid function name; function: foo"),
        ("SIZE(a) = :v", "Invalid function name; function: SIZE"),
        ("a = :v AND name = :v", "Attribute name is a reserved keyword; reserved keyword: name"),
    ],
)
def test_condition_errors(text: str, expected: str) -> None:
    assert detail(parse_condition, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "The expression can not be empty;"),
        ("   ", 'Syntax error; token: "<EOF>", near: "   "'),
        ("SET a = ", 'Syntax error; token: "<EOF>", near: "= "'),
        ("SET a = :v,", 'Syntax error; token: "<EOF>", near: ","'),
        ("SET a = :v = :v", 'Syntax error; token: "=", near: ":v = :v"'),
        ("SET a = b - c - d", 'Syntax error; token: "-", near: "c - d"'),
        ("SET a = b[1a]", 'Syntax error; token: "a", near: "1a]"'),
        ("SET a = b[-1]", 'Syntax error; token: "-", near: "[-1"'),
        ("SET a = b:c", 'Syntax error; token: ":c", near: "b:c"'),
        ("SET a = b & c", 'Syntax error; token: "&", near: "b & c"'),
        ("SET a = 'x'", 'Syntax error; token: "\'", near: "= \'x"'),
        ('SET a = "x"', 'Syntax error; token: """, near: "= "x"'),
        ("SET a = 12", 'Syntax error; token: "12", near: "= 12"'),
        ("SET _a = :v", 'Syntax error; token: "_", near: "SET _a"'),
        ("SET a-b = :v", 'Syntax error; token: "-", near: "a-b"'),
        ("SET #a-b = :v", 'Syntax error; token: "-", near: "#a-b"'),
        ("SET a = :v-1", 'Syntax error; token: "1", near: "-1"'),
        ("ADD a b", 'Syntax error; token: "b", near: "a b"'),
        ("SET a = b[99999999999]", "List index is not within the allowable range; index: [99999999999]"),
        ("SET a = :v SET b = :v", 'The "SET" section can only be used once in an update expression;'),
        (
            "SET a = :v ADD b :v SET c = :v",
            'The "SET" section can only be used once in an update expression;',
        ),
        ("SET name = :v", "Attribute name is a reserved keyword; reserved keyword: name"),
        ("SET NAME = :v", "Attribute name is a reserved keyword; reserved keyword: NAME"),
        ("SET a = foo(b)", "Invalid function name; function: foo"),
    ],
)
def test_update_errors(text: str, expected: str) -> None:
    assert detail(parse_update, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a, :v", 'Syntax error; token: ":v", near: ", :v"'),
        ("a,", 'Syntax error; token: "<EOF>", near: ","'),
        ("", "The expression can not be empty;"),
        ("name", "Attribute name is a reserved keyword; reserved keyword: name"),
    ],
)
def test_projection_errors(text: str, expected: str) -> None:
    assert detail(parse_projection, text) == expected


def test_identifiers_with_digits_and_underscores() -> None:
    update = parse_update("SET a_b1 = :v_1, #a_1 = :v")
    assert [a.path for a in update.actions] == [Path(("a_b1",)), Path((NameRef("#a_1"),))]


@pytest.mark.parametrize("text", ["attribute_type (a, :t)", "attribute_type\t\n(a, :t)", "size (a) > :n"])
def test_whitespace_between_function_name_and_parenthesis(text: str) -> None:
    condition = parse_condition(text)
    call = condition if isinstance(condition, Call) else getattr(condition, "left", None)
    assert isinstance(call, Call)

"""parse(print(ast)) == ast for generated conditions, updates and projections."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from headwater.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    DeleteAction,
    In,
    NameRef,
    Not,
    Operand,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    Update,
    ValueRef,
)
from headwater.expressions.parser import parse_condition, parse_projection, parse_update
from headwater.expressions.printer import condition_text, projection_text, update_text
from headwater.expressions.reserved import is_reserved

identifiers = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True).filter(lambda s: not is_reserved(s))
name_refs = st.from_regex(r"#[A-Za-z0-9_]{1,5}", fullmatch=True).map(NameRef)
value_refs = st.from_regex(r":[A-Za-z0-9_]{1,5}", fullmatch=True).map(ValueRef)
first_elements = st.one_of(identifiers, name_refs)
later_elements = st.one_of(identifiers, name_refs, st.integers(0, 50))
paths = st.builds(
    lambda first, rest: Path((first, *rest)), first_elements, st.lists(later_elements, max_size=4)
)
operands: st.SearchStrategy[Operand] = st.one_of(
    paths, value_refs, st.builds(lambda p: Call("size", (p,)), paths)
)
leaves: st.SearchStrategy[Condition] = st.one_of(
    st.builds(Compare, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), operands, operands),
    st.builds(Between, operands, operands, operands),
    st.builds(lambda o, cs: In(o, tuple(cs)), operands, st.lists(operands, min_size=1, max_size=3)),
    st.builds(lambda p: Call("attribute_exists", (p,)), paths),
    st.builds(lambda p, v: Call("begins_with", (p, v)), paths, value_refs),
)
conditions = st.recursive(
    leaves,
    lambda inner: st.one_of(st.builds(And, inner, inner), st.builds(Or, inner, inner), st.builds(Not, inner)),
    max_leaves=8,
)


@given(conditions)
def test_condition_round_trip(tree: Condition) -> None:
    assert parse_condition(condition_text(tree)) == tree


set_values: st.SearchStrategy[Operand] = st.one_of(
    paths,
    value_refs,
    st.builds(lambda p, v: Call("if_not_exists", (p, v)), paths, value_refs),
    st.builds(lambda a, b: Call("list_append", (a, b)), value_refs, paths),
    st.builds(
        Arithmetic, st.sampled_from(["+", "-"]), st.one_of(paths, value_refs), st.one_of(paths, value_refs)
    ),
)


@st.composite
def updates(draw: st.DrawFn) -> Update:
    actions: list[SetAction | RemoveAction | AddAction | DeleteAction] = []
    actions += draw(st.lists(st.builds(SetAction, paths, set_values), max_size=3))
    actions += draw(st.lists(st.builds(RemoveAction, paths), max_size=3))
    actions += draw(st.lists(st.builds(AddAction, paths, value_refs), max_size=2))
    actions += draw(st.lists(st.builds(DeleteAction, paths, value_refs), max_size=2))
    if not actions:
        actions.append(draw(st.builds(RemoveAction, paths)))
    return Update(tuple(actions))


@given(updates())
def test_update_round_trip(update: Update) -> None:
    assert parse_update(update_text(update)) == update


@given(st.lists(paths, min_size=1, max_size=5))
def test_projection_round_trip(path_list: list[Path]) -> None:
    projection = Projection(tuple(path_list))
    assert parse_projection(projection_text(projection)) == projection

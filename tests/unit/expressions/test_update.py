"""apply_update results and runtime errors; expected items copied from DynamoDB's answers."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.errors import ValidationException
from headwater.expressions import apply_update, item_typed_attributes, updated_attributes
from headwater.model.values import Item

from .helpers import KEY, KEY_NAMES, N1, S1, compile_ok


def run(
    expression: str,
    item: dict[str, Any],
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    compiled = compile_ok("UpdateItem", UpdateExpression=expression, values=values, names=names)
    assert compiled.update is not None
    result = apply_update(compiled.update, {**KEY, **item}, KEY_NAMES)
    new = dict(result.item)
    for key in KEY:
        new.pop(key)
    return new


def error(expression: str, item: dict[str, Any], values: dict[str, Any] | None = None) -> str:
    with pytest.raises(ValidationException) as info:
        run(expression, item, values)
    return str(info.value.message)


L0123 = {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]}


@pytest.mark.parametrize(
    ("expression", "values", "item", "expected"),
    [
        ("SET a[5] = :v", {":v": N1}, {"a": {"L": [N1]}}, {"a": {"L": [N1, N1]}}),
        ("REMOVE a[0], a[2]", None, {"a": L0123}, {"a": {"L": [{"N": "1"}, {"N": "3"}]}}),
        ("DELETE a :v", {":v": {"SS": ["a"]}}, {"a": {"SS": ["a"]}}, {}),
        ("DELETE a :v", {":v": {"NS": ["1"]}}, {}, {}),
        ("DELETE a :v", {":v": {"NS": ["1.0"]}}, {"a": {"NS": ["1", "2"]}}, {"a": {"NS": ["2"]}}),
        ("ADD a :v", {":v": {"SS": ["x"]}}, {"a": {"SS": ["y"]}}, {"a": {"SS": ["x", "y"]}}),
        ("ADD a :v", {":v": {"N": "-2"}}, {}, {"a": {"N": "-2"}}),
        ("ADD a :v", {":v": {"N": "2.5"}}, {"a": {"N": "1"}}, {"a": {"N": "3.5"}}),
        ("ADD a :v", {":v": {"NS": ["1", "3"]}}, {"a": {"NS": ["1", "2"]}}, {"a": {"NS": ["1", "2", "3"]}}),
        ("SET a = :v - :w", {":v": N1, ":w": N1}, {}, {"a": {"N": "0"}}),
        ("SET a = if_not_exists(a, :v) + :v", {":v": N1}, {}, {"a": {"N": "2"}}),
        ("SET a = if_not_exists(a, :v) + :v", {":v": N1}, {"a": {"N": "5"}}, {"a": {"N": "6"}}),
        ("SET a = list_append(:l, :v)", {":l": {"L": [N1]}, ":v": {"L": []}}, {}, {"a": {"L": [N1]}}),
        ("SET a = list_append(a, :l)", {":l": {"L": [S1]}}, {"a": {"L": [N1]}}, {"a": {"L": [N1, S1]}}),
        ("SET a[1] = :v, a[0] = :w", {":v": N1, ":w": S1}, {"a": {"L": []}}, {"a": {"L": [S1, N1]}}),
        ("SET a[0] = :v REMOVE a[1]", {":v": N1}, {"a": {"L": [N1, N1, N1]}}, {"a": {"L": [N1, N1]}}),
        ("REMOVE a[1] SET a[3] = :v", {":v": S1}, {"a": {"L": [N1, N1, N1]}}, {"a": {"L": [N1, N1, S1]}}),
        ("SET a.#b = :v", {":v": N1}, {"a": {"M": {}}}, {"a": {"M": {"q": N1}}}),
        ("SET a = b[0]", None, {"b": {"L": [N1]}}, {"a": N1, "b": {"L": [N1]}}),
        ("SET a = b, b = a", None, {"a": N1, "b": S1}, {"a": S1, "b": N1}),
        ("REMOVE a, gone", None, {"a": N1}, {}),
        ("REMOVE a[7]", None, {"a": {"L": [N1]}}, {"a": {"L": [N1]}}),
        ("REMOVE a.b", None, {"a": {"M": {"b": N1, "c": S1}}}, {"a": {"M": {"c": S1}}}),
        ("ADD m.newnum :v", {":v": N1}, {"m": {"M": {"p": N1}}}, {"m": {"M": {"p": N1, "newnum": N1}}}),
        (
            "SET m.p = :v, a[9] = :v REMOVE a[0] ADD n :v",
            {":v": {"N": "7"}},
            {
                "a": {"L": [{"N": "0"}, {"M": {"x": N1, "y": S1}}, {"N": "2"}, {"N": "3"}]},
                "m": {"M": {"p": N1, "q": {"L": [N1, S1]}}},
            },
            {
                "a": {"L": [{"M": {"x": N1, "y": S1}}, {"N": "2"}, {"N": "3"}, {"N": "7"}]},
                "m": {"M": {"p": {"N": "7"}, "q": {"L": [N1, S1]}}},
                "n": {"N": "7"},
            },
        ),
    ],
)
def test_update_results(
    expression: str, values: dict[str, Any] | None, item: dict[str, Any], expected: dict[str, Any]
) -> None:
    names = {"#b": "q"} if "#b" in expression else None
    assert run(expression, item, values, names) == expected


MISSING = "The provided expression refers to an attribute that does not exist in the item"
BAD_TYPE = "An operand in the update expression has an incorrect data type"
BAD_PATH = "The document path provided in the update expression is invalid for update"


@pytest.mark.parametrize(
    ("expression", "values", "item", "expected"),
    [
        ("SET a = b + :v", {":v": N1}, {}, MISSING),
        ("SET a = b, b = a", None, {}, MISSING),
        ("SET a = (b)", None, {}, MISSING),
        ("SET a = list_append(a, :l)", {":l": {"L": [N1]}}, {}, MISSING),
        ("SET a.b = :v", {":v": N1}, {}, BAD_PATH),
        ("SET a[1] = :v", {":v": N1}, {}, BAD_PATH),
        ("SET a.b.c = :v", {":v": N1}, {"a": {"M": {}}}, BAD_PATH),
        ("SET a.b = :v", {":v": S1}, {"a": {"L": [N1]}}, BAD_PATH),
        ("SET a[0] = :v", {":v": S1}, {"a": {"M": {}}}, BAD_PATH),
        ("ADD a.b :v", {":v": N1}, {}, BAD_PATH),
        ("REMOVE a.b, c[1], d[5]", None, {"a": {"S": "x"}, "c": {"N": "1"}}, BAD_PATH),
        ("REMOVE a.b, c[1], d[5]", None, {"a": {"M": {"b": N1}}, "c": {"L": [N1, N1]}}, BAD_PATH),
        ("SET a = a + :v", {":v": N1}, {"a": {"S": "x"}}, BAD_TYPE),
        ("ADD a :v", {":v": N1}, {"a": {"S": "x"}}, BAD_TYPE),
        ("ADD a :v", {":v": {"SS": ["a"]}}, {"a": {"NS": ["1"]}}, BAD_TYPE),
        ("DELETE a :v", {":v": {"NS": ["1"]}}, {"a": {"SS": ["y"]}}, BAD_TYPE),
        (
            "SET a = :v + :w",
            {":v": {"N": "9e125"}, ":w": {"N": "9e125"}},
            {},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
    ],
)
def test_runtime_errors(
    expression: str, values: dict[str, Any] | None, item: dict[str, Any], expected: str
) -> None:
    assert error(expression, item, values) == expected


@pytest.mark.parametrize("expression", ["SET id = :v", "SET #a = :v", "SET id.x = :v", "REMOVE sk"])
def test_key_attributes_cannot_be_updated(expression: str) -> None:
    names = {"#a": "id"} if "#a" in expression else None
    values = {":v": S1} if ":v" in expression else None
    with pytest.raises(ValidationException) as info:
        run(expression, {}, values, names)
    key = "sk" if "sk" in expression else "id"
    assert info.value.message == (
        "One or more parameter values were invalid: Cannot update "
        f"attribute {key}. This attribute is part of the key"
    )


def test_input_item_is_untouched_and_unchanged_parts_are_shared() -> None:
    item: Item = {**KEY, "a": {"M": {"b": {"L": [N1]}, "c": S1}}, "other": {"M": {"x": N1}}}
    before = copy.deepcopy(item)
    compiled = compile_ok("UpdateItem", UpdateExpression="SET a.b[0] = :v", values={":v": S1})
    assert compiled.update is not None
    result = apply_update(compiled.update, item, KEY_NAMES)
    assert item == before
    assert result.item["a"] == {"M": {"b": {"L": [S1]}, "c": S1}}
    assert result.item["other"] is item["other"]


def test_updated_attributes_return_whole_top_level_attributes() -> None:
    # DynamoDB's UPDATED_NEW / UPDATED_OLD for this update (observed): whole `a` and `m`, plus `n` when new.
    old: Item = {
        **KEY,
        "a": {"L": [{"N": "0"}, {"N": "2"}]},
        "m": {"M": {"p": N1, "q": {"L": [N1, S1]}}},
        "z": N1,
    }
    compiled = compile_ok(
        "UpdateItem",
        UpdateExpression="SET m.p = :v, a[9] = :v REMOVE a[0] ADD n :v",
        values={":v": {"N": "7"}},
    )
    assert compiled.update is not None
    result = apply_update(compiled.update, old, KEY_NAMES)
    assert updated_attributes(result.item, result.updated_paths) == {
        "a": {"L": [{"N": "2"}, {"N": "7"}]},
        "m": {"M": {"p": {"N": "7"}, "q": {"L": [N1, S1]}}},
        "n": {"N": "7"},
    }
    assert updated_attributes(old, result.updated_paths) == {"a": old["a"], "m": old["m"]}


@given(st.lists(st.integers(0, 9), min_size=1, max_size=5, unique=True), st.integers(1, 10))
def test_remove_list_elements_uses_original_positions(indexes: list[int], length: int) -> None:
    original = [{"N": str(i)} for i in range(length)]
    expression = "REMOVE " + ", ".join(f"a[{i}]" for i in indexes)
    expected = [v for i, v in enumerate(original) if i not in indexes]
    assert run(expression, {"a": {"L": original}}) == {"a": {"L": expected}}


def test_the_attributes_whose_set_value_the_item_types() -> None:
    compiled = compile_ok(
        "UpdateItem",
        UpdateExpression="SET a = b, c = :v, d = e + :v, f = list_append(g, :l), h = if_not_exists(h, :v), "
        "i = if_not_exists(i, j), k.l = m, #n = o[0] ADD p :v",
        values={":v": N1, ":l": {"L": []}},
        names={"#n": "n"},
    )
    assert compiled.update is not None
    assert item_typed_attributes(compiled.update) == {"a", "i", "n"}

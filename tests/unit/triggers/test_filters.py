from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.triggers.filters import PatternError, matches_any, parse_patterns


def match(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return matches_any(parse_patterns([json.dumps(pattern)]), event)


IMAGE = {"dynamodb": {"NewImage": {"name": {"S": "Alice"}, "age": {"N": "42"}, "tags": {"L": []}}}}


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        (["Alice"], True),
        (["alice"], False),
        ([{"prefix": "Al"}], True),
        ([{"prefix": {"equals-ignore-case": "al"}}], True),
        ([{"suffix": "ice"}], True),
        ([{"suffix": {"equals-ignore-case": "ICE"}}], True),
        ([{"equals-ignore-case": "ALICE"}], True),
        ([{"anything-but": "Alice"}], False),
        ([{"anything-but": ["Bob", "Carol"]}], True),
        ([{"anything-but": {"prefix": "Al"}}], False),
        ([{"anything-but": {"suffix": "ob"}}], True),
        ([{"wildcard": "A*e"}], True),
        ([{"wildcard": "B*"}], False),
        (["Bob", {"prefix": "A"}], True),
        ([""], False),
    ],
)
def test_string_matchers(leaf: list[Any], expected: bool) -> None:
    assert match({"dynamodb": {"NewImage": {"name": {"S": leaf}}}}, IMAGE) is expected


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        ([{"numeric": [">", 40]}], True),
        ([{"numeric": [">", 42]}], False),
        ([{"numeric": [">=", 42, "<", 43]}], True),
        ([{"numeric": ["=", 42.0]}], True),
        ([42], True),
        ([41], False),
        ([{"anything-but": [41, 43]}], True),
    ],
)
def test_numeric_matchers_on_dynamodb_number_strings(leaf: list[Any], expected: bool) -> None:
    assert match({"dynamodb": {"NewImage": {"age": {"N": leaf}}}}, IMAGE) is expected


def test_exists_null_and_empty() -> None:
    assert match({"dynamodb": {"NewImage": {"name": [{"exists": True}]}}}, IMAGE)
    assert not match({"dynamodb": {"NewImage": {"missing": [{"exists": True}]}}}, IMAGE)
    assert match({"dynamodb": {"NewImage": {"missing": [{"exists": False}]}}}, IMAGE)
    assert not match({"dynamodb": {"NewImage": {"name": [{"exists": False}]}}}, IMAGE)
    assert match({"a": [None]}, {"a": None})
    assert not match({"a": [None]}, {})
    assert match({"a": [""]}, {"a": ""})
    assert not match({"a": [""]}, {"a": "x"})


def test_arrays_in_the_event_match_any_element() -> None:
    assert match({"a": ["x"]}, {"a": ["y", "x"]})
    assert not match({"a": ["z"]}, {"a": ["y", "x"]})


def test_patterns_are_ored_and_keys_anded() -> None:
    patterns = parse_patterns([json.dumps({"a": ["1"]}), json.dumps({"b": ["2"]})])
    assert matches_any(patterns, {"a": "1"})
    assert matches_any(patterns, {"b": "2"})
    assert not matches_any(patterns, {"a": "2"})
    assert not match({"a": ["1"], "b": ["2"]}, {"a": "1"})
    assert matches_any((), {"anything": 1})


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        "{}",
        '{"a": "x"}',
        '{"a": []}',
        '{"a": {}}',
        '{"a": [{"prefix": 1}]}',
        '{"a": [{"numeric": [">"]}]}',
        '{"a": [{"numeric": ["<", 5, ">", 1]}]}',
        '{"a": [{"numeric": ["~", 5]}]}',
        '{"a": [{"exists": "yes"}]}',
        '{"a": [{"anything-but": {"exists": true}}]}',
        '{"a": [{"anything-but": []}]}',
        '{"a": [{"unknown": 1}]}',
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
    ],
)
def test_invalid_patterns_are_rejected(text: str) -> None:
    with pytest.raises(PatternError):
        parse_patterns([text])


@given(st.text(max_size=20), st.text(max_size=5))
def test_prefix_matches_exactly_startswith(value: str, prefix: str) -> None:
    assert match({"v": [{"prefix": prefix}]}, {"v": value}) is value.startswith(prefix)


@given(st.text(max_size=20), st.lists(st.text(max_size=5), min_size=1, max_size=3))
def test_anything_but_is_the_complement_of_exact(value: str, options: list[str]) -> None:
    exact = match({"v": options}, {"v": value})
    assert match({"v": [{"anything-but": options}]}, {"v": value}) is (not exact)


@given(st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(-1000, 1000))
def test_numeric_range(value: int, low: int, high: int) -> None:
    got = match({"v": [{"numeric": [">=", low, "<", high]}]}, {"v": str(value)})
    assert got is (low <= value < high)

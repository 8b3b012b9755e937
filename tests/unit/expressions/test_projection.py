"""ProjectionExpression semantics (result copied from DynamoDB's GetItem answer)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from headwater.expressions import project
from headwater.expressions.ast import Path
from headwater.model.values import Item

from .helpers import N1, S1, compile_ok

ITEM: Item = {
    "a": {"L": [{"N": "0"}, {"M": {"x": N1, "y": S1}}, {"N": "2"}, {"N": "3"}]},
    "m": {"M": {"p": N1, "q": {"L": [N1, S1]}}},
}


def test_nested_paths_and_list_indexes() -> None:
    compiled = compile_ok("GetItem", ProjectionExpression="a[3], a[1].y, a[0], m.q[1], m.zz, nope, a[9]")
    assert compiled.projection is not None
    assert project(ITEM, compiled.projection.paths) == {
        "a": {"L": [{"N": "0"}, {"M": {"y": S1}}, {"N": "3"}]},
        "m": {"M": {"q": {"L": [S1]}}},
    }


def test_names_in_projection() -> None:
    compiled = compile_ok("GetItem", ProjectionExpression="#m.#p", names={"#m": "m", "#p": "p"})
    assert compiled.projection is not None
    assert project(ITEM, compiled.projection.paths) == {"m": {"M": {"p": N1}}}


def test_path_into_scalar_is_omitted() -> None:
    assert project({"a": S1}, [Path(("a", "b")), Path(("a", 0))]) == {}


@given(
    st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.just(N1)),
    st.sets(st.sampled_from(["a", "b", "x"])),
)
def test_top_level_projection_is_a_filter(item: dict[str, Any], names: set[str]) -> None:
    assert project(item, [Path((n,)) for n in names]) == {k: v for k, v in item.items() if k in names}

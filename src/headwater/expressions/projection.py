"""ProjectionExpression / AttributesToGet: cut an item down to some document paths."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from headwater.expressions.ast import AttributeValue, Item, Path

# A request tree: element -> subtree, where an empty dict means "take the whole value".
_Tree = dict[Any, "_Tree"]


def project(item: Item, paths: Iterable[Path]) -> Item:
    """The parts of `item` named by `paths`; missing paths are left out, list elements keep their order."""
    tree: _Tree = {}
    for path in paths:
        node = tree
        for element in path.elements:
            node = node.setdefault(element, {})
    result: Item = {}
    for name, subtree in tree.items():
        value = item.get(name) if isinstance(name, str) else None
        if value is None:
            continue
        picked = _pick(value, subtree)
        if picked is not None:
            result[name] = picked
    return result


def _pick(value: AttributeValue, tree: _Tree) -> AttributeValue | None:
    if not tree:
        return value
    if "M" in value:
        members = value["M"]
        picked_members: dict[str, AttributeValue] = {}
        for name, subtree in tree.items():
            if isinstance(name, str) and name in members:
                picked = _pick(members[name], subtree)
                if picked is not None:
                    picked_members[name] = picked
        return {"M": picked_members} if picked_members else None
    if "L" in value:
        elements = value["L"]
        picked_elements: list[AttributeValue] = []
        for index in sorted(i for i in tree if isinstance(i, int)):
            if index < len(elements):
                picked = _pick(elements[index], tree[index])
                if picked is not None:
                    picked_elements.append(picked)
        return {"L": picked_elements} if picked_elements else None
    return None

"""Document path helpers shared by validation, evaluation, update and projection."""

from __future__ import annotations

from headwater.expressions.ast import AttributeValue, Item, NameRef, Path


def format_path(path: Path) -> str:
    """DynamoDB's rendering in messages: `[a, b, [0]]`."""
    parts = [
        f"[{e}]" if isinstance(e, int) else (e.name if isinstance(e, NameRef) else e) for e in path.elements
    ]
    return "[" + ", ".join(parts) + "]"


def paths_conflict(one: Path, two: Path) -> str | None:
    """ "overlap" when one path is a prefix of the other, "conflict" when they need a different
    container type at the same place (a name vs a list index), else None."""
    for left, right in zip(one.elements, two.elements, strict=False):
        if left == right:
            continue
        if isinstance(left, int) != isinstance(right, int):
            return "conflict"
        return None
    return "overlap"


def get_path(item: Item | None, elements: tuple[str | int | NameRef, ...]) -> AttributeValue | None:
    """The value at a resolved path, or None when any step is missing or of the wrong type."""
    if item is None:
        return None
    first = elements[0]
    current = item.get(first) if isinstance(first, str) else None
    for element in elements[1:]:
        if current is None:
            return None
        if isinstance(element, int):
            items = current.get("L")
            if items is None or element >= len(items):
                return None
            current = items[element]
        else:
            members = current.get("M")
            if members is None or not isinstance(element, str):
                return None
            current = members.get(element)
    return current

"""Apply a resolved update (UpdateExpression or legacy AttributeUpdates) to an item, copy-on-write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.errors import ValidationException
from headwater.expressions.ast import (
    AddAction,
    Arithmetic,
    AttributeValue,
    Call,
    DeleteAction,
    Item,
    Operand,
    Path,
    RemoveAction,
    SetAction,
    Update,
    Value,
)
from headwater.expressions.compare import equal
from headwater.expressions.paths import get_path
from headwater.expressions.projection import project
from headwater.model import number
from headwater.model.values import sorted_set

ResolvedPath = tuple[str | int, ...]

MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"
BAD_OPERAND = "An operand in the update expression has an incorrect data type"
BAD_PATH = "The document path provided in the update expression is invalid for update"
LEGACY_TYPE_MISMATCH = "Type mismatch for attribute to update"
SET_TYPES = ("SS", "NS", "BS")


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """The new item (a new dict; the input is untouched) and the paths the update wrote or removed."""

    item: Item
    updated_paths: tuple[ResolvedPath, ...]


def updated_attributes(item: Item | None, paths: tuple[ResolvedPath, ...]) -> Item:
    """What ReturnValues UPDATED_OLD / UPDATED_NEW answer: for each path the update named (as written)
    that exists in `item`, its whole top-level attribute (DynamoDB Local returns `a` in full for
    `SET a.b = :v`). So a removed path, or `SET l[9]` appending to a shorter list, is not returned new."""
    if item is None or not paths:
        return {}
    return project(item, [Path((p[0],)) for p in paths if get_path(item, p) is not None])


def item_typed_attributes(update: Update) -> frozenset[str]:
    """The top-level attributes a SET gives a value whose type the item decides (a path, or if_not_exists
    falling back to one), not the request (a value, arithmetic, list_append): DynamoDB words a wrong type
    for an index key differently for them."""
    return frozenset(
        action.path.elements[0]
        for action in update.actions
        if isinstance(action, SetAction)
        and len(action.path.elements) == 1
        and isinstance(action.path.elements[0], str)
        and not _typed_by_request(action.value)
    )


def _typed_by_request(operand: Operand) -> bool:
    if isinstance(operand, (Value, Arithmetic)):
        return True
    if isinstance(operand, Call):
        return operand.name == "list_append" or _typed_by_request(operand.args[1])
    return False


def _key_of(path: Path) -> tuple[tuple[int, Any], ...]:
    return tuple((1, e) if isinstance(e, int) else (0, e) for e in path.elements)


def apply_update(update: Update, item: Item, key_names: tuple[str, ...]) -> UpdateResult:
    for action in update.actions:
        first = action.path.elements[0]
        if first in key_names:
            raise ValidationException(
                "One or more parameter values were invalid: "
                f"Cannot update attribute {first}. This attribute is part of the key"
            )
    # Every right-hand side sees the item as it was before the update.
    sets: list[tuple[SetAction, AttributeValue]] = []
    removes: list[RemoveAction] = []
    others: list[AddAction | DeleteAction] = []
    for action in update.actions:
        if isinstance(action, SetAction):
            sets.append((action, _value(action.value, item)))
        elif isinstance(action, RemoveAction):
            removes.append(action)
        else:
            others.append(action)
    new: Item = dict(item)
    updated: list[ResolvedPath] = []
    # List indexes are written in ascending order and removed in descending order, so every
    # index names a position of the original list.
    for action, value in sorted(sets, key=lambda pair: _key_of(pair[0].path)):
        updated.append(_set(new, action.path, value))
    for remove in sorted(removes, key=lambda r: _key_of(r.path), reverse=True):
        _remove(new, remove.path)
        updated.append(_elements(remove.path))
    for action in others:
        if isinstance(action, AddAction):
            _add(new, action.path, _literal(action.value), update.legacy)
        else:
            _delete(new, action.path, _literal(action.value), update.legacy)
        updated.append(_elements(action.path))
    return UpdateResult(new, tuple(updated))


def _elements(path: Path) -> ResolvedPath:
    return tuple(e for e in path.elements if isinstance(e, (str, int)))


def _literal(operand: Operand) -> AttributeValue:
    if isinstance(operand, Value):
        return operand.value
    raise ValidationException(BAD_OPERAND)


def _value(operand: Operand, item: Item) -> AttributeValue:
    if isinstance(operand, Value):
        return operand.value
    if isinstance(operand, Path):
        found = get_path(item, operand.elements)
        if found is None:
            raise ValidationException(MISSING_ATTRIBUTE)
        return found
    if isinstance(operand, Arithmetic):
        left, right = _value(operand.left, item), _value(operand.right, item)
        if "N" not in left or "N" not in right:
            raise ValidationException(BAD_OPERAND)
        combine = number.add if operand.op == "+" else number.subtract
        return {"N": combine(left["N"], right["N"])}
    if isinstance(operand, Call):
        if operand.name == "if_not_exists":
            target = operand.args[0]
            existing = get_path(item, target.elements) if isinstance(target, Path) else None
            return existing if existing is not None else _value(operand.args[1], item)
        if operand.name == "list_append":
            head, tail = _value(operand.args[0], item), _value(operand.args[1], item)
            if "L" not in head or "L" not in tail:
                raise ValidationException(BAD_OPERAND)
            return {"L": [*head["L"], *tail["L"]]}
    raise ValidationException(BAD_OPERAND)


def _parent(root: Item, path: Path) -> dict[str, Any] | list[Any] | None:
    """The container holding the path's last element, copied along the way; None if it is not there."""
    container: dict[str, Any] | list[Any] = root
    elements = path.elements
    for position, element in enumerate(elements[:-1]):
        if isinstance(container, dict) and isinstance(element, str):
            child = container.get(element)
        elif isinstance(container, list) and isinstance(element, int) and element < len(container):
            child = container[element]
        else:
            return None
        if child is None:
            return None
        if isinstance(elements[position + 1], int):
            if "L" not in child:
                return None
            copy: dict[str, Any] | list[Any] = list(child["L"])
            container[element] = {"L": copy}  # type: ignore[index]
        else:
            if "M" not in child:
                return None
            copy = dict(child["M"])
            container[element] = {"M": copy}  # type: ignore[index]
        container = copy
    return container


def _set(root: Item, path: Path, value: AttributeValue) -> ResolvedPath:
    parent = _parent(root, path)
    last = path.elements[-1]
    if isinstance(parent, dict) and isinstance(last, str):
        parent[last] = value
        return _elements(path)
    if isinstance(parent, list) and isinstance(last, int):
        if last >= len(parent):
            parent.append(value)
        else:
            parent[last] = value
        return _elements(path)
    raise ValidationException(BAD_PATH)


def _remove(root: Item, path: Path) -> None:
    parent = _parent(root, path)
    last = path.elements[-1]
    if isinstance(parent, dict) and isinstance(last, str):
        parent.pop(last, None)
    elif isinstance(parent, list) and isinstance(last, int):
        if last < len(parent):
            del parent[last]
    else:
        raise ValidationException(BAD_PATH)


def _add(root: Item, path: Path, value: AttributeValue, legacy: bool) -> None:
    parent = _parent(root, path)
    current = get_path(root, path.elements)
    if current is None:
        result = value
    elif "N" in value and "N" in current:
        result = {"N": number.add(current["N"], value["N"])}
    elif "L" in value and "L" in current and legacy:
        result = {"L": [*current["L"], *value["L"]]}
    else:
        kind = _set_kind(value)
        if kind is None or kind not in current:
            raise ValidationException(LEGACY_TYPE_MISMATCH if legacy else BAD_OPERAND)
        existing = current[kind]
        extra = [m for m in value[kind] if not _member(kind, m, existing)]
        result = {kind: sorted_set(kind, [*existing, *extra])}
    _store(parent, path, result)


def _delete(root: Item, path: Path, value: AttributeValue, legacy: bool) -> None:
    parent = _parent(root, path)
    if parent is None:
        raise ValidationException(BAD_PATH)
    current = get_path(root, path.elements)
    if current is None:
        return
    kind = _set_kind(value)
    if kind is None or kind not in current:
        raise ValidationException(LEGACY_TYPE_MISMATCH if legacy else BAD_OPERAND)
    remaining = [m for m in current[kind] if not _member(kind, m, value[kind])]
    if remaining:
        _store(parent, path, {kind: remaining})
    else:
        _remove(root, path)


def _store(parent: dict[str, Any] | list[Any] | None, path: Path, value: AttributeValue) -> None:
    last = path.elements[-1]
    if isinstance(parent, dict) and isinstance(last, str):
        parent[last] = value
    elif isinstance(parent, list) and isinstance(last, int):
        if last >= len(parent):
            parent.append(value)
        else:
            parent[last] = value
    else:
        raise ValidationException(BAD_PATH)


def _set_kind(value: AttributeValue) -> str | None:
    for kind in SET_TYPES:
        if kind in value:
            return kind
    return None


def _member(kind: str, member: str, members: list[str]) -> bool:
    if kind == "NS":
        return any(equal({"N": member}, {"N": other}) for other in members)
    return member in members

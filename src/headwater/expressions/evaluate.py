"""Evaluate a resolved condition (ConditionExpression, FilterExpression, legacy Expected/filters)."""

from __future__ import annotations

from headwater.expressions.ast import (
    And,
    AttributeValue,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Item,
    Not,
    Operand,
    Or,
    Path,
    Value,
)
from headwater.expressions.compare import comparable, equal, order
from headwater.expressions.paths import get_path
from headwater.model.size import binary_length
from headwater.model.values import decode_binary


def evaluate(condition: Condition, item: Item | None) -> bool:
    """Whether `item` (None: no item) satisfies the resolved condition."""
    if isinstance(condition, Compare):
        return _compare(condition.op, _operand(condition.left, item), _operand(condition.right, item))
    if isinstance(condition, And):
        return evaluate(condition.left, item) and evaluate(condition.right, item)
    if isinstance(condition, Or):
        return evaluate(condition.left, item) or evaluate(condition.right, item)
    if isinstance(condition, Not):
        return not evaluate(condition.operand, item)
    if isinstance(condition, Between):
        value = _operand(condition.operand, item)
        low = _operand(condition.low, item)
        high = _operand(condition.high, item)
        if value is None or low is None or high is None:
            return False
        if not (comparable(value, low) and comparable(value, high)):
            return False
        return order(low, value) <= 0 <= order(high, value)
    if isinstance(condition, In):
        value = _operand(condition.operand, item)
        if value is None:
            return False
        for choice in condition.choices:
            candidate = _operand(choice, item)
            if candidate is not None and equal(value, candidate):
                return True
        return False
    return _function(condition, item)


def _operand(operand: Operand, item: Item | None) -> AttributeValue | None:
    if isinstance(operand, Path):
        return get_path(item, operand.elements)
    if isinstance(operand, Value):
        return operand.value
    if isinstance(operand, Call) and operand.name == "size":
        target = _operand(operand.args[0], item)
        return None if target is None else size_of(target)
    return None


def size_of(value: AttributeValue) -> AttributeValue | None:
    """size(): characters of a string, bytes of a binary, members of a set, list or map."""
    if "S" in value:
        return {"N": str(len(value["S"]))}
    if "B" in value:
        return {"N": str(binary_length(value["B"]))}
    for kind in ("SS", "NS", "BS", "L", "M"):
        if kind in value:
            return {"N": str(len(value[kind]))}
    return None


def _compare(op: str, left: AttributeValue | None, right: AttributeValue | None) -> bool:
    if op == "=":
        return left is not None and right is not None and equal(left, right)
    if op == "<>":
        return not (left is not None and right is not None and equal(left, right))
    if left is None or right is None or not comparable(left, right):
        return False
    result = order(left, right)
    if op == "<":
        return result < 0
    if op == "<=":
        return result <= 0
    if op == ">":
        return result > 0
    return result >= 0


def _function(call: Call, item: Item | None) -> bool:
    name = call.name
    if name == "attribute_exists":
        return _operand(call.args[0], item) is not None
    if name == "attribute_not_exists":
        return _operand(call.args[0], item) is None
    first = _operand(call.args[0], item)
    second = _operand(call.args[1], item) if len(call.args) > 1 else None
    if first is None or second is None:
        return False
    if name == "attribute_type":
        return second.get("S") in first
    if name == "begins_with":
        if "S" in first and "S" in second:
            return bool(first["S"].startswith(second["S"]))
        if "B" in first and "B" in second:
            return decode_binary(first["B"]).startswith(decode_binary(second["B"]))
        return False
    if name == "contains":
        return contains(first, second)
    return False


def contains(container: AttributeValue, member: AttributeValue) -> bool:
    """contains(): substring of a string, byte subsequence of a binary, member of a set of the same
    element type, element of a list."""
    if "S" in container:
        return "S" in member and member["S"] in container["S"]
    if "B" in container:
        return "B" in member and decode_binary(member["B"]) in decode_binary(container["B"])
    if "SS" in container:
        return "S" in member and member["S"] in container["SS"]
    if "NS" in container:
        return "N" in member and any(equal({"N": n}, member) for n in container["NS"])
    if "BS" in container:
        return "B" in member and decode_binary(member["B"]) in {decode_binary(b) for b in container["BS"]}
    if "L" in container:
        return any(equal(element, member) for element in container["L"])
    return False

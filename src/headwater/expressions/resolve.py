"""Substitute `#name` and `:value` placeholders, recording which ones were used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headwater.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    AttributeValue,
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
    Value,
    ValueRef,
)
from headwater.expressions.errors import ExpressionError


@dataclass(slots=True)
class Resolver:
    """Resolves trees against one request's ExpressionAttributeNames/Values (already validated)."""

    names: dict[str, str]
    values: dict[str, AttributeValue]
    used_names: set[str] = field(default_factory=set)
    used_values: set[str] = field(default_factory=set)

    def path(self, path: Path) -> Path:
        if not any(isinstance(e, NameRef) for e in path.elements):
            return path
        return Path(tuple(self._element(e) for e in path.elements))

    def _element(self, element: str | int | NameRef) -> str | int:
        if not isinstance(element, NameRef):
            return element
        try:
            resolved = self.names[element.name]
        except KeyError:
            raise ExpressionError(
                "An expression attribute name used in the document path is not defined; "
                f"attribute name: {element.name}"
            ) from None
        self.used_names.add(element.name)
        return resolved

    def operand(self, operand: Operand) -> Operand:
        if isinstance(operand, Path):
            return self.path(operand)
        if isinstance(operand, ValueRef):
            try:
                value = self.values[operand.name]
            except KeyError:
                raise ExpressionError(
                    "An expression attribute value used in expression is not defined; "
                    f"attribute value: {operand.name}"
                ) from None
            self.used_values.add(operand.name)
            return Value(value)
        if isinstance(operand, Call):
            return Call(operand.name, tuple(self.operand(a) for a in operand.args))
        if isinstance(operand, Arithmetic):
            return Arithmetic(operand.op, self.operand(operand.left), self.operand(operand.right))
        return operand

    def condition(self, node: Condition) -> Condition:
        if isinstance(node, Compare):
            return Compare(node.op, self.operand(node.left), self.operand(node.right))
        if isinstance(node, And):
            return And(self.condition(node.left), self.condition(node.right))
        if isinstance(node, Or):
            return Or(self.condition(node.left), self.condition(node.right))
        if isinstance(node, Not):
            return Not(self.condition(node.operand))
        if isinstance(node, Between):
            return Between(self.operand(node.operand), self.operand(node.low), self.operand(node.high))
        if isinstance(node, In):
            return In(self.operand(node.operand), tuple(self.operand(c) for c in node.choices))
        resolved = self.operand(node)
        return resolved if isinstance(resolved, Call) else node

    def update(self, update: Update) -> Update:
        actions: list[Any] = []
        for action in update.actions:
            if isinstance(action, SetAction):
                actions.append(SetAction(self.path(action.path), self.operand(action.value)))
            elif isinstance(action, RemoveAction):
                actions.append(RemoveAction(self.path(action.path)))
            elif isinstance(action, AddAction):
                actions.append(AddAction(self.path(action.path), self.operand(action.value)))
            else:
                actions.append(DeleteAction(self.path(action.path), self.operand(action.value)))
        return Update(tuple(actions), update.legacy)

    def projection(self, projection: Projection) -> Projection:
        return Projection(tuple(self.path(p) for p in projection.paths))

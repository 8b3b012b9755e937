"""The frozen AST every expression kind (and every legacy parameter) compiles to.

Parsing yields trees holding `NameRef`/`ValueRef` placeholders; resolution replaces them with plain
attribute names and `Value`s, so evaluation only ever walks a small resolved tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

AttributeValue: TypeAlias = dict[str, Any]
Item: TypeAlias = dict[str, AttributeValue]


@dataclass(frozen=True, slots=True)
class NameRef:
    """`#name` before resolution."""

    name: str


PathElement: TypeAlias = "str | int | NameRef"


@dataclass(frozen=True, slots=True)
class Path:
    """A document path: attribute names (str) and list indexes (int)."""

    elements: tuple[str | int | NameRef, ...]

    def names(self) -> tuple[str | int, ...]:
        """The resolved elements (only valid after resolution)."""
        return tuple(e for e in self.elements if not isinstance(e, NameRef))


@dataclass(frozen=True, slots=True)
class ValueRef:
    """`:value` before resolution."""

    name: str


@dataclass(frozen=True, slots=True)
class Value:
    """A literal attribute value (resolved from a `:value` or a legacy parameter)."""

    value: AttributeValue


@dataclass(frozen=True, slots=True)
class Call:
    """A function call: size, if_not_exists, list_append, attribute_exists, begins_with..."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """`left + right` or `left - right` in a SET action."""

    op: str
    left: Operand
    right: Operand


Operand: TypeAlias = "Path | ValueRef | Value | Call | Arithmetic"


@dataclass(frozen=True, slots=True)
class Compare:
    """op is one of = <> < <= > >=."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Or:
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


Condition: TypeAlias = "Compare | Between | In | And | Or | Not | Call"


@dataclass(frozen=True, slots=True)
class SetAction:
    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class RemoveAction:
    path: Path


@dataclass(frozen=True, slots=True)
class AddAction:
    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class DeleteAction:
    path: Path
    value: Operand


Action: TypeAlias = "SetAction | RemoveAction | AddAction | DeleteAction"


@dataclass(frozen=True, slots=True)
class Update:
    """All actions of an update expression, in source order.

    `legacy` marks one compiled from AttributeUpdates: ADD may append lists, and runtime errors use
    the legacy API's wording.
    """

    actions: tuple[SetAction | RemoveAction | AddAction | DeleteAction, ...]
    legacy: bool = False

    @property
    def only_removes(self) -> bool:
        """Whether every action takes something away (REMOVE, DELETE): on a missing item such an update
        creates nothing."""
        return bool(self.actions) and all(isinstance(a, (RemoveAction, DeleteAction)) for a in self.actions)


@dataclass(frozen=True, slots=True)
class Projection:
    paths: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class KeyTerm:
    """One key condition: `name op values` with op in EQ LT LE GT GE BETWEEN BEGINS_WITH."""

    name: str
    op: str
    values: tuple[AttributeValue, ...]
    nested: bool = False


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """A Query key condition: one or two terms on distinct top-level attributes."""

    terms: tuple[KeyTerm, ...]

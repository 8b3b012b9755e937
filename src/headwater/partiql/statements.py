"""PartiQL statements as DynamoDB runs them, their conditions and paths in the expression AST."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from ..expressions.ast import Condition, Item, Path, Update

Returning = Literal["ALL OLD", "ALL NEW", "MODIFIED OLD", "MODIFIED NEW"]


@dataclass(frozen=True, slots=True)
class Select:
    table: str
    index: str | None
    # (output name, path) per projected path; None: `*`
    projection: tuple[tuple[str, Path], ...] | None
    where: Condition | None
    order_by: str | None = None  # the attribute named in ORDER BY
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Insert:
    table: str
    item: Item


@dataclass(frozen=True, slots=True)
class UpdateStatement:
    table: str
    update: Update
    where: Condition | None
    returning: Returning | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    table: str
    where: Condition | None
    returning: Returning | None = None


@dataclass(frozen=True, slots=True)
class Exists:
    """`EXISTS(SELECT ...)`: a condition check, only in ExecuteTransaction."""

    select: Select


Statement: TypeAlias = "Select | Insert | UpdateStatement | Delete | Exists"
StatementKind = Literal["select", "insert", "update", "delete", "exists"]


def kind_of(statement: Statement) -> StatementKind:
    if isinstance(statement, Select):
        return "select"
    if isinstance(statement, Insert):
        return "insert"
    if isinstance(statement, UpdateStatement):
        return "update"
    if isinstance(statement, Delete):
        return "delete"
    return "exists"


def table_of(statement: Statement) -> str:
    return statement.select.table if isinstance(statement, Exists) else statement.table

"""What a statement touches, for authorization: its table (and index), its kind and its key values."""

from __future__ import annotations

from dataclasses import dataclass

from ..expressions.ast import Item
from .statements import Exists, Insert, Statement, StatementKind, kind_of, table_of
from .terms import conjuncts, equality

# The IAM action each kind of statement needs (DynamoDB's PartiQL actions; EXISTS reads).
ACTIONS: dict[StatementKind, str] = {
    "select": "dynamodb:PartiQLSelect",
    "exists": "dynamodb:PartiQLSelect",
    "insert": "dynamodb:PartiQLInsert",
    "update": "dynamodb:PartiQLUpdate",
    "delete": "dynamodb:PartiQLDelete",
}


@dataclass(frozen=True, slots=True)
class Access:
    table: str
    index: str | None
    kind: StatementKind
    # Top-level attributes the statement pins: an INSERT's item, else the `name = value` terms of the
    # WHERE clause's top-level ANDs. Keep the table's key attributes to get the key (no schema needed here).
    values: Item

    @property
    def action(self) -> str:
        return ACTIONS[self.kind]


def access(statement: Statement) -> Access:
    """Pure: what `statement` (from `parse`) reads or writes."""
    kind = kind_of(statement)
    if isinstance(statement, Insert):
        return Access(statement.table, None, kind, dict(statement.item))
    inner = statement.select if isinstance(statement, Exists) else statement
    index = getattr(inner, "index", None)
    values: Item = {}
    for term in conjuncts(inner.where):
        pinned = equality(term)
        if pinned is not None and pinned[0] not in values:
            values[pinned[0]] = pinned[1]
    return Access(table_of(statement), index, kind, values)

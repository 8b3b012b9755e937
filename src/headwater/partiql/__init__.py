"""PartiQL for DynamoDB: parse a statement into the expression AST, and plan it against a table.

No I/O. The API operations (api/dynamodb/execute_statement.py, batch_execute_statement.py,
execute_transaction.py) run the plans through the classic read and write paths.
"""

from __future__ import annotations

from .access import ACTIONS, Access, access
from .parser import PARAMETER_COUNT, parse
from .statements import Delete, Exists, Insert, Select, Statement, StatementKind, UpdateStatement

__all__ = [
    "ACTIONS",
    "PARAMETER_COUNT",
    "Access",
    "Delete",
    "Exists",
    "Insert",
    "Select",
    "Statement",
    "StatementKind",
    "UpdateStatement",
    "access",
    "parse",
]

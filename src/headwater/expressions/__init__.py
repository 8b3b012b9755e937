"""DynamoDB's expression language: parse (cached), resolve, validate, evaluate, update, project.

No I/O. Legacy parameters (Expected, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter,
AttributesToGet) compile to the same AST as expressions.
"""

from __future__ import annotations

from headwater.expressions.ast import (
    AttributeValue,
    Condition,
    Item,
    KeyCondition,
    KeyTerm,
    Path,
    Projection,
    Update,
)
from headwater.expressions.compile import CompiledExpressions, compile_request
from headwater.expressions.evaluate import evaluate
from headwater.expressions.keycond import KeyMatch
from headwater.expressions.keycond import for_schema as key_condition_for_schema
from headwater.expressions.parser import parse_condition, parse_projection, parse_update
from headwater.expressions.projection import project
from headwater.expressions.update import UpdateResult, apply_update, item_typed_attributes, updated_attributes

__all__ = [
    "AttributeValue",
    "CompiledExpressions",
    "Condition",
    "Item",
    "KeyCondition",
    "KeyMatch",
    "KeyTerm",
    "Path",
    "Projection",
    "Update",
    "UpdateResult",
    "apply_update",
    "compile_request",
    "evaluate",
    "item_typed_attributes",
    "key_condition_for_schema",
    "parse_condition",
    "parse_projection",
    "parse_update",
    "project",
    "updated_attributes",
]

"""Compile-time semantic checks on resolved trees, with DynamoDB's messages (detail part only)."""

from __future__ import annotations

from headwater.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    DeleteAction,
    In,
    Not,
    Operand,
    Or,
    Path,
    Projection,
    SetAction,
    Update,
    Value,
)
from headwater.expressions.compare import order
from headwater.expressions.errors import ExpressionError
from headwater.expressions.paths import format_path, paths_conflict
from headwater.model.values import value_type

CONDITION_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}
)
UPDATE_ONLY_FUNCTIONS = frozenset({"if_not_exists", "list_append"})
ARITY = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
    "if_not_exists": 2,
    "list_append": 2,
}
PATH_FIRST = frozenset({"attribute_exists", "attribute_not_exists", "attribute_type", "if_not_exists"})
ORDERED_TYPES = frozenset({"N", "S", "B"})
SIZED_TYPES = frozenset({"S", "B", "SS", "NS", "BS", "L", "M"})
ATTRIBUTE_TYPES = frozenset({"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"})
# DynamoDB lists the valid names in this (hash-set) order.
ATTRIBUTE_TYPES_TEXT = "{N,BS,L,B,NULL,M,S,SS,NS,BOOL}"
PATH_OPERAND_TYPES_TEXT = (
    "{FLOAT,HD,DICT,DECIMALSET,DOUBLE,SS,B,INT,NS,FS,BOOL,N,DECIMAL,DOUBLESET,M,INTSET,HDS,BS,L,S,NULL}"
)
LONG_TYPE_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "M": "MAP",
    "L": "LIST",
    "SS": "STRING_SET",
    "NS": "NUMBER_SET",
    "BS": "BINARY_SET",
}
MAX_IN_OPERANDS = 100


def _operand_type_error(function: str, type_name: str) -> ExpressionError:
    return ExpressionError(
        "Incorrect operand type for operator or function; "
        f"operator or function: {function}, operand type: {type_name}"
    )


def _arity(call: Call) -> None:
    expected = ARITY.get(call.name)
    if expected is not None and len(call.args) != expected:
        raise ExpressionError(
            "Incorrect number of operands for operator or function; "
            f"operator or function: {call.name}, number of operands: {len(call.args)}"
        )
    if call.name in PATH_FIRST and not isinstance(call.args[0], Path):
        raise ExpressionError(
            f"Operator or function requires a document path; operator or function: {call.name}"
        )


def _distinct_first(operator: str, first: Operand, rest: tuple[Operand, ...]) -> None:
    if isinstance(first, Path) and any(first == other for other in rest):
        raise ExpressionError(
            "The first operand must be distinct from the remaining operands for this operator or function; "
            f"operator: {operator}, first operand: {format_path(first)}"
        )


def _paths_error(problem: str, one: Path, two: Path) -> ExpressionError:
    return ExpressionError(
        f"Two document paths {problem} with each other; must remove or rewrite one of these paths; "
        f"path one: {format_path(one)}, path two: {format_path(two)}"
    )


def _bound_text(value: Value) -> str:
    kind = value_type(value.value)
    return f"AttributeValue: {{{kind}:{value.value[kind]}}}"


# --- conditions ---------------------------------------------------------------------------------


def validate_condition(node: Condition) -> None:
    if isinstance(node, (And, Or)):
        validate_condition(node.left)
        validate_condition(node.right)
    elif isinstance(node, Not):
        validate_condition(node.operand)
    elif isinstance(node, Compare):
        _condition_operand(node.left)
        _condition_operand(node.right)
        if node.op not in ("=", "<>"):
            for side in (node.left, node.right):
                _ordered(node.op, side)
        _distinct_first(node.op, node.left, (node.right,))
    elif isinstance(node, Between):
        for side in (node.operand, node.low, node.high):
            _condition_operand(side)
            _ordered("BETWEEN", side)
        _distinct_first("BETWEEN", node.operand, (node.low, node.high))
        _between_bounds(node.low, node.high)
    elif isinstance(node, In):
        if len(node.choices) > MAX_IN_OPERANDS:
            raise ExpressionError(
                f"The IN operator is provided with too many operands; number of operands: {len(node.choices)}"
            )
        _condition_operand(node.operand)
        for choice in node.choices:
            _condition_operand(choice)
        _distinct_first("IN", node.operand, node.choices)
    else:
        _condition_function(node)


def _between_bounds(low: Operand, high: Operand) -> None:
    if not (isinstance(low, Value) and isinstance(high, Value)):
        return
    low_type, high_type = value_type(low.value), value_type(high.value)
    if low_type != high_type:
        raise ExpressionError(
            "The BETWEEN operator requires same data type for lower and upper bounds; "
            f"lower bound operand: {_bound_text(low)}, upper bound operand: {_bound_text(high)}"
        )
    if order(low.value, high.value) > 0:
        raise ExpressionError(
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
            f"lower bound operand: {_bound_text(low)}, upper bound operand: {_bound_text(high)}"
        )


def _ordered(operator: str, operand: Operand) -> None:
    if isinstance(operand, Value):
        kind = value_type(operand.value)
        if kind not in ORDERED_TYPES:
            raise _operand_type_error(operator, kind)


def _not_here(call: Call) -> ExpressionError:
    if call.name in UPDATE_ONLY_FUNCTIONS:
        return ExpressionError(
            f"The function is not allowed in a condition expression; function: {call.name}"
        )
    return ExpressionError(
        f"The function is not allowed to be used this way in an expression; function: {call.name}"
    )


def _condition_operand(operand: Operand) -> None:
    """An operand of a comparison, BETWEEN or IN: a path, a value or size()."""
    if isinstance(operand, Call):
        if operand.name != "size":
            raise _not_here(operand)
        _arity(operand)
        arg = operand.args[0]
        if isinstance(arg, Call):
            raise _not_here(arg) if arg.name != "size" else _operand_type_error("size", "N")
        if isinstance(arg, Value) and value_type(arg.value) not in SIZED_TYPES:
            raise _operand_type_error("size", value_type(arg.value))


def _condition_function(call: Call) -> None:
    if call.name not in CONDITION_FUNCTIONS:
        raise _not_here(call)
    _arity(call)
    for arg in call.args:
        if isinstance(arg, Call):
            raise _not_here(arg)
    if call.name == "attribute_type":
        kind_operand = call.args[1]
        if not isinstance(kind_operand, Value):
            raise _operand_type_error("attribute_type", PATH_OPERAND_TYPES_TEXT)
        kind = value_type(kind_operand.value)
        if kind != "S":
            raise _operand_type_error("attribute_type", kind)
        name = kind_operand.value["S"]
        if name not in ATTRIBUTE_TYPES:
            raise ExpressionError(
                f"Invalid attribute type name found; type: {name}, valid types: {ATTRIBUTE_TYPES_TEXT}"
            )
    elif call.name == "begins_with":
        for arg in call.args:
            if isinstance(arg, Value) and value_type(arg.value) not in ("S", "B"):
                raise _operand_type_error("begins_with", value_type(arg.value))
        _distinct_first("begins_with", call.args[0], call.args[1:])
    elif call.name == "contains":
        _distinct_first("contains", call.args[0], call.args[1:])


# --- update -------------------------------------------------------------------------------------


def validate_update(update: Update) -> None:
    paths: list[Path] = []
    for action in update.actions:
        if isinstance(action, SetAction):
            _set_value(action.value)
        elif isinstance(action, (AddAction, DeleteAction)) and isinstance(action.value, Value):
            clause = "ADD" if isinstance(action, AddAction) else "DELETE"
            kind = value_type(action.value.value)
            allowed = ("N", "SS", "NS", "BS") if clause == "ADD" else ("SS", "NS", "BS")
            if kind not in allowed and not (update.legacy and kind == "L"):
                raise ExpressionError(
                    "Incorrect operand type for operator or function; "
                    f"operator: {clause}, operand type: {LONG_TYPE_NAMES.get(kind, kind)}, "
                    f"typeSet: ALLOWED_FOR_{clause}_OPERAND"
                )
        for earlier in paths:
            problem = paths_conflict(earlier, action.path)
            if problem is not None:
                raise _paths_error(problem, earlier, action.path)
        paths.append(action.path)


def _set_value(operand: Operand) -> None:
    if isinstance(operand, Arithmetic):
        for side in (operand.left, operand.right):
            _set_value(side)
            if isinstance(side, Value) and value_type(side.value) != "N":
                raise _operand_type_error(operand.op, value_type(side.value))
    elif isinstance(operand, Call):
        if operand.name not in UPDATE_ONLY_FUNCTIONS:
            raise ExpressionError(
                f"The function is not allowed in an update expression; function: {operand.name}"
            )
        _arity(operand)
        for arg in operand.args:
            _set_value(arg)
            if operand.name == "list_append" and isinstance(arg, Value) and value_type(arg.value) != "L":
                raise _operand_type_error("list_append", value_type(arg.value))


# --- projection ---------------------------------------------------------------------------------


def validate_projection(projection: Projection) -> None:
    seen: list[Path] = []
    for path in projection.paths:
        for earlier in seen:
            problem = paths_conflict(earlier, path)
            if problem is not None:
                raise _paths_error(problem, earlier, path)
        seen.append(path)


__all__ = ["validate_condition", "validate_projection", "validate_update"]

"""Render an (unresolved) AST back to expression text; parse(to_text(x)) == x. Used in logs and tests."""

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


def path_text(path: Path) -> str:
    out: list[str] = []
    for element in path.elements:
        if isinstance(element, int):
            out.append(f"[{element}]")
        else:
            text = element.name if isinstance(element, NameRef) else element
            out.append(f".{text}" if out else text)
    return "".join(out)


def operand_text(operand: Operand) -> str:
    if isinstance(operand, Path):
        return path_text(operand)
    if isinstance(operand, ValueRef):
        return operand.name
    if isinstance(operand, Call):
        return f"{operand.name}({', '.join(operand_text(a) for a in operand.args)})"
    if isinstance(operand, Arithmetic):
        return f"{operand_text(operand.left)} {operand.op} {operand_text(operand.right)}"
    if isinstance(operand, Value):
        return repr(operand.value)
    raise TypeError(operand)


def condition_text(node: Condition) -> str:
    """Fully parenthesized below AND/OR/NOT, so precedence survives the round trip."""
    if isinstance(node, Or):
        return f"({condition_text(node.left)}) OR ({condition_text(node.right)})"
    if isinstance(node, And):
        return f"({condition_text(node.left)}) AND ({condition_text(node.right)})"
    if isinstance(node, Not):
        return f"NOT ({condition_text(node.operand)})"
    if isinstance(node, Compare):
        return f"{operand_text(node.left)} {node.op} {operand_text(node.right)}"
    if isinstance(node, Between):
        return f"{operand_text(node.operand)} BETWEEN {operand_text(node.low)} AND {operand_text(node.high)}"
    if isinstance(node, In):
        return f"{operand_text(node.operand)} IN ({', '.join(operand_text(c) for c in node.choices)})"
    return operand_text(node)


def update_text(update: Update) -> str:
    clauses: dict[str, list[str]] = {}
    for action in update.actions:
        if isinstance(action, SetAction):
            clauses.setdefault("SET", []).append(f"{path_text(action.path)} = {operand_text(action.value)}")
        elif isinstance(action, RemoveAction):
            clauses.setdefault("REMOVE", []).append(path_text(action.path))
        elif isinstance(action, AddAction):
            clauses.setdefault("ADD", []).append(f"{path_text(action.path)} {operand_text(action.value)}")
        elif isinstance(action, DeleteAction):
            clauses.setdefault("DELETE", []).append(f"{path_text(action.path)} {operand_text(action.value)}")
    return " ".join(f"{clause} {', '.join(parts)}" for clause, parts in clauses.items())


def projection_text(projection: Projection) -> str:
    return ", ".join(path_text(p) for p in projection.paths)

"""DAX clients parse expressions themselves and send them as CBOR S-expressions; here they become
DynamoDB expression text again, with generated placeholders, so the request goes through the same
parser, validation and evaluation as an HTTP request.

An encoded expression is [1, spec, [values...]] ([1, spec] for a projection). In a spec a function is
[code, args...]; a document path is [18, name or tag-3324 list index, ...] (names arrive substituted);
a value is [17, index into values]; IN is [10, operand, [operands...]]; an update is a list of actions
([19 SET path operand], [20 ADD path value], [21 DELETE path value], [22 REMOVE path]); a projection is
a list of paths.
"""

from __future__ import annotations

from typing import Any, Final

from .cbor import Reader, Tagged
from .values import PATH_ORDINAL, to_av

FORMAT: Final = 1
_COMPARATORS: Final = {0: "=", 1: "<>", 2: "<", 3: ">=", 4: ">", 5: "<="}
_FUNCTIONS: Final = {
    11: "attribute_exists",
    12: "attribute_not_exists",
    13: "attribute_type",
    14: "begins_with",
    15: "contains",
    16: "size",
    23: "if_not_exists",
    24: "list_append",
}
AND, OR, NOT, BETWEEN, IN, VARIABLE, PATH = 6, 7, 8, 9, 10, 17, 18
SET, ADD, DELETE, REMOVE, PLUS, MINUS = 19, 20, 21, 22, 25, 26
MAX_NODES: Final = 4096  # an expression's size is bounded by DynamoDB at 4 KB of text


class BadExpression(Exception):
    pass


class Rendering:
    """The placeholders of one request's expressions: names `#n0`..., values `:v0`...."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self._name_of: dict[str, str] = {}
        self._nodes = 0

    def condition(self, encoded: bytes) -> str:
        spec, values = self._open(encoded, with_values=True)
        return self._node(spec, values)

    def update(self, encoded: bytes) -> str:
        spec, values = self._open(encoded, with_values=True)
        if not isinstance(spec, list):
            raise BadExpression("update")
        clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        for action in spec:
            code, args = self._function(action)
            if code == SET and len(args) == 2:
                clauses["SET"].append(f"{self._path(args[0])} = {self._node(args[1], values)}")
            elif code == REMOVE and len(args) == 1:
                clauses["REMOVE"].append(self._path(args[0]))
            elif code in (ADD, DELETE) and len(args) == 2:
                word = "ADD" if code == ADD else "DELETE"
                clauses[word].append(f"{self._path(args[0])} {self._node(args[1], values)}")
            else:
                raise BadExpression("update action")
        return " ".join(f"{word} {', '.join(parts)}" for word, parts in clauses.items() if parts)

    def projection(self, encoded: bytes) -> tuple[str, list[list[str | int]]]:
        """The projection's text, and each path's components (names and list indexes), in order."""
        spec, _ = self._open(encoded, with_values=False)
        if not isinstance(spec, list) or not spec:
            raise BadExpression("projection")
        paths = [self._components(path) for path in spec]
        return ", ".join(self._path(path) for path in spec), paths

    def _open(self, encoded: bytes, *, with_values: bool) -> tuple[Any, list[Any]]:
        reader = Reader(encoded)
        found = reader.value()
        if not reader.at_end() or not isinstance(found, list) or not found or found[0] != FORMAT:
            raise BadExpression("expression encoding")
        if with_values:
            if len(found) != 3 or not isinstance(found[2], list):
                raise BadExpression("expression values")
            return found[1], found[2]
        if len(found) != 2:
            raise BadExpression("projection encoding")
        return found[1], []

    def _function(self, node: Any) -> tuple[int, list[Any]]:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise BadExpression("expression too large")
        if not isinstance(node, list) or not node or not isinstance(node[0], int):
            raise BadExpression("expression node")
        return node[0], node[1:]

    def _node(self, node: Any, values: list[Any]) -> str:
        code, args = self._function(node)
        if code == PATH:
            return self._path(node)
        if code == VARIABLE and len(args) == 1 and isinstance(args[0], int) and 0 <= args[0] < len(values):
            return self._value(values[args[0]])
        if code in _COMPARATORS and len(args) == 2:
            return f"{self._node(args[0], values)} {_COMPARATORS[code]} {self._node(args[1], values)}"
        if code in (AND, OR) and len(args) == 2:
            word = "AND" if code == AND else "OR"
            return f"({self._node(args[0], values)} {word} {self._node(args[1], values)})"
        if code == NOT and len(args) == 1:
            return f"(NOT {self._node(args[0], values)})"
        if code == BETWEEN and len(args) == 3:
            low, high = self._node(args[1], values), self._node(args[2], values)
            return f"{self._node(args[0], values)} BETWEEN {low} AND {high}"
        if code == IN and len(args) == 2 and isinstance(args[1], list) and args[1]:
            choices = ", ".join(self._node(arg, values) for arg in args[1])
            return f"{self._node(args[0], values)} IN ({choices})"
        if code in (PLUS, MINUS) and len(args) == 2:
            sign = "+" if code == PLUS else "-"
            return f"{self._node(args[0], values)} {sign} {self._node(args[1], values)}"
        if code in _FUNCTIONS and args:
            return f"{_FUNCTIONS[code]}({', '.join(self._node(arg, values) for arg in args)})"
        raise BadExpression(f"expression function {code}")

    def _components(self, node: Any) -> list[str | int]:
        code, parts = self._function(node)
        if code != PATH or not parts or not isinstance(parts[0], str):
            raise BadExpression("document path")
        found: list[str | int] = []
        for part in parts:
            if isinstance(part, str):
                found.append(part)
            elif isinstance(part, Tagged) and part.tag == PATH_ORDINAL and isinstance(part.value, int):
                found.append(part.value)
            else:
                raise BadExpression("document path element")
        return found

    def _path(self, node: Any) -> str:
        text = ""
        for part in self._components(node):
            if isinstance(part, int):
                text += f"[{part}]"
            else:
                text += ("." if text else "") + self._name(part)
        return text

    def _name(self, name: str) -> str:
        found = self._name_of.get(name)
        if found is None:
            found = self._name_of[name] = f"#n{len(self._name_of)}"
            self.names[found] = name
        return found

    def _value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = to_av(value)
        return placeholder

    def attach(self, request: dict[str, Any]) -> dict[str, Any]:
        """`request` with the placeholders it uses."""
        if self.names:
            request["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            request["ExpressionAttributeValues"] = dict(self.values)
        return request

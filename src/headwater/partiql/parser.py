"""One recursive-descent parser for the PartiQL statements DynamoDB runs.

Conditions and paths come out as the expression AST (`expressions/ast.py`), so they are evaluated by the
one evaluator; `?` parameters are bound while parsing, so the tree holds only `Value`s. What the planner
reads in a parsed WHERE clause (its top-level AND terms) is in terms.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from ..errors import ValidationException
from ..expressions.ast import (
    Action,
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
    Not,
    Operand,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    Update,
    Value,
)
from ..expressions.validate import validate_projection
from ..model.values import validate_item, validate_value
from .lexer import Token, ion_type, malformed, tokenize
from .statements import Delete, Exists, Insert, Returning, Select, Statement, UpdateStatement

IN_NEEDS_A_LIST = (
    "IN operator must have a left hand argument of type Variable Reference and right hand argument of type "
    "Seq with at least one member"
)
PARAMETER_COUNT = "Number of parameters in request and statement don't match."
# Nested brackets and NOTs a statement may hold: beyond it the recursion would only serve an attack
# (a value deeper than 32 levels is refused anyway).
MAX_NESTING = 100
_COMPARISONS = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_CONDITION_FUNCTIONS = {"begins_with": 2, "contains": 2, "attribute_type": 2}
_VALUE_FUNCTIONS = {"size": 1}
_UPDATE_FUNCTIONS = {"list_append": 2, "if_not_exists": 2, "set_add": 2, "set_delete": 2}
# What a statement may start with but DynamoDB does not run, by the operation it names.
_UNSUPPORTED = {"CREATE": "CreateTable", "DROP": "DropTable"}
_MISSING = object()  # the MISSING keyword as an operand: only `IS [NOT] MISSING` may use it


class ParameterCountMismatch(ValidationException):
    """Fewer parameters than `?`s; `statement` is what was parsed (a batch still learns its kind)."""

    def __init__(self, statement: Statement) -> None:
        super().__init__(PARAMETER_COUNT)
        self.statement = statement

    @property
    def type_name(self) -> str:
        return "ValidationException"


def parse(statement: str, parameters: Sequence[AttributeValue] = ()) -> Statement:
    """The statement's tree with `parameters` (validated attribute values) bound to its `?`s in order."""
    parser = _Parser(statement, tokenize(statement), parameters)
    result = parser.statement()
    if parser.used > len(parameters):
        raise ParameterCountMismatch(result)
    return result


class _Parser:
    def __init__(self, text: str, tokens: list[Token], parameters: Sequence[AttributeValue]) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0
        self.parameters = parameters
        self.used = 0
        self.depth = 0

    # --- tokens ---------------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        if token.kind != "end":
            self.pos += 1
        return token

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token.kind in ("word", "op") and token.text in texts

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise malformed(self.text)
        return self.take()

    def name(self) -> str:
        """A table, index or attribute name: a word or a "quoted identifier"."""
        token = self.take()
        if token.kind == "word":
            return token.raw
        if token.kind == "ident":
            return token.text
        raise malformed(self.text)

    # --- statements -----------------------------------------------------------------------------

    def statement(self) -> Statement:
        first = self.peek()
        if first.kind != "word":
            raise malformed(self.text)
        result: Statement
        if first.text == "SELECT":
            result = self.select()
        elif first.text == "INSERT":
            result = self.insert()
        elif first.text == "UPDATE":
            result = self.update()
        elif first.text == "DELETE":
            result = self.delete()
        elif first.text == "EXISTS":
            self.take()
            self.expect("(")
            select = self.select()
            self.expect(")")
            result = Exists(select)
        elif first.text in _UNSUPPORTED:
            raise ValidationException(f"Unsupported operation: {_UNSUPPORTED[first.text]}")
        else:
            raise malformed(self.text)
        self.accept(";")
        if self.peek().kind != "end":
            raise malformed(self.text)
        return result

    def select(self) -> Select:
        self.expect("SELECT")
        projection: list[tuple[str, Path]] | None = None
        if not self.accept("*"):
            projection = []
            while True:
                start = self.peek()
                if self.peek(1).kind == "op" and self.peek(1).text == "(":
                    raise ValidationException(f"Unexpected path component at {start.where()}")
                alias, path = self.projected_path()
                if len(path.elements) == 1 and any(path == seen for _, seen in projection):
                    raise ValidationException(f"Duplicate identifiers in select clause: {alias}")
                projection.append((alias, path))
                if not self.accept(","):
                    break
            try:
                # DynamoDB names the later of two overlapping paths first
                validate_projection(Projection(tuple(path for _, path in reversed(projection))))
            except ValidationException as error:
                raise ValidationException(error.message) from None
        self.expect("FROM")
        table = self.name()
        index = self.name() if self.accept(".") else None
        where = self.condition() if self.accept("WHERE") else None
        order_by, descending = None, False
        if self.accept("ORDER"):
            self.expect("BY")
            order_by = self.name()
            if self.accept("DESC"):
                descending = True
            else:
                self.accept("ASC")
        if self.at("LIMIT", "OFFSET", "GROUP", "HAVING"):
            clause = self.take()
            value = self.peek()
            raise ValidationException(f"Unsupported clause: {clause.text} at {value.where()}")
        return Select(
            table,
            index,
            tuple(projection) if projection is not None else None,
            where,
            order_by,
            descending,
        )

    def projected_path(self) -> tuple[str, Path]:
        """A projected path and its name in the result: its last attribute name with any list indexes
        after it (`m.x` is `x`, `l[0]` is `l[0]`)."""
        path = self.path()
        last = max(i for i, e in enumerate(path.elements) if isinstance(e, str))
        alias = str(path.elements[last]) + "".join(f"[{e}]" for e in path.elements[last + 1 :])
        return alias, path

    def insert(self) -> Insert:
        self.expect("INSERT")
        self.expect("INTO")
        table = self.name()
        self.expect("VALUE")
        start = self.peek()
        if not self.at("{"):
            raise ValidationException(
                "Unsupported format in item expression. Please use struct format {...} to express item "
                f"values for insert statement. at {start.where()}"
            )
        item = self.literal()
        if self.at("RETURNING"):
            raise ValidationException("RETURNING is not supported in INSERT")
        return Insert(table, validate_item(item["M"]))  # depth and size as PutItem checks them

    def update(self) -> UpdateStatement:
        self.expect("UPDATE")
        table = self.name()
        actions: list[Action] = []
        while self.at("SET", "REMOVE"):
            clause = self.take().text
            while True:
                actions.append(self.set_action() if clause == "SET" else RemoveAction(self.path()))
                if not self.accept(","):
                    break
        if not actions:
            raise malformed(self.text)
        where = self.condition() if self.accept("WHERE") else None
        return UpdateStatement(table, Update(tuple(actions)), where, self.returning())

    def set_action(self) -> Action:
        path = self.path()
        self.expect("=")
        token = self.peek()
        function = token.raw.lower() if token.kind == "word" else ""
        if function in ("set_add", "set_delete") and self.peek(1).text == "(":
            args = self.call_args(function, _UPDATE_FUNCTIONS[function])
            if args[0] != path:
                raise malformed(self.text)
            return AddAction(path, args[1]) if function == "set_add" else DeleteAction(path, args[1])
        value = self.operand()
        if self.at("+", "-"):
            op = self.take().text
            value = Arithmetic(op, value, self.operand())
        return SetAction(path, value)

    def delete(self) -> Delete:
        self.expect("DELETE")
        self.expect("FROM")
        table = self.name()
        where = self.condition() if self.accept("WHERE") else None
        returning = self.returning()
        if returning is not None and returning != "ALL OLD":
            raise ValidationException(
                f"Invalid returning clause: RETURNING {returning} *. "
                "Only RETURNING ALL OLD * is allowed in DELETE statements."
            )
        return Delete(table, where, returning)

    def returning(self) -> Returning | None:
        if not self.accept("RETURNING"):
            return None
        which = self.take().text
        age = self.take().text
        if which not in ("ALL", "MODIFIED") or age not in ("OLD", "NEW"):
            raise malformed(self.text)
        if not self.accept("*"):
            raise ValidationException(
                "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"
            )
        returning: Returning = f"{which} {age}"  # type: ignore[assignment]
        return returning

    # --- paths ----------------------------------------------------------------------------------

    def path(self) -> Path:
        elements: list[str | int] = [self.name()]
        while True:
            if self.accept("."):
                elements.append(self.name())
            elif self.at("["):
                self.take()
                token = self.take()
                if token.kind == "number" and token.text.isdigit():
                    elements.append(int(token.text))
                elif token.kind == "string":
                    elements.append(token.text)
                else:
                    raise malformed(self.text)
                self.expect("]")
            else:
                return Path(tuple(elements))

    # --- conditions -----------------------------------------------------------------------------

    def condition(self) -> Condition:
        left = self.conjunction()
        while self.accept("OR"):
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.accept("AND"):
            left = And(left, self.negation())
        return left

    def nested(self) -> None:
        """Count one more level of nesting (undone by the caller's `self.depth -= 1`)."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise malformed(self.text)

    def negation(self) -> Condition:
        if self.accept("NOT"):
            self.nested()
            negated = Not(self.negation())
            self.depth -= 1
            return negated
        return self.predicate()

    def predicate(self) -> Condition:
        if self.at("("):
            start, used = self.pos, self.used
            self.take()
            self.nested()
            try:
                inner = self.condition()
                self.expect(")")
                return inner
            except ValidationException:
                self.pos, self.used = start, used  # not a condition in brackets: an operand, `(n) = 1`
            finally:
                self.depth -= 1
        token = self.peek()
        function = token.raw.lower() if token.kind == "word" else ""
        if function in _CONDITION_FUNCTIONS and self.peek(1).text == "(":
            call = Call(function, self.call_args(function, _CONDITION_FUNCTIONS[function]))
            if self.at("=", "<>", "!="):  # `contains(l, 'q') = true`
                op = _COMPARISONS[self.take().text]
                other = self.operand()
                if not isinstance(other, Value) or "BOOL" not in other.value:
                    raise malformed(self.text)
                return call if (other.value["BOOL"] is True) == (op == "=") else Not(call)
            return call
        left = self.operand_or_missing()
        if self.accept("IS"):
            negated = self.accept("NOT")
            if not isinstance(left, Path):
                raise malformed(self.text)
            if self.accept("MISSING"):
                return Call("attribute_exists" if negated else "attribute_not_exists", (left,))
            self.expect("NULL")
            is_null = Call("attribute_type", (left, Value({"S": "NULL"})))
            return Not(is_null) if negated else is_null
        if left is _MISSING:
            raise ValidationException("MISSING must be compared using IS operator")
        operand = cast(Operand, left)
        if self.at(*_COMPARISONS):
            op = _COMPARISONS[self.take().text]
            right = self.operand_or_missing()
            if right is _MISSING:
                raise ValidationException("MISSING must be compared using IS operator")
            if self.at("+", "-", "*", "/"):
                raise ValidationException(
                    f"Unsupported operator in Condition Expression. Operator: {self.peek().text}"
                )
            return Compare(op, operand, cast(Operand, right))
        if self.accept("BETWEEN"):
            low = self.operand()
            self.expect("AND")
            return Between(operand, low, self.operand())
        negated = self.accept("NOT")
        if self.accept("IN"):
            closing = "]" if self.accept("[") else ")" if self.accept("(") else None
            if closing is None or self.at(closing):
                raise ValidationException(IN_NEEDS_A_LIST)
            choices = [self.operand()]
            while self.accept(","):
                choices.append(self.operand())
            self.expect(closing)
            found = In(operand, tuple(choices))
            return Not(found) if negated else found
        if self.at("AND", "OR") or self.peek().kind == "end":
            raise ValidationException("The arguments to AND/OR must be Expressions")
        raise malformed(self.text)

    def call_args(self, function: str, arity: int) -> tuple[Operand, ...]:
        self.take()
        self.expect("(")
        args = [self.operand()]
        while self.accept(","):
            args.append(self.operand())
        self.expect(")")
        if len(args) != arity:
            raise ValidationException(
                "Incorrect number of operands for operator or function; "
                f"operator or function: {function}, number of operands: {len(args)}"
            )
        return tuple(args)

    # --- operands and literals ------------------------------------------------------------------

    def operand_or_missing(self) -> Operand | object:
        if self.accept("MISSING"):
            return _MISSING
        return self.operand()

    def operand(self) -> Operand:
        token = self.peek()
        if token.text == "(" and token.kind == "op":
            self.take()
            self.nested()
            inner = self.operand()
            self.depth -= 1
            self.expect(")")
            return inner
        if token.kind == "word" and self.peek(1).text == "(":
            function = token.raw.lower()
            if function in _VALUE_FUNCTIONS:
                return Call(function, self.call_args(function, _VALUE_FUNCTIONS[function]))
            if function in ("list_append", "if_not_exists"):
                return Call(function, self.call_args(function, _UPDATE_FUNCTIONS[function]))
            raise ValidationException(f"Unrecognized function: {token.raw}")
        if token.kind == "ident" or (token.kind == "word" and token.text not in ("TRUE", "FALSE", "NULL")):
            if token.text == "MISSING":
                raise ValidationException("MISSING must be compared using IS operator")
            return self.path()
        return Value(self.literal())

    def literal(self, under: str = "root", name: str = "root") -> AttributeValue:
        """A literal value (or a bound `?`) as a canonical attribute value; `name` is its key in the
        tuple `under` (messages name them)."""
        token = self.take()
        raw: dict[str, Any]
        if token.kind == "param":
            return self.parameter()
        if token.kind == "string":
            raw = {"S": token.text}
        elif token.kind == "number" or (token.text in ("-", "+") and self.peek().kind == "number"):
            text = token.text if token.kind == "number" else token.text + self.take().text
            raw = {"N": text.lstrip("+")}
        elif token.kind == "word" and token.text in ("TRUE", "FALSE"):
            raw = {"BOOL": token.text == "TRUE"}
        elif token.kind == "word" and token.text == "NULL":
            raw = {"NULL": True}
        elif token.kind == "word" and token.text == "MISSING":
            raise ValidationException(f"Unsupported data type: MISSING under key {under} at {token.where()}")
        elif token.kind == "ion":
            raise ValidationException(
                f"Ion Literals are not supported: {ion_type(token.text)} under key {under} at {token.where()}"
            )
        elif token.text in ("[", "{", "<<"):
            self.nested()
            value: AttributeValue
            if token.text == "[":
                value = {"L": self.sequence("]", under)}
            elif token.text == "{":
                value = {"M": self.struct(name)}
            else:
                value = self.bag(token, under)
            self.depth -= 1
            return value
        else:
            raise malformed(self.text)
        return validate_value(raw)

    def parameter(self) -> AttributeValue:
        index = self.used
        self.used += 1
        return self.parameters[index] if index < len(self.parameters) else {"NULL": True}

    def sequence(self, closing: str, under: str) -> list[AttributeValue]:
        values: list[AttributeValue] = []
        if self.accept(closing):
            return values
        while True:
            values.append(self.literal(under))
            if self.accept(closing):
                return values
            self.expect(",")

    def struct(self, under: str) -> dict[str, AttributeValue]:
        members: dict[str, AttributeValue] = {}
        if self.accept("}"):
            return members
        while True:
            key = self.take()
            if key.kind != "string":
                kind = "VariableReference" if key.kind in ("word", "ident") else "Literal"
                raise ValidationException(
                    f"Tuple keys must be of type String. Actual type: {kind} under {under} at {key.where()}"
                )
            if key.text in members:
                raise ValidationException(
                    f"Duplicate keys in tuple. Key: {key.text} under {under} at {key.where()}"
                )
            self.expect(":")
            members[key.text] = self.literal(under, key.text)
            if self.accept("}"):
                return members
            self.expect(",")

    def bag(self, start: Token, under: str) -> AttributeValue:
        members = self.sequence(">>", under)
        if not members:
            raise ValidationException(f"Empty bags are not supported at {start.where()}")
        for kind, set_kind in (("S", "SS"), ("N", "NS"), ("B", "BS")):
            if all(kind in member for member in members):
                return validate_value({set_kind: [member[kind] for member in members]})
        raise ValidationException(
            "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags"
        )

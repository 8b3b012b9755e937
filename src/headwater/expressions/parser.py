"""One recursive-descent parser for DynamoDB's expression language.

Entry points (pure, cached by text): `parse_condition`, `parse_update`, `parse_projection`. Syntax is
checked over the whole text first; reserved words and unknown function names are reported afterwards,
the earliest in the text first, as DynamoDB does.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

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
    ValueRef,
)
from headwater.expressions.errors import ExpressionError
from headwater.expressions.reserved import is_reserved
from headwater.expressions.tokens import EOF, IDENT, NAME_REF, NUMBER, VALUE_REF, Token, tokenize

FUNCTIONS = frozenset(
    {
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
        "begins_with",
        "contains",
        "size",
        "if_not_exists",
        "list_append",
    }
)
COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")
MAX_LIST_INDEX = 2**31 - 1
MAX_OPERATORS = 300
MAX_PATH_DEPTH = 32
_CACHE_SIZE = 2048
T = TypeVar("T")


class _Parser:
    __slots__ = ("deferred", "operators", "parens", "pos", "source", "tokens")

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        # (position, detail) of semantic problems found while parsing; raised after syntax passes.
        self.deferred: list[tuple[int, str]] = []
        # (open, close) token indexes of parenthesized conditions, to spot redundant ones.
        self.parens: set[tuple[int, int]] = set()
        self.operators = 0

    # --- token helpers -------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != EOF:
            self.pos += 1
        return token

    def accept_punct(self, text: str) -> bool:
        if self.peek().is_punct(text):
            self.pos += 1
            return True
        return False

    def expect_punct(self, text: str) -> None:
        if not self.accept_punct(text):
            self.fail()

    def accept_keyword(self, word: str) -> bool:
        if self.peek().is_keyword(word):
            self.pos += 1
            return True
        return False

    def fail(self) -> ExpressionError:
        """Raise DynamoDB's syntax error at the current token."""
        index = min(self.pos, len(self.tokens) - 1)
        token = self.tokens[index]
        start = self.tokens[index - 1].start if index > 0 else 0
        if token.kind == EOF:
            near = self.source[start:]
        else:
            nxt = self.tokens[index + 1]
            near = self.source[start : nxt.end]
        raise ExpressionError(f'Syntax error; token: "{token.text}", near: "{near}"')

    def finish(self) -> None:
        if self.peek().kind != EOF:
            self.fail()
        if self.deferred:
            self.deferred.sort(key=lambda entry: entry[0])
            raise ExpressionError(self.deferred[0][1])

    def operator(self) -> None:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise ExpressionError(
                f"The expression contains too many operators; operator count: {self.operators}"
            )

    # --- operands ------------------------------------------------------------------------------
    def name_element(self) -> str | NameRef:
        token = self.peek()
        if token.kind == IDENT:
            self.pos += 1
            if is_reserved(token.text):
                self.deferred.append(
                    (token.start, f"Attribute name is a reserved keyword; reserved keyword: {token.text}")
                )
            return token.text
        if token.kind == NAME_REF:
            self.pos += 1
            return NameRef(token.text)
        raise self.fail()

    def path(self) -> Path:
        elements: list[str | int | NameRef] = [self.name_element()]
        while True:
            if self.accept_punct("."):
                elements.append(self.name_element())
            elif self.accept_punct("["):
                token = self.peek()
                if token.kind != NUMBER:
                    self.fail()
                self.pos += 1
                index = int(token.text)
                if index > MAX_LIST_INDEX:
                    self.deferred.append(
                        (token.start, f"List index is not within the allowable range; index: [{token.text}]")
                    )
                elements.append(index)
                self.expect_punct("]")
            else:
                if len(elements) > MAX_PATH_DEPTH:
                    self.deferred.append(
                        (
                            self.tokens[self.pos - 1].start,
                            f"The document path has too many nesting levels; nesting levels: {len(elements)}",
                        )
                    )
                return Path(tuple(elements))

    def call(self) -> Call:
        token = self.advance()
        self.operator()
        if token.text not in FUNCTIONS:
            self.deferred.append((token.start, f"Invalid function name; function: {token.text}"))
        self.expect_punct("(")
        args = [self.operand()]
        while self.accept_punct(","):
            args.append(self.operand())
        self.expect_punct(")")
        return Call(token.text, tuple(args))

    def operand(self) -> Operand:
        if self.accept_punct("("):
            inner = self.operand()
            self.expect_punct(")")
            return inner
        token = self.peek()
        if token.kind == VALUE_REF:
            self.pos += 1
            return ValueRef(token.text)
        if token.kind == IDENT and self.peek(1).is_punct("("):
            return self.call()
        return self.path()

    # --- conditions ----------------------------------------------------------------------------
    def condition(self) -> Condition:
        left = self.conjunction()
        while self.accept_keyword("OR"):
            self.operator()
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.accept_keyword("AND"):
            self.operator()
            left = And(left, self.negation())
        return left

    def negation(self) -> Condition:
        if self.accept_keyword("NOT"):
            self.operator()
            return Not(self.negation())
        return self.predicate()

    def predicate(self) -> Condition:
        if self.peek().is_punct("("):
            return self.parenthesized()
        return self.comparison(self.operand())

    def parenthesized(self) -> Condition:
        """`( condition )`, or a comparison whose first operand is parenthesized: `(a) = :v`."""
        open_at = self.pos
        deferred = len(self.deferred)
        try:
            self.pos += 1
            inner = self.condition()
            self.expect_punct(")")
        except ExpressionError as as_condition:
            failed_at = self.pos
            self.pos = open_at
            del self.deferred[deferred:]
            try:
                return self.comparison(self.operand())
            except ExpressionError:
                if self.pos < failed_at:
                    raise as_condition from None
                raise
        close_at = self.pos - 1
        if (open_at + 1, close_at - 1) in self.parens:
            self.deferred.append((self.tokens[open_at].start, "The expression has redundant parentheses;"))
        self.parens.add((open_at, close_at))
        return inner

    def comparison(self, left: Operand) -> Condition:
        token = self.peek()
        if token.kind == "PUNCT" and token.text in COMPARATORS:
            self.pos += 1
            self.operator()
            return Compare(token.text, left, self.operand())
        if self.accept_keyword("BETWEEN"):
            self.operator()
            low = self.operand()
            if not self.accept_keyword("AND"):
                self.fail()
            return Between(left, low, self.operand())
        if self.accept_keyword("IN"):
            self.operator()
            self.expect_punct("(")
            choices = [self.operand()]
            while self.accept_punct(","):
                choices.append(self.operand())
            self.expect_punct(")")
            return In(left, tuple(choices))
        if isinstance(left, Call):
            return left
        raise self.fail()

    # --- update --------------------------------------------------------------------------------
    def update(self) -> Update:
        actions: list[SetAction | RemoveAction | AddAction | DeleteAction] = []
        seen: set[str] = set()
        while True:
            token = self.peek()
            clause = token.text.upper() if token.kind == IDENT else ""
            if clause not in CLAUSES:
                self.fail()
            self.pos += 1
            if clause in seen:
                self.deferred.append(
                    (token.start, f'The "{clause}" section can only be used once in an update expression;')
                )
            seen.add(clause)
            while True:
                actions.append(self.action(clause))
                if not self.accept_punct(","):
                    break
            if self.peek().kind == EOF:
                return Update(tuple(actions))

    def action(self, clause: str) -> SetAction | RemoveAction | AddAction | DeleteAction:
        path = self.path()
        if clause == "SET":
            self.expect_punct("=")
            return SetAction(path, self.set_value())
        if clause == "REMOVE":
            return RemoveAction(path)
        token = self.peek()
        if token.kind != VALUE_REF:
            self.fail()
        self.pos += 1
        value = ValueRef(token.text)
        return AddAction(path, value) if clause == "ADD" else DeleteAction(path, value)

    def set_value(self) -> Operand:
        left = self.set_operand()
        token = self.peek()
        if token.is_punct("+") or token.is_punct("-"):
            self.pos += 1
            self.operator()
            return Arithmetic(token.text, left, self.set_operand())
        return left

    def set_operand(self) -> Operand:
        if self.accept_punct("("):
            inner = self.set_value()
            self.expect_punct(")")
            return inner
        return self.operand()

    # --- projection ----------------------------------------------------------------------------
    def projection(self) -> Projection:
        paths = [self.path()]
        while self.accept_punct(","):
            paths.append(self.path())
        return Projection(tuple(paths))


def _run(source: str, entry: Callable[[_Parser], T]) -> T:
    if not source:
        raise ExpressionError("The expression can not be empty;")
    parser = _Parser(source)
    try:
        result = entry(parser)
    except RecursionError:
        # Only absurdly deep parenthesization gets here (operators are capped at 300).
        raise ExpressionError("The expression has redundant parentheses;") from None
    parser.finish()
    return result


@lru_cache(maxsize=_CACHE_SIZE)
def parse_condition(source: str) -> Condition:
    """Parse a condition, filter or key-condition expression."""
    return _run(source, _Parser.condition)


@lru_cache(maxsize=_CACHE_SIZE)
def parse_update(source: str) -> Update:
    return _run(source, _Parser.update)


@lru_cache(maxsize=_CACHE_SIZE)
def parse_projection(source: str) -> Projection:
    return _run(source, _Parser.projection)


__all__ = ["COMPARATORS", "FUNCTIONS", "parse_condition", "parse_projection", "parse_update"]

"""PartiQL tokens: words, "quoted identifiers", 'strings', numbers, `?`, operators and brackets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import ValidationException

TokenKind = Literal["word", "ident", "string", "number", "param", "op", "ion", "end"]
# Longest first: `<<` before `<=` before `<`.
_OPERATORS = ("<<", ">>", "<=", ">=", "<>", "!=", "=", "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":")
_SINGLE = frozenset("*+-/;")


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str  # words upper-cased as keywords are compared; the source text in `raw`
    raw: str
    line: int
    column: int

    def where(self) -> str:
        """DynamoDB's position of a token in messages: line:column:length."""
        return f"{self.line}:{self.column}:{len(self.raw)}"


def malformed(statement: str) -> ValidationException:
    """DynamoDB's answer to a statement its grammar cannot parse (it names the statement, not a token)."""
    return ValidationException(f"Statement wasn't well formed, can't be processed: {statement}")


def tokenize(statement: str) -> list[Token]:
    tokens: list[Token] = []
    i, line, line_start = 0, 1, 0
    n = len(statement)
    while i < n:
        c = statement[i]
        if c == "\n":
            i += 1
            line, line_start = line + 1, i
            continue
        if c.isspace():
            i += 1
            continue
        if c == "-" and statement.startswith("--", i):  # a comment to the end of the line
            end = statement.find("\n", i)
            i = n if end < 0 else end
            continue
        if c == "/" and statement.startswith("/*", i):  # a block comment
            end = statement.find("*/", i + 2)
            if end < 0:
                raise malformed(statement)
            line += statement.count("\n", i, end)
            if "\n" in statement[i:end]:
                line_start = statement.rfind("\n", i, end) + 1
            i = end + 2
            continue
        start, column = i, i - line_start + 1
        if c.isalpha() or c == "_":
            while i < n and (statement[i].isalnum() or statement[i] in "_$"):
                i += 1
            word = statement[start:i]
            tokens.append(Token("word", word.upper(), word, line, column))
        elif c in "'\"":
            text, i = _quoted(statement, i, c)
            tokens.append(Token("string" if c == "'" else "ident", text, statement[start:i], line, column))
        elif c.isdigit() or (c == "." and i + 1 < n and statement[i + 1].isdigit()):
            i = _number_end(statement, i)
            tokens.append(Token("number", statement[start:i], statement[start:i], line, column))
        elif c == "`":  # an Ion literal: read so that DynamoDB's refusal can name its type
            end = statement.find("`", i + 1)
            if end <= i + 1:
                raise malformed(statement)
            i = end + 1
            tokens.append(Token("ion", statement[start + 1 : end].strip(), statement[start:i], line, column))
        elif c == "?":
            i += 1
            tokens.append(Token("param", "?", "?", line, column))
        else:
            op = next((o for o in _OPERATORS if statement.startswith(o, i)), None)
            if op is None and c in _SINGLE:
                op = c
            if op is None:
                raise malformed(statement)
            i += len(op)
            tokens.append(Token("op", op, op, line, column))
    tokens.append(Token("end", "", "", line, n - line_start + 1))
    return tokens


def _quoted(statement: str, i: int, quote: str) -> tuple[str, int]:
    """The text of a quoted string or identifier starting at `i` (a doubled quote is one), and the index
    after its closing quote."""
    parts: list[str] = []
    i += 1
    while True:
        end = statement.find(quote, i)
        if end < 0:
            raise malformed(statement)
        parts.append(statement[i:end])
        if statement.startswith(quote * 2, end):
            parts.append(quote)
            i = end + 2
            continue
        return "".join(parts), end + 1


def _number_end(statement: str, i: int) -> int:
    n = len(statement)
    while i < n and statement[i].isdigit():
        i += 1
    if i < n and statement[i] == "." and not statement.startswith("..", i):
        i += 1
        while i < n and statement[i].isdigit():
            i += 1
    if i < n and statement[i] in "eE":
        j = i + 1
        if j < n and statement[j] in "+-":
            j += 1
        if j < n and statement[j].isdigit():
            i = j
            while i < n and statement[i].isdigit():
                i += 1
    return i


def ion_type(text: str) -> str:
    """The Ion type of a literal's text, as DynamoDB names it when refusing it."""
    if text.startswith("{{"):
        return "BLOB"
    for opening, name in (("{", "STRUCT"), ("[", "LIST"), ("(", "SEXP"), ('"', "STRING"), ("'", "SYMBOL")):
        if text.startswith(opening):
            return name
    lowered = text.lower()
    if lowered in ("true", "false"):
        return "BOOL"
    if lowered.startswith("null"):
        return "NULL"
    if text[:1].isdigit() or text[:1] in "+-":
        if "T" in text[1:] or text.count("-") >= 2:
            return "TIMESTAMP"
        if "e" in lowered and not lowered.startswith("0x"):
            return "FLOAT"
        return "DECIMAL" if "." in text or "d" in lowered else "INT"
    return "SYMBOL"

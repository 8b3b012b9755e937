"""The one tokenizer shared by every expression kind.

It never fails: a character DynamoDB's lexer does not know becomes an ILLEGAL token, so the parser
reports it as a syntax error with DynamoDB's `token: "...", near: "..."` text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

IDENT: Final = "IDENT"
NAME_REF: Final = "NAME_REF"
VALUE_REF: Final = "VALUE_REF"
NUMBER: Final = "NUMBER"
PUNCT: Final = "PUNCT"
ILLEGAL: Final = "ILLEGAL"
EOF: Final = "EOF"

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<IDENT>[A-Za-z][A-Za-z0-9_]*)
  | (?P<NAME_REF>\#[A-Za-z0-9_]+)
  | (?P<VALUE_REF>:[A-Za-z0-9_]+)
  | (?P<NUMBER>[0-9]+)
  | (?P<PUNCT><>|<=|>=|[=<>()\[\],.+\-])
  | (?P<ILLEGAL>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    def is_keyword(self, word: str) -> bool:
        return self.kind == IDENT and self.text.upper() == word

    def is_punct(self, text: str) -> bool:
        return self.kind == PUNCT and self.text == text


def tokenize(source: str) -> list[Token]:
    """Split `source` into tokens, always ending with one EOF token."""
    tokens: list[Token] = []
    for match in _TOKEN_RE.finditer(source):
        kind = match.lastgroup
        if kind == "ws" or kind is None:
            continue
        tokens.append(Token(kind, match.group(), match.start(), match.end()))
    tokens.append(Token(EOF, "<EOF>", len(source), len(source)))
    return tokens

"""Policy variables: `${aws:username}` in a Resource or a condition value, replaced by the request's
context value before matching (policy Version 2012-10-17 only; in 2008-10-17 the text is literal).

`${*}`, `${?}` and `${$}` stand for a literal `*`, `?` and `$`; `${key, 'default'}` gives a default for a
key the request lacks. A variable whose key is missing (and has no default) does not resolve: the value
that holds it matches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

from headwater.auth.policy.context import ContextValue, lookup

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"\s*([^,\s]+)\s*,\s*'([^']*)'\s*")
_LITERALS = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True, slots=True)
class Literal:
    """Text that came from the policy itself: wildcards in it keep their meaning."""

    text: str


@dataclass(frozen=True, slots=True)
class Substituted:
    """Text that came from a variable: always matched literally."""

    text: str


@dataclass(frozen=True, slots=True)
class Variable:
    key: str
    default: str | None


Part: TypeAlias = Literal | Variable
Resolved: TypeAlias = tuple[Literal | Substituted, ...]


@lru_cache(maxsize=4096)
def parse(text: str) -> tuple[Part, ...]:
    """Split a policy value into literal text and variables (cached: policies repeat their values)."""
    parts: list[Part] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        if match.start() > position:
            parts.append(Literal(text[position : match.start()]))
        inner = match.group(1)
        if inner in _LITERALS:
            parts.append(Literal("\\" + _LITERALS[inner]) if inner != "$" else Literal("$"))
        else:
            default = _DEFAULT.fullmatch(inner)
            if default is not None:
                parts.append(Variable(default.group(1), default.group(2)))
            else:
                parts.append(Variable(inner.strip(), None))
        position = match.end()
    if position < len(text):
        parts.append(Literal(text[position:]))
    return tuple(parts)


def resolve(text: str, context: Mapping[str, ContextValue], enabled: bool = True) -> Resolved | None:
    """`text` with its variables replaced, or None when one cannot be (its key is absent)."""
    if not enabled or "${" not in text:
        return (Literal(text),)
    resolved: list[Literal | Substituted] = []
    for part in parse(text):
        if isinstance(part, Literal):
            resolved.append(part)
            continue
        value = lookup(context, part.key)
        if isinstance(value, str):
            resolved.append(Substituted(value))
        elif value is None and part.default is not None:
            resolved.append(Substituted(part.default))
        else:
            return None  # absent, or a multi-valued key: nothing to substitute
    return tuple(resolved)


def plain(resolved: Resolved) -> str:
    """The resolved value as one string (for operators without wildcards; `\\*` escapes become `*`)."""
    return "".join(p.text if isinstance(p, Substituted) else _unescape(p.text) for p in resolved)


def _unescape(text: str) -> str:
    return text.replace("\\*", "*").replace("\\?", "?")

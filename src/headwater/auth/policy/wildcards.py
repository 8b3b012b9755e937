"""Wildcard matching as IAM does it: `*` any run of characters, `?` one character.

Actions match case-insensitively; ARNs case-sensitively and segment by segment (a wildcard never spans
the `:` between the six fields of an ARN; the last field, the resource, may itself hold colons).
Text substituted from a policy variable is always literal.
"""

from __future__ import annotations

import re
from functools import lru_cache

from headwater.auth.policy.variables import Literal, Resolved, Substituted


@lru_cache(maxsize=8192)
def _literal_regex(text: str) -> str:
    """Regex source for literal policy text: `*` and `?` are wildcards, `\\*` and `\\?` (from `${*}`,
    `${?}`) are the characters themselves."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "*?":
            out.append(re.escape(text[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return "".join(out)


@lru_cache(maxsize=8192)
def _compile(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches(pattern: Resolved, value: str, ignore_case: bool = False) -> bool:
    """Whether `value` matches the (resolved) wildcard pattern."""
    if len(pattern) == 1 and isinstance(pattern[0], Literal):
        text = pattern[0].text
        if text == "*":
            return True
        if "*" not in text and "?" not in text and "\\" not in text:
            return text.lower() == value.lower() if ignore_case else text == value
    return _regex(pattern, ignore_case).fullmatch(value) is not None


@lru_cache(maxsize=8192)
def _regex(pattern: Resolved, ignore_case: bool) -> re.Pattern[str]:
    """The compiled pattern (cached: a policy's patterns, and most resolved ones, repeat every request)."""
    source = "".join(
        re.escape(p.text) if isinstance(p, Substituted) else _literal_regex(p.text) for p in pattern
    )
    return _compile(source, ignore_case)


def matches_text(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """Wildcard match of plain policy text (no variables)."""
    return matches((Literal(pattern),), value, ignore_case)


def action_matches(pattern: str, action: str) -> bool:
    """`dynamodb:Get*` against `dynamodb:GetItem`, case-insensitively; `*` matches every action."""
    return matches_text(pattern, action, ignore_case=True)


def split_arn(arn: str) -> list[str] | None:
    """The six fields of an ARN (arn, partition, service, region, account, resource), or None."""
    parts = arn.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else None


def arn_matches(pattern: Resolved, arn: str) -> bool:
    """ARN match field by field; a pattern of just `*` matches any resource."""
    if len(pattern) == 1 and isinstance(pattern[0], Literal):
        text = pattern[0].text
        if text == "*":
            return True
        if "*" not in text and "?" not in text and "\\" not in text:
            return text == arn  # no wildcard: the ARN itself
    text = "".join(p.text for p in pattern)
    if ":" not in text:
        return False
    arn_fields = split_arn(arn)
    if arn_fields is None:
        return matches(pattern, arn)
    fields = _split_resolved(pattern)
    if fields is None:
        return False
    return all(matches(field, value) for field, value in zip(fields, arn_fields, strict=True))


@lru_cache(maxsize=8192)
def _split_resolved(pattern: Resolved) -> tuple[Resolved, ...] | None:
    """Split a resolved pattern on its first five colons (the sixth field keeps any further colons),
    keeping literal and substituted pieces apart so each stays matched as it should."""
    fields: list[list[Literal | Substituted]] = [[]]
    for part in pattern:
        kind = type(part)
        piece = ""
        for char in part.text:
            if char == ":" and len(fields) < 6:
                if piece:
                    fields[-1].append(kind(piece))
                fields.append([])
                piece = ""
            else:
                piece += char
        if piece:
            fields[-1].append(kind(piece))
    if len(fields) != 6:
        return None
    return tuple(tuple(field) if field else (Literal(""),) for field in fields)

"""FilterCriteria: EventBridge event patterns, validated at creation, matched against Lambda records.

A pattern is a JSON object whose leaves are arrays of matchers (ORed); all keys must match (AND).
Matchers: literal strings, numbers, booleans and null; `""` (empty); {"prefix"}, {"suffix"},
{"equals-ignore-case"}, {"wildcard"}, {"anything-but"}, {"numeric"}, {"exists"}.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import orjson

MAX_FILTERS = 5
NUMERIC_OPS = ("<", "<=", "=", ">", ">=")


class PatternError(ValueError):
    """The pattern is not valid EventBridge syntax (Lambda answers InvalidParameterValueException)."""


@dataclass(frozen=True, slots=True)
class Pattern:
    tree: dict[str, Any]

    def matches(self, event: Any) -> bool:
        return _match_object(self.tree, event)


def parse_patterns(texts: Sequence[str]) -> tuple[Pattern, ...]:
    return tuple(_parse(text) for text in texts)


@lru_cache(maxsize=256)
def _parse(text: str) -> Pattern:
    try:
        tree = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise PatternError("not JSON") from None
    if not isinstance(tree, dict) or not tree:
        raise PatternError("a pattern is a non-empty JSON object")
    _check_object(tree)
    return Pattern(tree)


def matches_any(patterns: Sequence[Pattern], event: Any) -> bool:
    """No patterns: everything matches. Otherwise the patterns are ORed."""
    return not patterns or any(p.matches(event) for p in patterns)


# validation ------------------------------------------------------------------------------------


def _check_object(tree: dict[str, Any]) -> None:
    for value in tree.values():
        if isinstance(value, dict):
            if not value:
                raise PatternError("empty object")
            _check_object(value)
        elif isinstance(value, list):
            if not value:
                raise PatternError("empty match list")
            for matcher in value:
                _check_matcher(matcher)
        else:
            raise PatternError("leaf values must be arrays")


def _check_matcher(matcher: Any) -> None:
    if matcher is None or isinstance(matcher, str | bool | int | float):
        return
    if not isinstance(matcher, dict) or len(matcher) != 1:
        raise PatternError("a matcher is a literal or an object with one operator")
    ((op, arg),) = matcher.items()
    if op in ("prefix", "suffix"):
        if isinstance(arg, dict) and set(arg) == {"equals-ignore-case"}:
            arg = arg["equals-ignore-case"]
        if not isinstance(arg, str):
            raise PatternError(f"{op} takes a string")
    elif op in ("equals-ignore-case", "wildcard"):
        if not isinstance(arg, str):
            raise PatternError(f"{op} takes a string")
    elif op == "exists":
        if not isinstance(arg, bool):
            raise PatternError("exists takes true or false")
    elif op == "numeric":
        _check_numeric(arg)
    elif op == "anything-but":
        if isinstance(arg, dict):
            if len(arg) != 1 or next(iter(arg)) not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
                raise PatternError("anything-but takes prefix, suffix, equals-ignore-case or wildcard")
            inner = next(iter(arg.values()))
            if not (
                isinstance(inner, str)
                or (isinstance(inner, list) and inner and all(isinstance(x, str) for x in inner))
            ):
                raise PatternError("anything-but operator takes strings")
        elif isinstance(arg, list):
            if not arg or not all(isinstance(x, str | int | float) and not isinstance(x, bool) for x in arg):
                raise PatternError("anything-but list takes strings or numbers")
        elif not isinstance(arg, str | int | float) or isinstance(arg, bool):
            raise PatternError("anything-but takes a string, a number or a list")
    else:
        raise PatternError(f"unknown operator {op}")


def _check_numeric(arg: Any) -> None:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise PatternError("numeric takes one or two comparisons")
    for i in range(0, len(arg), 2):
        op, num = arg[i], arg[i + 1]
        if op not in NUMERIC_OPS or isinstance(num, bool) or not isinstance(num, int | float):
            raise PatternError("numeric takes operator, number pairs")
    if len(arg) == 4:
        lower, upper = arg[0], arg[2]
        if lower not in (">", ">=") or upper not in ("<", "<="):
            raise PatternError("a numeric range is a lower bound then an upper bound")


# matching --------------------------------------------------------------------------------------

_MISSING = object()


def _match_object(tree: dict[str, Any], event: Any) -> bool:
    for key, sub in tree.items():
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(sub, dict):
            if not isinstance(value, dict) or not _match_object(sub, value):
                return False
        elif not _match_leaf(sub, value):
            return False
    return True


def _match_leaf(matchers: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for matcher in matchers:
        if isinstance(matcher, dict) and "exists" in matcher:
            present = value is not _MISSING
            if present == matcher["exists"]:
                return True
            continue
        if value is _MISSING:
            continue
        if any(_match_one(matcher, v) for v in values):
            return True
    return False


def _match_one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        if matcher is None or isinstance(matcher, bool):
            return value is matcher
        if isinstance(matcher, int | float):
            number = _number(value)
            return number is not None and number == Decimal(str(matcher))
        return isinstance(value, str) and value == matcher
    ((op, arg),) = matcher.items()
    if op == "prefix":
        if isinstance(arg, dict):
            return isinstance(value, str) and value.lower().startswith(arg["equals-ignore-case"].lower())
        return isinstance(value, str) and value.startswith(arg)
    if op == "suffix":
        if isinstance(arg, dict):
            return isinstance(value, str) and value.lower().endswith(arg["equals-ignore-case"].lower())
        return isinstance(value, str) and value.endswith(arg)
    if op == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == arg.lower()
    if op == "wildcard":
        return isinstance(value, str) and fnmatch.fnmatchcase(value, arg.replace("[", "[[]"))
    if op == "numeric":
        number = _number(value)
        return number is not None and _numeric(arg, number)
    if op == "anything-but":
        return _anything_but(arg, value)
    return False


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict):
        ((op, inner),) = arg.items()
        if not isinstance(value, str):
            return False
        options = inner if isinstance(inner, list) else [inner]
        return not any(_match_one({op: o}, value) for o in options)
    options = arg if isinstance(arg, list) else [arg]
    return not any(_match_one(o, value) for o in options)


def _numeric(arg: list[Any], number: Decimal) -> bool:
    for i in range(0, len(arg), 2):
        op, bound = arg[i], Decimal(str(arg[i + 1]))
        ok = {
            "<": number < bound,
            "<=": number <= bound,
            "=": number == bound,
            ">": number > bound,
            ">=": number >= bound,
        }[op]
        if not ok:
            return False
    return True


def _number(value: Any) -> Decimal | None:
    """Numbers, and numeric strings (DynamoDB's {"N": "5"} carries numbers as strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else Decimal(str(value))
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None

"""The request context a policy is evaluated against: condition keys and their values.

Keys are case-insensitive (as AWS's are); a value is a string, a list of strings (a multi-valued key such
as dynamodb:LeadingKeys), or absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

ContextValue: TypeAlias = "str | tuple[str, ...] | None"


def normalize(context: Mapping[str, ContextValue]) -> dict[str, ContextValue]:
    """A context with lower-case keys, for `lookup`."""
    return {key.lower(): value for key, value in context.items()}


def lookup(context: Mapping[str, ContextValue], key: str) -> ContextValue:
    """The value of `key` in a normalized context."""
    return context.get(key.lower())


def values_of(value: ContextValue) -> tuple[str, ...] | None:
    """A context value as a tuple of strings; None when the key is absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return value

"""Shape validation of a request body against the service model, with DynamoDB's exact error texts."""

from __future__ import annotations

import math
from typing import Any

from headwater.errors import SerializationException, UnknownOperationException, ValidationException
from headwater.kinesis import errors as kinesis_errors
from headwater.protocol import extra_rules
from headwater.protocol.compiler import Violation, render_path
from headwater.protocol.service import DAX, KINESIS, load_service

_BARE_TYPES = (KINESIS, DAX)  # services whose errors carry no namespace


def validate_request(service: str, operation: str, body: dict[str, Any]) -> None:
    """Raise SerializationException (wrong JSON type) or ValidationException (constraints) for `body`.

    Kinesis and DAX answer the same texts with bare error types (no namespace)."""
    try:
        model = load_service(service)
        checker = model.checkers[operation]
    except KeyError:
        raise UnknownOperationException() from None
    errors: list[Violation] = []
    try:
        checker(body, None, errors)
    except SerializationException as err:
        if service in _BARE_TYPES:
            raise kinesis_errors.SerializationException(err.message) from None
        raise
    if errors:
        if service in _BARE_TYPES:
            raise kinesis_errors.ValidationException(format_violations(errors))
        raise ValidationException(format_violations(errors))


def format_violations(errors: list[Violation]) -> str:
    shown = errors[: extra_rules.MAX_REPORTED_ERRORS]
    count = len(shown)
    head = f"{count} validation error{'s' if count > 1 else ''} detected: "
    return head + "; ".join(_describe(v) for v in shown)


def _describe(v: Violation) -> str:
    where = render_path(v.path)
    return f"Value {render_value(v.value)} at '{where}' failed to satisfy constraint: {v.constraint}"


def render_value(value: Any) -> str:
    """How DynamoDB quotes the offending value: null bare, anything else as Java's toString in quotes."""
    if value is None:
        return "null"
    return f"'{_java_string(value)}'"


def _java_string(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, list):
        return "[" + ", ".join(_java_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_string(v)}" for k, v in value.items()) + "}"
    return str(value)


def _java_double(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e7:
        return f"{int(value)}.0"
    return repr(value)

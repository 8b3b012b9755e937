"""Request-level compilation: every expression and legacy parameter of one request, checked and resolved."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from headwater.errors import ValidationException
from headwater.expressions import legacy
from headwater.expressions.ast import AttributeValue, Condition, KeyCondition, Projection, Update
from headwater.expressions.errors import ExpressionError
from headwater.expressions.keycond import key_condition_from
from headwater.expressions.parser import parse_condition, parse_projection, parse_update
from headwater.expressions.resolve import Resolver
from headwater.expressions.validate import validate_condition, validate_projection, validate_update
from headwater.model.limits import MAX_EXPRESSION_KEY_LENGTH, MAX_EXPRESSION_LENGTH, MAX_SUBSTITUTION_BYTES
from headwater.model.size import item_size
from headwater.model.values import NAME_TOO_LONG, name_too_long, validate_value

# The order DynamoDB lists parameters in its "Can not use both ..." message.
LEGACY_PARAMETERS = (
    "AttributeUpdates",
    "AttributesToGet",
    "Expected",
    "QueryFilter",
    "ScanFilter",
    "ConditionalOperator",
    "KeyConditions",
)
EXPRESSION_PARAMETERS = (
    "ProjectionExpression",
    "UpdateExpression",
    "ConditionExpression",
    "FilterExpression",
    "KeyConditionExpression",
)
# What DynamoDB names when ExpressionAttributeValues comes without an expression that can use it.
_VALUES_NEED = {
    "PutItem": "ConditionExpression is null",
    "DeleteItem": "ConditionExpression is null",
    "UpdateItem": "UpdateExpression and ConditionExpression are null",
    "Query": "FilterExpression and KeyConditionExpression are null",
    "Scan": "FilterExpression is null",
}

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CompiledExpressions:
    """Everything a request asks of items, resolved: evaluation needs only the item."""

    condition: Condition | None = None
    update: Update | None = None
    projection: Projection | None = None
    key_condition: KeyCondition | None = None
    filter: Condition | None = None


_ALL_PARAMETERS = frozenset(
    (*LEGACY_PARAMETERS, *EXPRESSION_PARAMETERS, "ExpressionAttributeNames", "ExpressionAttributeValues")
)


def _present(request: dict[str, Any], name: str) -> bool:
    return request.get(name) is not None


def _check_mixing(request: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The legacy and the expression parameters given. KeyConditions combines with ProjectionExpression
    and FilterExpression (as in DynamoDB); only KeyConditionExpression makes it a mix."""
    given = request.keys() & _ALL_PARAMETERS  # usually one or two names: test only those, in order
    old = [p for p in LEGACY_PARAMETERS if p in given and request[p] is not None]
    new = [p for p in EXPRESSION_PARAMETERS if p in given and request[p] is not None]
    mixed = old if "KeyConditionExpression" in new else [p for p in old if p != "KeyConditions"]
    if mixed and new:
        raise ValidationException(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(mixed)}}} Expression parameters: {{{', '.join(new)}}}"
        )
    return old, new


# DynamoDB reports the size of an over-long condition, filter or key condition, not of these two.
_SIZE_NOT_REPORTED = frozenset({"ProjectionExpression", "UpdateExpression"})
_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")


def _attribute_names(raw: Any) -> dict[str, str]:
    for key, value in raw.items():
        if len(key) > MAX_EXPRESSION_KEY_LENGTH:
            raise ValidationException(
                "ExpressionAttributeNames contains invalid key: "
                f"The expression attribute map contains a key that is too long; size of key: {len(key)}"
            )
        if not _NAME_KEY.fullmatch(key):
            raise ValidationException(
                f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
            )
        if not value or not isinstance(value, str):
            raise ValidationException(
                f"ExpressionAttributeNames contains invalid value: Empty attribute name for key {key}"
            )
        if name_too_long(value):
            raise ValidationException(
                "ExpressionAttributeNames contains invalid value: "
                f"Attribute name is too large, must be less than 65536 bytes for key {key}"
            )
    return dict(raw)


def _attribute_values(raw: Any) -> dict[str, AttributeValue]:
    values: dict[str, AttributeValue] = {}
    for key, value in raw.items():
        if len(key) > MAX_EXPRESSION_KEY_LENGTH:
            raise ValidationException(
                "ExpressionAttributeValues contains invalid key: "
                "The expression attribute map contains a key that is too long;"
            )
        if not _VALUE_KEY.fullmatch(key):
            raise ValidationException(
                f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
            )
        try:
            values[key] = validate_value(value)
        except ValidationException as error:
            if error.message == NAME_TOO_LONG:
                raise  # the service reports a too long map key in a value as it does in an item
            raise ValidationException(
                f"ExpressionAttributeValues contains invalid value: {error.message} for key {key}"
            ) from None
    return values


def _compile(parameter: str, text: Any, step: Callable[[str], T]) -> T:
    if not isinstance(text, str):
        raise ValidationException(f"Invalid {parameter}: The expression can not be empty;")
    _check_length(parameter, text)
    try:
        return step(text)
    except ExpressionError as error:
        raise error.for_parameter(parameter) from None


def _check_substitution_sizes(names: dict[str, str], values: dict[str, AttributeValue]) -> None:
    """ExpressionAttributeNames, ExpressionAttributeValues and the two together are at most 2 MB, each entry
    counted as its key plus its name or value (as DynamoDB Local measures them), before any parsing."""
    names_size = sum(len(key) + len(name.encode("utf-8", "surrogatepass")) for key, name in names.items())
    if names_size > MAX_SUBSTITUTION_BYTES:
        raise ValidationException("ExpressionAttributeNames exceeds max size")
    values_size = item_size(values)
    if values_size > MAX_SUBSTITUTION_BYTES:
        raise ValidationException("ExpressionAttributeValues exceeds max size")
    if names_size + values_size > MAX_SUBSTITUTION_BYTES:
        raise ValidationException(
            "Combined size of ExpressionAttributeNames and ExpressionAttributeValues exceeds max size"
        )


def _check_length(parameter: str, text: str) -> None:
    """4 KB, counted in UTF-16 code units (a character outside the BMP counts twice), before parsing."""
    if len(text) * 2 <= MAX_EXPRESSION_LENGTH:
        return
    size = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if size > MAX_EXPRESSION_LENGTH:
        detail = "Expression size has exceeded the maximum allowed size;"
        if parameter not in _SIZE_NOT_REPORTED:
            detail += f" expression size: {size}"
        raise ValidationException(f"Invalid {parameter}: {detail}")


_NOTHING = CompiledExpressions()


def compile_request(request: dict[str, Any], *, operation: str) -> CompiledExpressions:
    """Check and compile the expression (or legacy) parameters of one request."""
    if request.keys().isdisjoint(_ALL_PARAMETERS):
        return _NOTHING  # the common plain put/get/delete: nothing to look at
    legacy_used, expressions_used = _check_mixing(request)
    raw_names = request.get("ExpressionAttributeNames")
    raw_values = request.get("ExpressionAttributeValues")
    if raw_names is not None and not expressions_used:
        raise ValidationException("ExpressionAttributeNames can only be specified when using expressions")
    if raw_values is not None and not any(p != "ProjectionExpression" for p in expressions_used):
        need = _VALUES_NEED.get(operation, "ConditionExpression is null")
        raise ValidationException(
            f"ExpressionAttributeValues can only be specified when using expressions: {need}"
        )
    for parameter, raw in (
        ("ExpressionAttributeNames", raw_names),
        ("ExpressionAttributeValues", raw_values),
    ):
        if raw is not None and not isinstance(raw, dict):
            raise ValidationException(f"{parameter} must be a map")
    if raw_names is not None and not raw_names:
        raise ValidationException("ExpressionAttributeNames must not be empty")
    if raw_values is not None and not raw_values:
        raise ValidationException("ExpressionAttributeValues must not be empty")
    if expressions_used:
        names = _attribute_names(raw_names or {})
        values = _attribute_values(raw_values or {})
        _check_substitution_sizes(names, values)
        compiled = _compile_expressions(request, names, values)
        if _present(request, "KeyConditions"):
            key_condition = legacy.key_conditions(request["KeyConditions"])
            return dataclasses.replace(compiled, key_condition=key_condition)
        return compiled
    if legacy_used:
        return _compile_legacy(request, operation)
    return CompiledExpressions()


def _compile_expressions(
    request: dict[str, Any], names: dict[str, str], values: dict[str, AttributeValue]
) -> CompiledExpressions:
    resolver = Resolver(dict(names), values)

    def condition(parameter: str) -> Condition | None:
        if not _present(request, parameter):
            return None

        def step(text: str) -> Condition:
            resolved = resolver.condition(parse_condition(text))
            validate_condition(resolved)
            return resolved

        return _compile(parameter, request[parameter], step)

    update = None
    if _present(request, "UpdateExpression"):

        def update_step(text: str) -> Update:
            resolved = resolver.update(parse_update(text))
            validate_update(resolved)
            return resolved

        update = _compile("UpdateExpression", request["UpdateExpression"], update_step)
    key_condition = None
    key_expression = condition("KeyConditionExpression")
    if key_expression is not None:
        key_condition = key_condition_from(key_expression)
    compiled_condition = condition("ConditionExpression")
    compiled_filter = condition("FilterExpression")
    projection = None
    if _present(request, "ProjectionExpression"):

        def projection_step(text: str) -> Projection:
            resolved = resolver.projection(parse_projection(text))
            validate_projection(resolved)
            return resolved

        projection = _compile("ProjectionExpression", request["ProjectionExpression"], projection_step)
    unused_names = [k for k in names if k not in resolver.used_names]
    if unused_names:
        raise ValidationException(
            "Value provided in ExpressionAttributeNames unused in expressions: "
            f"keys: {{{', '.join(unused_names)}}}"
        )
    unused_values = [k for k in values if k not in resolver.used_values]
    if unused_values:
        raise ValidationException(
            "Value provided in ExpressionAttributeValues unused in expressions: "
            f"keys: {{{', '.join(unused_values)}}}"
        )
    return CompiledExpressions(compiled_condition, update, projection, key_condition, compiled_filter)


def _compile_legacy(request: dict[str, Any], operation: str) -> CompiledExpressions:
    conditional_operator = request.get("ConditionalOperator")
    filters = request.get("Expected") or request.get("QueryFilter") or request.get("ScanFilter")
    if conditional_operator is not None:
        if filters is None:
            raise ValidationException("ConditionalOperator cannot be used without Filter or Expected")
        if len(filters) < 2:
            raise ValidationException(
                "ConditionalOperator can only be used when Filter or Expected has two or more elements"
            )
    condition = None
    if _present(request, "Expected"):
        condition = legacy.expected_condition(request["Expected"], conditional_operator)
    compiled_filter = None
    for parameter in ("QueryFilter", "ScanFilter"):
        if _present(request, parameter):
            compiled_filter = legacy.filter_condition(request[parameter], conditional_operator)
    update = (
        legacy.attribute_updates(request["AttributeUpdates"])
        if _present(request, "AttributeUpdates")
        else None
    )
    projection = None
    if _present(request, "AttributesToGet"):
        batch = operation == "BatchGetItem"
        projection = legacy.attributes_to_get(request["AttributesToGet"], batch=batch)
    key_condition = (
        legacy.key_conditions(request["KeyConditions"]) if _present(request, "KeyConditions") else None
    )
    return CompiledExpressions(condition, update, projection, key_condition, compiled_filter)

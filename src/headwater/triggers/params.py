"""Request checks with Lambda's error types and texts."""

from __future__ import annotations

import re
from typing import Any

from .errors import InvalidParameterValueException, ValidationException
from .filters import MAX_FILTERS, PatternError, parse_patterns

NAME_PATTERN = re.compile(
    r"^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
    r"([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$"
)
NAME_CONSTRAINT = (
    "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-"
    "\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
)
ENV_KEY = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_])+$")
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")


def function_name(value: Any, field: str = "functionName") -> str:
    """A function name, ARN or partial ARN -> the bare name."""
    if not isinstance(value, str) or not NAME_PATTERN.match(value) or len(value) > 170:
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
            + NAME_CONSTRAINT
        )
    name = value.split("function:")[-1] if "function:" in value else value.rsplit(":", 1)[-1]
    name = name.split(":")[0]
    if len(name) > 64:
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
            "Member must have length less than or equal to 64"
        )
    return name


def int_range(value: Any, field: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterValueException(f"{field} must be an integer")
    if value < low:
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
            f"Member must have value greater than or equal to {low}"
        )
    if value > high:
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
            f"Member must have value less than or equal to {high}"
        )
    return value


def runtime(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("python3."):
        raise InvalidParameterValueException(
            f"Runtime {value} is not supported by Headwater: handlers run in Python runtimes only "
            "(python3.x)."
        )
    return value


def environment(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    variables = value.get("Variables", {}) if isinstance(value, dict) else None
    if not isinstance(variables, dict):
        raise InvalidParameterValueException('Environment must be {"Variables": {...}}')
    reserved = sorted(k for k in variables if k in RESERVED_ENV)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables "
            "you have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {','.join(reserved)}"
        )
    for key, val in variables.items():
        if not ENV_KEY.match(str(key)):
            raise ValidationException(
                "1 validation error detected: Value at 'environment.variables' failed to satisfy "
                "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
                "pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
            )
        if not isinstance(val, str):
            raise InvalidParameterValueException(f"Environment variable {key} must be a string")
    return {str(k): str(v) for k, v in variables.items()}


def filters(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.get("Filters", []) if isinstance(value, dict) else None
    if not isinstance(items, list):
        raise InvalidParameterValueException("Invalid filter pattern definition.")
    if len(items) > MAX_FILTERS:
        raise InvalidParameterValueException(
            f"The maximum number of filters ({MAX_FILTERS}) for this event source was exceeded."
        )
    texts: list[str] = []
    for item in items:
        text = item.get("Pattern") if isinstance(item, dict) else None
        if not isinstance(text, str):
            raise InvalidParameterValueException("Invalid filter pattern definition.")
        texts.append(text)
    try:
        parse_patterns(texts)
    except PatternError:
        raise InvalidParameterValueException("Invalid filter pattern definition.") from None
    return tuple(texts)


def response_types(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, list) or any(v != "ReportBatchItemFailures" for v in value):
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at 'functionResponseTypes' failed to satisfy "
            "constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
            "[ReportBatchItemFailures]]"
        )
    return bool(value)


def starting_position(value: Any) -> str:
    if value is None:
        raise InvalidParameterValueException(
            "StartingPosition is required for DynamoDB stream event sources."
        )
    if value not in STARTING_POSITIONS:
        raise InvalidParameterValueException(
            f"Unsupported starting position for DynamoDB stream event sources: {value}"
        )
    return str(value)


def record_age(value: Any) -> int:
    age = int_range(value, "maximumRecordAgeInSeconds", -1, 604800, -1)
    if 0 <= age < 60:
        raise ValidationException(
            f"1 validation error detected: Value '{age}' at 'maximumRecordAgeInSeconds' failed to satisfy "
            "constraint: Member must have value greater than or equal to 60"
        )
    return age


def mapping_settings(request: dict[str, Any]) -> dict[str, Any]:
    """The tunable mapping fields present in `request`, checked, as MappingConfig field values."""
    out: dict[str, Any] = {}
    checks: list[tuple[str, str, Any]] = [
        ("BatchSize", "batch_size", lambda v: int_range(v, "batchSize", 1, 10000, 100)),
        (
            "MaximumBatchingWindowInSeconds",
            "maximum_batching_window",
            lambda v: int_range(v, "maximumBatchingWindowInSeconds", 0, 300, 0),
        ),
        (
            "MaximumRetryAttempts",
            "maximum_retry_attempts",
            lambda v: int_range(v, "maximumRetryAttempts", -1, 10000, -1),
        ),
        ("MaximumRecordAgeInSeconds", "maximum_record_age", record_age),
        (
            "ParallelizationFactor",
            "parallelization_factor",
            lambda v: int_range(v, "parallelizationFactor", 1, 10, 1),
        ),
        (
            "TumblingWindowInSeconds",
            "tumbling_window",
            lambda v: int_range(v, "tumblingWindowInSeconds", 0, 900, 0),
        ),
        ("FunctionResponseTypes", "report_batch_item_failures", response_types),
        ("FilterCriteria", "filters", filters),
    ]
    for wire, name, check in checks:
        if wire in request:
            out[name] = check(request[wire])
    if "BisectBatchOnFunctionError" in request:
        out["bisect_on_error"] = bool(request["BisectBatchOnFunctionError"])
    if "Enabled" in request:
        out["enabled"] = bool(request["Enabled"])
    return out

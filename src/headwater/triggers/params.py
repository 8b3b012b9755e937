"""Request checks with Lambda's error types and texts."""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

import orjson

from .errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    RequestTooLargeException,
    ValidationException,
)
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
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024


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


def invoke_payload(payload: bytes) -> None:
    """An Invoke's payload: at most 6 MB, and JSON unless empty."""
    if len(payload) > MAX_SYNC_PAYLOAD:
        raise RequestTooLargeException(
            f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"
        )
    if payload.strip():
        try:
            orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise InvalidRequestContentException(
                f"Could not parse request body into json: Could not parse payload into json: {exc}"
            ) from None


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


def reserved_concurrency(value: Any) -> int:
    """PutFunctionConcurrency's ReservedConcurrentExecutions: required, an integer, at least 0."""
    if value is None:
        raise ValidationException(
            "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy "
            "constraint: Member must not be null"
        )
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value < 2**31:
        raise InvalidRequestContentException(
            "Could not parse request body into json: Could not parse payload into json: "
            f"ReservedConcurrentExecutions must be an integer, not {json.dumps(value)}"
        )
    return int_range(value, "reservedConcurrentExecutions", 0, 2**31 - 1, 0)


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


def starting_position(value: Any, kinesis: bool = False) -> str:
    kind = "Kinesis" if kinesis else "DynamoDB stream"
    if value is None:
        raise InvalidParameterValueException(f"StartingPosition is required for {kind} event sources.")
    if value not in STARTING_POSITIONS:
        raise InvalidParameterValueException(
            f"Unsupported starting position for {kind} event sources: {value}"
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


# layers -------------------------------------------------------------------------------------------

LAYER_NAME_PATTERN = r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+"
LAYER_VERSION_ARN_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:"
    r"[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"
)
_LAYER_NAME = re.compile(LAYER_NAME_PATTERN)
_LAYER_VERSION_ARN = re.compile(LAYER_VERSION_ARN_PATTERN)
ARCHITECTURES = ("x86_64", "arm64")
# The runtimes a layer may declare, in the order Lambda lists them in its error message.
LAYER_RUNTIMES_TEXT = (
    "nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, "
    "python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, "
    "dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2"
)
LAYER_RUNTIMES = frozenset(LAYER_RUNTIMES_TEXT.split(", "))
# The runtimes ListLayers and ListLayerVersions filter by (deprecated ones included), as Lambda lists them.
FILTER_RUNTIMES_TEXT = (
    "ruby3.5, ruby2.6, dotnetcore1.0, python3.7, nodejs8.10, nasa, ruby2.7, python2.7-greengrass, "
    "dotnetcore2.0, python3.8, java21, dotnet6, dotnetcore2.1, python3.9, java11, nodejs6.10, provided, "
    "dotnetcore3.1, dotnet8, java25, java17, nodejs, nodejs4.3, java8.al2, go1.x, dotnet10, nodejs20.x, "
    "go1.9, byol, nodejs10.x, provided.al2023, nodejs22.x, python3.10, java8, nodejs12.x, python3.11, "
    "nodejs24.x, nodejs8.x, python3.12, nodejs14.x, nodejs8.9, nodejs26.x, python3.13, python3.14, "
    "nodejs16.x, python3.15, provided.al2, nodejs4.3-edge, nodejs18.x, ruby3.2, python3.4, ruby3.3, ruby3.4, "
    "ruby2.5, python3.6, python2.7"
)
FILTER_RUNTIMES = frozenset(FILTER_RUNTIMES_TEXT.split(", "))
MAX_LAYERS_PER_FUNCTION = 5


def _violation(value: str, field: str, constraint: str) -> str:
    return f"Value {value} at '{field}' failed to satisfy constraint: {constraint}"


def _invalid(*violations: str) -> NoReturn:
    count = len(violations)
    raise ValidationException(
        f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(violations)
    )


def _java_list(values: list[Any]) -> str:
    return "'[" + ", ".join(str(v) for v in values) + "]'"


def layer_name(value: str) -> str:
    """A layer's name or unversioned ARN, as given in the path."""
    if len(value) > 140:
        _invalid(_violation(f"'{value}'", "layerName", "Member must have length less than or equal to 140"))
    if not value or not _LAYER_NAME.fullmatch(value):
        _invalid(
            _violation(
                f"'{value}'",
                "layerName",
                "Member must satisfy regular expression pattern: " + LAYER_NAME_PATTERN,
            )
        )
    return value


def layer_version_number(value: str) -> int:
    number = int(value)
    if number < 1:
        raise InvalidParameterValueException("Layer Version Cannot be less than 1")
    return number


def layer_version_arn(value: str | None) -> str:
    """GetLayerVersionByArn's Arn."""
    if value is None:
        _invalid(_violation("null", "arn", "Member must not be null"))
    if not _LAYER_VERSION_ARN.fullmatch(value) or len(value) > 140:
        _invalid(
            _violation(
                f"'{value}'",
                "arn",
                "Member must satisfy regular expression pattern: " + LAYER_VERSION_ARN_PATTERN,
            )
        )
    return value


def function_layers(value: Any) -> list[str]:
    """CreateFunction's and UpdateFunctionConfiguration's Layers: a list of layer version ARNs."""
    items = value if isinstance(value, list) else [value]
    if not isinstance(value, list) or any(
        not isinstance(arn, str) or not 1 <= len(arn) <= 2048 or not _LAYER_VERSION_ARN.fullmatch(arn)
        for arn in items
    ):
        _invalid(
            _violation(
                _java_list(items),
                "layers",
                "Member must satisfy constraint: [Member must have length less than or equal to 2048, "
                "Member must have length greater than or equal to 1, Member must satisfy regular "
                f"expression pattern: {LAYER_VERSION_ARN_PATTERN}, Member must not be null]",
            )
        )
    if len(items) > MAX_LAYERS_PER_FUNCTION:
        raise InvalidParameterValueException(f"Cannot reference more than {MAX_LAYERS_PER_FUNCTION} layers.")
    return [str(arn) for arn in items]


def layer_publication(request: dict[str, Any]) -> dict[str, Any]:
    """PublishLayerVersion's body, checked: description, license, compatible runtimes and architectures."""
    violations: list[str] = []
    content = request.get("Content")
    if content is None:
        violations.append(_violation("null", "content", "Member must not be null"))
    description = request.get("Description")
    if description is not None and len(str(description)) > 256:
        violations.append(
            _violation(f"'{description}'", "description", "Member must have length less than or equal to 256")
        )
    license_info = request.get("LicenseInfo")
    if license_info is not None and len(str(license_info)) > 512:
        violations.append(
            _violation(
                f"'{license_info}'", "licenseInfo", "Member must have length less than or equal to 512"
            )
        )
    runtimes = _string_list(request.get("CompatibleRuntimes"))
    if len(runtimes) > 15:
        violations.append(
            _violation(
                _java_list(runtimes), "compatibleRuntimes", "Member must have length less than or equal to 15"
            )
        )
    elif any(r not in LAYER_RUNTIMES for r in runtimes):
        violations.append(
            _violation(
                _java_list(runtimes),
                "compatibleRuntimes",
                "Member must satisfy enum value set: [" + LAYER_RUNTIMES_TEXT + "]",
            )
        )
    architectures = _string_list(request.get("CompatibleArchitectures"))
    if len(architectures) > 2:
        violations.append(
            _violation(
                _java_list(architectures),
                "compatibleArchitectures",
                "Member must have length less than or equal to 2",
            )
        )
    elif any(a not in ARCHITECTURES for a in architectures):
        violations.append(
            _violation(
                _java_list(architectures),
                "compatibleArchitectures",
                "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], "
                "Member must not be null]",
            )
        )
    if violations:
        _invalid(*violations)
    if not isinstance(content, dict):
        raise InvalidParameterValueException("Content must be an object")
    return {
        "content": content,
        "description": "" if description is None else str(description),
        "license_info": None if license_info is None else str(license_info),
        "compatible_runtimes": tuple(runtimes),
        "compatible_architectures": tuple(architectures),
    }


def _string_list(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        return [str(value)]
    return [str(v) for v in value]


def layer_filters(query: dict[str, str]) -> tuple[str | None, str | None]:
    """ListLayers' and ListLayerVersions' CompatibleRuntime and CompatibleArchitecture."""
    runtime = query.get("CompatibleRuntime")
    architecture = query.get("CompatibleArchitecture")
    violations: list[str] = []
    if runtime is not None and runtime not in FILTER_RUNTIMES:
        violations.append(
            _violation(
                f"'{runtime}'",
                "compatibleRuntime",
                "Member must satisfy enum value set: [" + FILTER_RUNTIMES_TEXT + "]",
            )
        )
    if architecture is not None and architecture not in ARCHITECTURES:
        violations.append(
            _violation(
                f"'{architecture}'",
                "compatibleArchitecture",
                "Member must satisfy enum value set: [x86_64, arm64]",
            )
        )
    if violations:
        _invalid(*violations)
    return runtime, architecture


def max_items(query: dict[str, str], default: int, high: int) -> int:
    raw = query.get("MaxItems")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameterValueException(f"Invalid MaxItems: {raw}") from None
    if value < 1:
        _invalid(_violation(f"'{value}'", "maxItems", "Member must have value greater than or equal to 1"))
    if value > high:
        _invalid(_violation(f"'{value}'", "maxItems", f"Member must have value less than or equal to {high}"))
    return value

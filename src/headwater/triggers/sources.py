"""What an event source mapping may read from and send its failures to, checked at creation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..consumer import CallTransport, StreamsError
from .errors import InvalidParameterValueException
from .state import Tables


class RoleAccess(Protocol):
    """A mapping reads its source as its function's role (`--auth sigv4`; the composition root's)."""

    def refusal(self, role: str, function: str, source_arn: str) -> str | None:
        """Why `role` may not read `source_arn` (AWS's InvalidParameterValueException text), or None."""
        ...

    def reader(
        self, transport: CallTransport, acting_as: Callable[[], tuple[str, str]], source_arn: str
    ) -> CallTransport:
        """`transport` whose calls are authorized as the role and function `acting_as()` names now."""
        ...

    def environment(self, role: str) -> dict[str, str]:
        """The role's credentials for a handler's environment (AWS_ACCESS_KEY_ID...), as Lambda gives a
        function its role's; empty for a role that is not configured."""
        ...


def is_kinesis(arn: str) -> bool:
    return arn.startswith("arn:aws:kinesis:") and ":stream/" in arn


async def check_source(
    streams: CallTransport, kinesis: CallTransport | None, arn: Any, *, region: str, account: str
) -> str:
    """The mapping's EventSourceArn: a DynamoDB stream or a Kinesis stream that exists, in the function's
    own region and account (Lambda's texts)."""
    if not isinstance(arn, str) or not arn:
        raise InvalidParameterValueException("EventSourceArn is required.")
    parts = arn.split(":")
    if len(parts) >= 5 and parts[0] == "arn" and parts[3] != region:
        raise InvalidParameterValueException(f"Event source region must match Lambda region {region}.")
    if len(parts) >= 5 and parts[0] == "arn" and parts[4] != account:
        raise InvalidParameterValueException(
            "Role and event source must be in the same account as the cloud function."
        )
    try:
        if is_kinesis(arn) and kinesis is not None:
            await kinesis.call("DescribeStreamSummary", {"StreamARN": arn})
        elif ":dynamodb:" in arn and "/stream/" in arn:
            await streams.call("DescribeStream", {"StreamArn": arn, "Limit": 1})
        else:
            raise InvalidParameterValueException(
                "Headwater supports DynamoDB stream and Kinesis stream event sources only; unsupported "
                f"event source: {arn}"
            )
    except StreamsError:
        raise InvalidParameterValueException(f"Stream not found: {arn}") from None
    return arn


async def check_destination(tables: Tables, config: Any) -> str | None:
    """DestinationConfig.OnFailure: the ARN of a Headwater table with a single String hash key, or None."""
    if not config:
        return None
    on_failure = config.get("OnFailure") if isinstance(config, dict) else None
    if not on_failure:
        return None
    arn = on_failure.get("Destination") if isinstance(on_failure, dict) else None
    if not arn:
        return None
    arn = str(arn)
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    if service in ("sqs", "sns", "s3", "kafka"):
        raise InvalidParameterValueException(
            f"Headwater does not support {service} destinations yet; use the ARN of a Headwater table "
            f"with a single String hash key as the OnFailure destination: {arn}"
        )
    if service != "dynamodb" or ":table/" not in arn or "/stream/" in arn:
        raise InvalidParameterValueException(
            f"The OnFailure destination must be the ARN of a Headwater table: {arn}"
        )
    description = await tables.describe_table(arn)  # the table the ARN names, in its namespace
    if description is None:
        raise InvalidParameterValueException(f"The OnFailure destination table does not exist: {arn}")
    keys = description.get("KeySchema", [])
    types = {d["AttributeName"]: d["AttributeType"] for d in description.get("AttributeDefinitions", [])}
    if len(keys) != 1 or types.get(keys[0]["AttributeName"]) != "S":
        raise InvalidParameterValueException(
            f"The OnFailure destination table must have a single String hash key: {arn}"
        )
    return arn

"""What Lambda sends and records: stream records in Lambda's event form, on-failure records, and the
JSON -> DynamoDB attribute value conversion used to store failure records in a table."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import orjson

from .model import iso_millis

Wire = dict[str, Any]


def lambda_record(record: Wire, stream_arn: str) -> Wire:
    """A GetRecords record as Lambda delivers it: `eventSourceARN` added, userIdentity in lowercase."""
    out = dict(record)
    identity = out.get("userIdentity")
    if isinstance(identity, dict):
        out["userIdentity"] = {
            "type": identity.get("Type", identity.get("type")),
            "principalId": identity.get("PrincipalId", identity.get("principalId")),
        }
    out["eventSourceARN"] = stream_arn
    return out


def kinesis_lambda_record(record: Wire, stream_arn: str, shard_id: str) -> Wire:
    """A Kinesis GetRecords record as Lambda delivers it (`data` stays base64)."""
    parts = stream_arn.split(":")
    region, account = (parts[3], parts[4]) if len(parts) > 4 else ("us-east-1", "000000000000")
    seq = str(record["SequenceNumber"])
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": seq,
            "data": record["Data"],
            "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"],
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{account}:role/headwater",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def kinesis_filter_view(record: Wire) -> Wire:
    """What a Kinesis filter pattern is matched against: the `kinesis` member, with `data` decoded when it
    is JSON (a pattern on `data` then matches its fields; otherwise only the metadata can match)."""
    view = dict(record["kinesis"])
    try:
        view["data"] = orjson.loads(base64.b64decode(view["data"]))
    except (ValueError, orjson.JSONDecodeError):
        view.pop("data")
    return view


def sequence(record: Wire) -> str:
    if "kinesis" in record:
        return str(record["kinesis"]["sequenceNumber"])
    return str(record["dynamodb"]["SequenceNumber"])


def created_at(record: Wire) -> float:
    if "kinesis" in record:
        return float(record["kinesis"]["approximateArrivalTimestamp"])
    value = record.get("dynamodb", {}).get("ApproximateCreationDateTime", 0)
    return float(value) if isinstance(value, int | float | str) else 0.0


def partition_key(record: Wire) -> bytes:
    if "kinesis" in record:
        return str(record["kinesis"]["partitionKey"]).encode()
    return orjson.dumps(record.get("dynamodb", {}).get("Keys", {}), option=orjson.OPT_SORT_KEYS)


def failure_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    function_error: str | None,
    shard_id: str,
    stream_arn: str,
    records: list[Wire],
    now: float,
) -> Wire:
    """AWS's on-failure record for a stream batch."""
    doc: Wire = {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "version": "1.0",
        "timestamp": iso_millis(now),
        ("KinesisBatchInfo" if "kinesis" in records[0] else "DDBStreamBatchInfo"): {
            "shardId": shard_id,
            "startSequenceNumber": sequence(records[0]),
            "endSequenceNumber": sequence(records[-1]),
            "approximateArrivalOfFirstRecord": iso_millis(created_at(records[0])),
            "approximateArrivalOfLastRecord": iso_millis(created_at(records[-1])),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }
    if function_error:
        doc["responseContext"]["functionError"] = function_error
    if invoke_count == 0:
        del doc["responseContext"]
    return doc


def to_attribute_value(value: Any) -> Wire:
    """Plain JSON -> DynamoDB JSON (strings S, numbers N, booleans BOOL, null NULL, objects M, lists L)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value} if value else {"NULL": True}
    if isinstance(value, dict):
        return {"M": {str(k): to_attribute_value(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute_value(v) for v in value]}
    return {"S": str(value)}

from __future__ import annotations

from headwater.triggers.events import failure_record, lambda_record, to_attribute_value

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"


def record(seq: str, created: int = 1_700_000_000, **extra: object) -> dict[str, object]:
    return {
        "eventID": "e" * 32,
        "eventName": "REMOVE",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": created,
            "Keys": {"pk": {"S": "a"}},
            "SequenceNumber": seq,
        },
        **extra,
    }


def test_lambda_record_adds_source_arn_and_lowercases_user_identity() -> None:
    raw = record("1", userIdentity={"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"})
    out = lambda_record(raw, ARN)
    assert out["eventSourceARN"] == ARN
    assert out["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert raw["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert "userIdentity" not in lambda_record(record("2"), ARN)


def test_failure_record_shape() -> None:
    doc = failure_record(
        request_id="r-1",
        function_arn="arn:aws:lambda:us-east-1:000000000000:function:f",
        condition="RetryAttemptsExhausted",
        invoke_count=3,
        function_error="Unhandled",
        shard_id="shardId-1",
        stream_arn=ARN,
        records=[record("10", 1_700_000_000), record("12", 1_700_000_005)],
        now=1_700_000_010.5,
    )
    assert doc == {
        "requestContext": {
            "requestId": "r-1",
            "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 3,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2023-11-14T22:13:30.500Z",
        "DDBStreamBatchInfo": {
            "shardId": "shardId-1",
            "startSequenceNumber": "10",
            "endSequenceNumber": "12",
            "approximateArrivalOfFirstRecord": "2023-11-14T22:13:20.000Z",
            "approximateArrivalOfLastRecord": "2023-11-14T22:13:25.000Z",
            "batchSize": 2,
            "streamArn": ARN,
        },
    }


def test_to_attribute_value() -> None:
    assert to_attribute_value({"a": [1, "x", None, True, {"b": 2.5}]}) == {
        "M": {
            "a": {"L": [{"N": "1"}, {"S": "x"}, {"NULL": True}, {"BOOL": True}, {"M": {"b": {"N": "2.5"}}}]}
        }
    }

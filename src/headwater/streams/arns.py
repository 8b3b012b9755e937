"""Stream ARNs: `arn:aws:dynamodb:<region>:<account>:table/<TableName>/stream/<label>`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ValidationException

_ARN = re.compile(
    r"arn:aws:dynamodb:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):table/(?P<table>[A-Za-z0-9_.-]{3,255})"
    r"/stream/(?P<label>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})"
)


@dataclass(frozen=True, slots=True)
class StreamArn:
    region: str
    account: str
    table: str
    label: str


def parse_stream_arn(text: str) -> StreamArn:
    """A malformed ARN is a ValidationException (the real service; DynamoDB Local answers
    ResourceNotFoundException); a well-formed one naming no stream is the caller's ResourceNotFound."""
    match = _ARN.fullmatch(text)
    if match is None:
        raise ValidationException("Invalid StreamArn")
    return StreamArn(match["region"], match["account"], match["table"], match["label"])

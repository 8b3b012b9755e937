"""What a `TableName` names: a plain name is a table of the caller's namespace; a table ARN (the API takes
one wherever it takes a table name) names a table of the ARN's account, which must be in the caller's
region. Another account is resolved here, not refused: whether the caller may reach it is for the
authorization layer (a resource policy may allow it)."""

from __future__ import annotations

from ..errors import ValidationException
from ..model.namespace import Namespace
from ..protocol.extra_rules import NAME_MAX, NAME_MIN, NAME_RE

# DynamoDB Local's texts: a malformed ARN, and an ARN whose table part is no table name (an index ARN,
# `table/T/index/I`, is one: only tables are named this way)
ARN_FORMAT = (
    "Valid ARN format is 'arn:<awsPartition>:<vendor>:<region>:<subscriber>:resourceType/resourceName', "
    "where Resource name must have length less than or equal to 255, Resource name must have length "
    "greater than or equal to 3, Resource name must satisfyregular expression pattern: [a-zA-Z0-9_.-]+"
)
INVALID_NAME = (
    "Invalid table/index name.  Table/index names must be between 3 and 255 characters long, and may "
    "contain only the characters a-z, A-Z, 0-9, '_', '-', and '.'"
)


def table_named(text: str, caller: Namespace) -> tuple[Namespace, str]:
    """The namespace and plain name of the table `text` names."""
    if not text.startswith("arn:"):
        return caller, text
    parts = text.split(":")
    if (
        len(parts) != 6
        or parts[1] != "aws"
        or parts[2] != "dynamodb"
        or not parts[3]
        or not parts[4]
        or not parts[5].startswith("table/")
    ):
        raise ValidationException(ARN_FORMAT)
    name = parts[5][len("table/") :]
    if not NAME_MIN <= len(name) <= NAME_MAX or NAME_RE.fullmatch(name) is None:
        raise ValidationException(INVALID_NAME)
    if parts[3] != caller.region:
        # AWS's text for a table ARN of another region (DynamoDB Local ignores the ARN's region)
        raise ValidationException(f"1 validation error detected: Invalid AWS region in '{text}'")
    if parts[4] == caller.account:
        return caller, name
    return Namespace(parts[4], parts[3]), name

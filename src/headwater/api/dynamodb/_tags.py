"""What the tagging operations share: finding a table by its ARN, and the tagging restrictions."""

from __future__ import annotations

import unicodedata
from typing import Any

from ...core.database import Database
from ...errors import AccessDeniedException, ResourceNotFoundException, ValidationException
from ...model.schema import TableSpec

INVALID = "One or more parameter values were invalid: "
MAX_TAGS = 50
# The Developer Guide's tagging restrictions: letters, white space and numbers, plus these.
SPECIAL_CHARACTERS = frozenset("+-=._:/")
RESERVED_PREFIX = "aws:"


def table_for_arn(db: Database, arn: str) -> TableSpec:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
        raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    # another account's table is refused before the region is looked at (so nothing is said about it);
    # one of another region is not a table of this (regional) endpoint
    if parts[4] != db.account_id:
        raise AccessDeniedException(
            f"User: arn:aws:iam::{db.account_id}:root is not authorized to access resource {arn}"
        )
    if parts[3] != db.region:
        raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    name, _, rest = parts[5][len("table/") :].partition("/")
    if rest and not rest.startswith("stream/"):
        # An index (or backup, export...) has an ARN of its own, but only tables and streams carry tags.
        raise ValidationException(
            INVALID + "Invalid resource arn provided, only table or stream is accepted. "
            f"Provided resource arn: {arn}"
        )
    table = db.catalog.get(name) if not rest else None
    if table is None:
        raise ResourceNotFoundException(f"Requested resource not found: ResourcArn: {arn} not found")
    return table


def check_tags(tags: list[dict[str, Any]]) -> None:
    """The documented restrictions on the tags of one request (lengths are checked by the model)."""
    if not tags:
        raise ValidationException(
            "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    for tag in tags:
        key, value = tag["Key"], tag["Value"]
        if key[: len(RESERVED_PREFIX)].lower() == RESERVED_PREFIX:
            raise ValidationException(INVALID + f"Tag keys starting with aws: are reserved for AWS: {key}")
        if not _allowed(key):
            raise ValidationException(INVALID + f"Invalid characters in tag key: {key}")
        if not _allowed(value):
            raise ValidationException(INVALID + f"Invalid characters in tag value: {value}")


def _allowed(text: str) -> bool:
    return all(ch in SPECIAL_CHARACTERS or unicodedata.category(ch)[0] in "LNZ" for ch in text)

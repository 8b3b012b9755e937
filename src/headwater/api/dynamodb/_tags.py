"""Finding a table by its ARN for the tagging operations."""

from __future__ import annotations

from ...core.database import Database
from ...errors import AccessDeniedException, ResourceNotFoundException, ValidationException
from ...model.schema import TableSpec


def table_for_arn(db: Database, arn: str) -> TableSpec:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
        raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    if parts[3] != db.region or parts[4] != db.account_id:
        raise AccessDeniedException(
            f"User: arn:aws:iam::{db.account_id}:root is not authorized to access resource {arn}"
        )
    name = parts[5][len("table/") :]
    table = db.catalog.get(name) if "/" not in name else None
    if table is None:
        raise ResourceNotFoundException(f"Requested resource not found: ResourcArn: {arn} not found")
    return table

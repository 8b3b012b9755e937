"""DeleteTable: answers DELETING; the table's stream stays readable (DISABLED) for 24 hours."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...core.tables import delete_table
from ...errors import ResourceInUseException, ValidationException
from ._describe import table_description

# What DynamoDB describes of a table it is deleting: the API reference's example answers TableName,
# TableStatus, ProvisionedThroughput, TableSizeBytes and ItemCount; the service adds the table's identity
# and billing. No key schema, indexes or stream (DynamoDB Local answers the full, ACTIVE description).
DELETING_DESCRIPTION = (
    "TableName",
    "TableStatus",
    "ProvisionedThroughput",
    "TableSizeBytes",
    "ItemCount",
    "TableArn",
    "TableId",
    "BillingModeSummary",
    "DeletionProtectionEnabled",
)


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.catalog.lock:
        table = db.catalog.require_table(request["TableName"])
        if table.deletion_protection:
            raise ValidationException(
                "Resource cannot be deleted as it is currently protected against deletion. "
                "Disable deletion protection first."
            )
        if table.status in ("CREATING", "UPDATING", "DELETING"):
            raise ResourceInUseException(
                "Attempt to change a resource which is still in use: "
                f"Table is being {_verb(table.status)}: {table.name}"
            )
        description = table_description(db, table)
        deleted = await delete_table(db, table)
    description["TableStatus"] = deleted.status
    return {"TableDescription": {k: description[k] for k in DELETING_DESCRIPTION if k in description}}


def _verb(status: str) -> str:
    return {"CREATING": "created", "UPDATING": "updated", "DELETING": "deleted"}[status]

"""DeleteTable: answers DELETING; the table's stream stays readable (DISABLED) for 24 hours."""

from __future__ import annotations

import contextlib
from typing import Any

from ...core.database import Database
from ...core.replicas import group, without_replica
from ...core.tables import delete_table
from ...errors import ResourceInUseException, ResourceNotFoundException, ValidationException
from ...model.schema import TableSpec
from ...replication.peers import Peers
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
        for peer in group(db, table):  # a replica deleted in its own region leaves the global table
            mine = table.replica(peer.namespace.region)
            if mine is not None and mine.status == "DELETING":  # asked to go before: it goes now
                await delete_table(db.scoped(peer.namespace), peer.evolve(replicas=()))
            else:
                await db.scoped(peer.namespace).catalog.save(without_replica(peer, table.namespace.region))
        deleted = await delete_table(db, table.evolve(replicas=()))
    if table.replicas:  # the other servers' replicas, after the answer (one of them may be asking)
        db.later(0, lambda: _leave(db, table))
    description["TableStatus"] = deleted.status
    return {"TableDescription": {k: description[k] for k in DELETING_DESCRIPTION if k in description}}


async def _leave(db: Database, table: TableSpec) -> None:
    remote = Peers(db.settings)
    try:
        for replica in table.replicas:  # one on another server that was asked to go: it goes now
            if replica.status == "DELETING" and remote.is_remote(replica.region):
                with contextlib.suppress(ResourceNotFoundException):
                    await remote.call(replica.region, "DeleteTable", {"TableName": table.name})
        await remote.tell(table, {"Remove": table.namespace.region})
    finally:
        await remote.close()


def _verb(status: str) -> str:
    return {"CREATING": "created", "UPDATING": "updated", "DELETING": "deleted"}[status]

"""DeleteResourcePolicy: idempotent. It answers the removed policy's RevisionId; once removed, the
RevisionId of the deletion itself; a resource that never had a policy answers nothing."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._resource_policy import check_changeable, check_expected, next_revision, target


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.catalog.lock:
        found = target(db, request["ResourceArn"])
        check_changeable(found.table)
        check_expected(found, request.get("ExpectedRevisionId"))
        current = found.policy()
        if current is None:
            entry = found.entry()
            return {"RevisionId": entry["RevisionId"]} if entry is not None else {}
        await db.catalog.save(found.with_entry({"RevisionId": next_revision(db, found)}))
    return {"RevisionId": current["RevisionId"]}

"""PutResourcePolicy: attach a resource-based policy to a table or a stream. An equivalent document (the
same canonical form) keeps its RevisionId; a different one gets the change's time as its new one."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._policy_document import checked_policy
from ._resource_policy import check_changeable, check_expected, next_revision, stored_entry, target


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.catalog.lock:
        found = target(db, request["ResourceArn"])
        policy = checked_policy(request["Policy"], stream=found.stream is not None)
        check_changeable(found.table)
        check_expected(found, request.get("ExpectedRevisionId"))
        current = found.policy()
        if current is not None and current["Policy"] == policy:
            return {"RevisionId": current["RevisionId"]}
        revision = next_revision(db, found)
        await db.catalog.save(found.with_entry(stored_entry(policy, revision)))
    return {"RevisionId": revision}

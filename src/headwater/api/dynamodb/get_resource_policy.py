"""GetResourcePolicy: the policy of a table or stream, in DynamoDB's canonical form, and its RevisionId."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import PolicyNotFoundException
from ._resource_policy import NOT_FOUND, target


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    arn = request["ResourceArn"]
    current = target(db, arn).policy()
    if current is None:
        raise PolicyNotFoundException(NOT_FOUND + arn)
    return {"Policy": current["Policy"], "RevisionId": current["RevisionId"]}

"""Exports and imports as the API describes them: one metadata document per job (its kind, keyed by its
ARN), holding its namespace and its description (ExportDescription, ImportTableDescription)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from ..errors import DynamoDBError
from ..model.namespace import Namespace
from ..storage.base import MetaWrite
from .catalog import MetaOp
from .database import Database

EXPORT_KIND = "export"
IMPORT_KIND = "import"
TOKEN_SECONDS = 8 * 3600  # how long a ClientToken makes a request idempotent (after its job ended)


def get(db: Database, kind: str, arn: str) -> dict[str, Any] | None:
    """The description of the namespace's job `arn` names, if any."""
    found = db.storage.meta_get(kind, arn)
    if found is None:
        return None
    doc: dict[str, Any] = orjson.loads(found)
    return doc["description"] if Namespace(*doc["namespace"]) == db.namespace else None


def every(db: Database, kind: str, arn_field: str) -> list[dict[str, Any]]:
    """The namespace's jobs' descriptions, oldest first."""
    found = []
    for _, value in db.storage.meta_list(kind):
        doc = orjson.loads(value)
        if Namespace(*doc["namespace"]) == db.namespace:
            found.append(doc["description"])
    return sorted(found, key=lambda d: (d["StartTime"], d[arn_field]))


async def save(db: Database, kind: str, arn: str, description: dict[str, Any], request: str = "") -> None:
    """Store a job's description, with the fingerprint of the request that started it (idempotency)."""
    doc = {
        "namespace": [db.namespace.account, db.namespace.region],
        "description": description,
        "request": request,
    }
    await db.storage.write(MetaOp((MetaWrite(kind, arn, orjson.dumps(doc)),)))


def fingerprint(request: dict[str, Any]) -> str:
    """What a request asks for, its ClientToken aside."""
    asked = {k: v for k, v in request.items() if k != "ClientToken"}
    return hashlib.sha256(orjson.dumps(asked, option=orjson.OPT_SORT_KEYS)).hexdigest()


def repeated(
    db: Database, kind: str, request: dict[str, Any], conflict: type[DynamoDBError]
) -> dict[str, Any] | None:
    """The description of the job an earlier request with this request's ClientToken started, when it
    asked for the same (a retry); None when there is none. `conflict` (AWS's ...ConflictException) when
    the token was used for something else."""
    token = request.get("ClientToken")
    if token is None:
        return None
    earlier = by_token(db, kind, token, db.clock.now())
    if earlier is None:
        return None
    description, asked = earlier
    if asked != fingerprint(request):
        arn = description.get("ExportArn") or description.get("ImportArn")
        what = "export" if "ExportArn" in description else "import"
        raise conflict(f"ClientToken {token} was used by another {what} request: {arn}")
    return description


def by_token(db: Database, kind: str, token: str, now: float) -> tuple[dict[str, Any], str] | None:
    """The namespace's job started with `token` whose token is still valid (it has not ended, or ended
    less than 8 hours ago): its description and its request's fingerprint."""
    for _, value in db.storage.meta_list(kind):
        doc = orjson.loads(value)
        description = doc["description"]
        if description.get("ClientToken") != token or Namespace(*doc["namespace"]) != db.namespace:
            continue
        ended = description.get("EndTime")
        if ended is None or ended + TOKEN_SECONDS > now:
            return description, str(doc.get("request", ""))
    return None


async def fail_unfinished(db: Database) -> None:
    """At start: exports and imports the last stop cut short are FAILED (their work died with it)."""
    for kind, arn_field in ((EXPORT_KIND, "ExportArn"), (IMPORT_KIND, "ImportArn")):
        for _, value in db.storage.meta_list(kind):
            doc = orjson.loads(value)
            description = doc["description"]
            if description.get(arn_field.replace("Arn", "Status")) == "IN_PROGRESS":
                failed = dict(description, EndTime=db.clock.now(), FailureCode="ServerStopped")
                failed[arn_field.replace("Arn", "Status")] = "FAILED"
                failed["FailureMessage"] = "the server stopped before it was done"
                await db.storage.write(
                    MetaOp(
                        (
                            MetaWrite(
                                kind, description[arn_field], orjson.dumps(dict(doc, description=failed))
                            ),
                        )
                    )
                )


def page_token(arn: str) -> str:
    """A list's NextToken: the page's last ARN, hex-encoded in blocks of 16 digits (ListImports'
    token pattern is `([0-9a-f]{16})+`; NUL bytes pad it, and no ARN holds one)."""
    raw = arn.encode()
    return (raw + b"\0" * (-len(raw) % 8)).hex()


def token_arn(token: str) -> str | None:
    """The ARN a NextToken stands for, or None if it is not one of ours."""
    try:
        return bytes.fromhex(token).rstrip(b"\0").decode()
    except (ValueError, UnicodeDecodeError):
        return None


def running(db: Database, kind: str, status_field: str) -> int:
    """How many jobs of `kind` are IN_PROGRESS on this server (every namespace: they share its threads)."""
    return sum(
        orjson.loads(value)["description"].get(status_field) == "IN_PROGRESS"
        for _, value in db.storage.meta_list(kind)
    )

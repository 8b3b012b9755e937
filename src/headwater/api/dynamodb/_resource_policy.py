"""What the resource-policy operations share: the resource an ARN names (a table, or one of its streams),
its policy (kept with the table: core/resource_policies.py), revision ids and DynamoDB's texts."""

from __future__ import annotations

from dataclasses import dataclass

from ...core import resource_policies
from ...core.database import Database
from ...errors import (
    PolicyNotFoundException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from ...model.schema import TableSpec
from ._policy_document import INVALID

NOT_FOUND = "Resource-based policy not found for the provided ResourceArn: "
OWNER_ONLY = "This action is only supported by accounts that match the resource owner\u2019s account."
NO_POLICY = "NO_POLICY"  # ExpectedRevisionId: attach only if the resource has no policy yet

Entry = resource_policies.Entry


@dataclass(frozen=True, slots=True)
class Target:
    """The resource an ARN names: a table, or (with `stream`) one of its streams by label."""

    arn: str
    table: TableSpec
    stream: str | None = None

    def entry(self) -> Entry | None:
        return resource_policies.entry(self.table, self.stream)

    def policy(self) -> Entry | None:
        return resource_policies.policy(self.table, self.stream)

    def with_entry(self, entry: Entry) -> TableSpec:
        return resource_policies.with_entry(self.table, self.stream, entry)


def target(db: Database, arn: str) -> Target:
    """The table or stream `arn` names in this namespace, or DynamoDB's error for the ARN."""
    if not arn.startswith("arn:"):
        raise ValidationException(INVALID + f"ARNs must start with 'arn:': {arn}")
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[1] != "aws" or parts[2] != "dynamodb" or parts[3] != db.region:
        raise ValidationException(INVALID + f"Invalid resource Arn: {arn}")
    if parts[4] != db.account_id:
        # the service's text, typographic apostrophe included
        raise ValidationException(OWNER_ONLY)
    resource = parts[5]
    if not resource.startswith("table/"):
        raise ValidationException(INVALID + f"Provided Arn is not a DynamoDB resource arn: {arn}")
    name, _, rest = resource[len("table/") :].partition("/")
    kind, _, label = rest.partition("/")
    if rest and (kind == "index"):
        raise ValidationException(
            INVALID
            + f"Invalid resource arn provided, only table or stream is accepted. Provided resource arn: {arn}"
        )
    if rest and (kind != "stream" or not label or "/" in label):
        raise ValidationException(INVALID + f"Provided Arn is not a DynamoDB resource arn: {arn}")
    table = db.catalog.get(name)
    if table is None or table.status == "CREATING":
        raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
    if label and not any(d.table_id == table.table_id and d.label == label for d in db.streams.docs()):
        raise ResourceNotFoundException(
            f"Requested resource not found: Stream: {label} not found for Table: {name}"
        )
    return Target(arn, table, label or None)


def check_changeable(table: TableSpec) -> None:
    if table.status == "DELETING":
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table is being deleted: {table.name}"
        )


def check_expected(target: Target, expected: str | None) -> None:
    """ExpectedRevisionId: the revision the caller last saw (NO_POLICY: none), with DynamoDB's texts."""
    if expected is None:
        return
    current = target.policy()
    name = target.table.name
    if expected == NO_POLICY:
        if current is not None:
            raise PolicyNotFoundException(
                NOT_FOUND + f"Requested policy update expecting none to be present for table {name}, "
                f"but a policy exists with revision id {current['RevisionId']}."
            )
        return
    if current is None:
        raise PolicyNotFoundException(
            NOT_FOUND + f"Requested update for policy with revision id {expected}, "
            f"but table {name} has no associated policy."
        )
    if current["RevisionId"] != expected:
        raise PolicyNotFoundException(
            NOT_FOUND + f"Requested update for policy with revision id {expected}, "
            f"but the policy associated to target table {name} has revision id {current['RevisionId']}."
        )


def next_revision(db: Database, target: Target) -> str:
    """The epoch milliseconds of the change, later than any revision the resource had."""
    now = int(db.clock.now() * 1000)
    entry = target.entry()
    previous = int(entry["RevisionId"]) if entry is not None and entry["RevisionId"].isdigit() else 0
    return str(max(now, previous + 1))


def stored_entry(policy: str, revision: str) -> Entry:
    return {"Policy": policy, "RevisionId": revision}

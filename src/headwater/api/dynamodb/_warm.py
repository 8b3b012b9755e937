"""WarmThroughput in CreateTable and UpdateTable (the table's and each GSI's), checked as DynamoDB checks it,
and described as DescribeTable answers it.

DynamoDB Local ignores WarmThroughput and AWS documents no texts, so they are AWS's answers as public
probes of the service recorded them (2026-10): values below the on-demand
initial throughput (or a provisioned table's capacity) are refused at creation, a lower value than the
current one at UpdateTable ("decreasing WarmThroughput is not supported"), and a table's WarmThroughput
must be the only change of its UpdateTable request.
"""

from __future__ import annotations

from typing import Any

from ...core import warm
from ...core.database import Database
from ...core.throughput import TABLE_QUOTA_UNITS
from ...errors import LimitExceededException, ValidationException
from ...model.schema import IndexSpec, TableSpec
from ._table_spec import INVALID

INITIAL_PAGE = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html"
    "#on-demand-capacity-mode-initial"
)
MEMBERS = (("ReadUnitsPerSecond", "ReadCapacityUnits"), ("WriteUnitsPerSecond", "WriteCapacityUnits"))


def _label(index: str | None) -> str:
    return "table" if index is None else f"index {index}"


def requested(value: dict[str, Any] | None) -> tuple[int | None, int | None]:
    value = value or {}
    return value.get("ReadUnitsPerSecond"), value.get("WriteUnitsPerSecond")


def check_initial(
    value: dict[str, Any] | None, billing_mode: str, capacity: tuple[int, int], index: str | None
) -> tuple[int, int] | None:
    """A new table's (or GSI's) WarmThroughput: at least the on-demand initial values, or the provisioned
    capacity. None when not asked for (an empty structure is accepted and means nothing)."""
    wanted = requested(value)
    if wanted == (None, None):
        return None
    floor = warm.ON_DEMAND_INITIAL if billing_mode == "PAY_PER_REQUEST" else capacity
    for (member, capacity_member), units, least in zip(MEMBERS, wanted, floor, strict=True):
        if units is None or units >= least:
            continue
        if billing_mode == "PAY_PER_REQUEST":
            raise ValidationException(
                INVALID + f"Requested {member} for WarmThroughput for {_label(index)} is lower than "
                f"initial throughput for OnDemand. See: {INITIAL_PAGE}"
            )
        raise ValidationException(
            INVALID + f"Requested {member} for WarmThroughput for {_label(index)} is lower than "
            f"{capacity_member} of ProvisionedThroughput"
        )
    return wanted[0] or floor[0], wanted[1] or floor[1]


def check_quota(request: dict[str, Any], table: TableSpec, index: IndexSpec | None) -> None:
    """An UpdateTable's WarmThroughput and OnDemandThroughput (of the table or a GSI) within the per-table
    quota of 40,000 read and write units a second (LimitExceededException, as AWS answers it)."""
    region = table.namespace.region
    kinds = (
        ("Read", "ReadUnitsPerSecond", "MaxReadRequestUnits"),
        ("Write", "WriteUnitsPerSecond", "MaxWriteRequestUnits"),
    )
    for kind, warm_member, max_member in kinds:
        for setting, member, label in (
            ("WarmThroughput", warm_member, "table" if index is None else f"index {index.name}"),
            ("OnDemandThroughput", max_member, "table" if index is None else f"index : {index.name}"),
        ):
            units = (request.get(setting) or {}).get(member)
            if isinstance(units, int) and units > TABLE_QUOTA_UNITS:
                raise LimitExceededException(
                    f"Subscriber limit exceeded: Requested {member} for {setting} for {label} exceeds "
                    f"TableMax{kind}CapacityUnits of the account in region {region}"
                )


def check_raise(value: dict[str, Any], table: TableSpec, index: IndexSpec | None) -> tuple[int, int]:
    """An UpdateTable's WarmThroughput for the table or a GSI: never lower than the current value."""
    wanted = requested(value)
    name = None if index is None else index.name
    if wanted == (None, None):
        suffix = "" if index is None else f" for index: {index.name}"
        raise ValidationException(
            INVALID + "WarmThroughput must have at least one of ReadUnitsPerSecond or WriteUnitsPerSecond "
            "specified" + suffix
        )
    current = warm.declared(table, index)
    for (member, _), units, now in zip(MEMBERS, wanted, current, strict=True):
        if units is not None and units < now:
            raise ValidationException(
                INVALID + f"Requested {member} for WarmThroughput for {_label(name)} is lower than current "
                "WarmThroughput, decreasing WarmThroughput is not supported"
            )
    return wanted[0] or current[0], wanted[1] or current[1]


def description(db: Database, table: TableSpec, index: IndexSpec | None) -> dict[str, Any]:
    """DescribeTable's WarmThroughput: the declared value, or what traffic raised it to (on demand)."""
    read, write = warm.declared(table, index)
    limiter = db.limiter
    if limiter is not None and table.billing_mode == "PAY_PER_REQUEST":
        read = max(read, int(limiter.grown(table, index, "read")))
        write = max(write, int(limiter.grown(table, index, "write")))
    # a raise applies at once (AWS's takes minutes, UPDATING meanwhile); a resource being created or
    # deleted says so
    state = table.status if index is None else index.status
    status = state if state in ("CREATING", "DELETING") else "ACTIVE"
    return {"ReadUnitsPerSecond": read, "WriteUnitsPerSecond": write, "Status": status}

"""DynamoDB's capacity-unit arithmetic and the ConsumedCapacity wire shape."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..model.schema import TableSpec


def write_units(size: int) -> float:
    """One write unit per started KB; at least one."""
    return float(max(1, math.ceil(size / 1024)))


def read_units(size: int, consistent: bool) -> float:
    """One read unit per started 4 KB (strongly consistent), half of that eventually consistent."""
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def consumed_capacity(
    mode: str | None,
    table: TableSpec,
    table_units: float,
    *,
    kind: str,
    index_units: Mapping[str, float] | None = None,
) -> dict[str, Any] | None:
    """The `ConsumedCapacity` member for `ReturnConsumedCapacity` = mode (TOTAL, INDEXES, NONE).

    `kind` ("read" or "write") is not part of the shape: the service reports CapacityUnits only, as its
    CLI examples and DynamoDB Local show.
    """
    if mode not in ("TOTAL", "INDEXES"):
        return None
    index_units = index_units or {}
    total = table_units + sum(index_units.values())
    out: dict[str, Any] = {"TableName": table.name, "CapacityUnits": total}
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": table_units}
        gsis: dict[str, Any] = {}
        lsis: dict[str, Any] = {}
        for index in table.indexes:
            if index.name in index_units:
                units = index_units[index.name]
                target = gsis if index.kind == "GSI" else lsis
                target[index.name] = {"CapacityUnits": units}
        if gsis:
            out["GlobalSecondaryIndexes"] = gsis
        if lsis:
            out["LocalSecondaryIndexes"] = lsis
    return out

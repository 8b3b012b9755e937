"""Warm throughput: what a table or GSI can serve at once (DescribeTable's WarmThroughput).

What DynamoDB documents and answers (warm-throughput.html, warm-throughput-scenarios.html,
on-demand-capacity-mode.html):
- a new on-demand table or GSI starts at 12,000 read and 4,000 write units a second (its "previous peak"
  is half of that: on demand serves up to double the previous peak at once);
- a provisioned one at its RCU/WCU, and its warm throughput follows the highest capacity ever provisioned;
- switching to on demand raises it to at least the on-demand initial values;
- it is never lowered: CreateTable/UpdateTable may raise it, and traffic raises it (core/throughput.py:
  a new peak counts 30 minutes after it was reached, as "throttling can occur if the throughput exceeds
  twice the previous peak within the same 30 minutes").

The declared value lives in the table's document (`TableSpec.extra[WARM]`, by resource: "" for the table,
the index's name for a GSI); what traffic added is the Limiter's, in memory.
"""

from __future__ import annotations

from typing import Any

from ..model.schema import IndexSpec, TableSpec

WARM = "warm_throughput"
INDEX_ON_DEMAND = "index_on_demand"  # each GSI's OnDemandThroughput, by index name
ON_DEMAND_INITIAL = (12_000, 4_000)  # read, write units a second of a new on-demand table or GSI


def resource_key(index: IndexSpec | None) -> str:
    return "" if index is None else index.name


def declared(table: TableSpec, index: IndexSpec | None) -> tuple[int, int]:
    """The table's (or GSI's) warm throughput as set and raised by its settings: read, write."""
    stored = (table.extra.get(WARM) or {}).get(resource_key(index))
    floor = _floor(table, index)
    if not stored:
        return floor
    return max(int(stored[0]), floor[0]), max(int(stored[1]), floor[1])


def _floor(table: TableSpec, index: IndexSpec | None) -> tuple[int, int]:
    if table.billing_mode == "PAY_PER_REQUEST":
        return ON_DEMAND_INITIAL
    throughput = index.throughput if index is not None else table.throughput
    return max(throughput.read, 1), max(throughput.write, 1)


def raised(table: TableSpec, index: IndexSpec | None, read: int, write: int) -> dict[str, Any]:
    """`extra` with the resource's warm throughput raised to at least (read, write) and to what its
    settings give it now (a provisioned increase, a switch to on demand)."""
    current = declared(table, index)
    warm = dict(table.extra.get(WARM) or {})
    warm[resource_key(index)] = [max(current[0], read), max(current[1], write)]
    return {**table.extra, WARM: warm}


def kept(before: TableSpec, after: TableSpec) -> TableSpec:
    """`after` remembering every resource's warm throughput of `before` (settings only raise it)."""
    warm = dict(after.extra.get(WARM) or {})
    resources: list[IndexSpec | None] = [None, *(ix for ix in before.indexes if ix.kind == "GSI")]
    for index in resources:
        if index is None or after.index(index.name) is not None:
            old = declared(before, index)
            new = declared(after, index if index is None else after.index(index.name))
            warm[resource_key(index)] = [max(old[0], new[0]), max(old[1], new[1])]
    return after.evolve(extra={**after.extra, WARM: warm})


def index_on_demand(table: TableSpec, index: IndexSpec) -> dict[str, Any]:
    settings: dict[str, Any] = (table.extra.get(INDEX_ON_DEMAND) or {}).get(index.name) or {}
    return settings

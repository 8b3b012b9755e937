"""DynamoDB's capacity arithmetic (core/capacity.py)."""

from __future__ import annotations

import pytest

from headwater.core.capacity import consumed_capacity, read_units, write_units

from .helpers import index, table


@pytest.mark.parametrize(
    ("size", "units"), [(0, 1.0), (1, 1.0), (1024, 1.0), (1025, 2.0), (400 * 1024, 400.0)]
)
def test_write_units_per_started_kb(size: int, units: float) -> None:
    assert write_units(size) == units


@pytest.mark.parametrize(
    ("size", "consistent", "units"),
    [
        (0, True, 1.0),
        (0, False, 0.5),
        (4096, True, 1.0),
        (4097, True, 2.0),
        (4097, False, 1.0),
        (9000, False, 1.5),
    ],
)
def test_read_units_per_started_4kb(size: int, consistent: bool, units: float) -> None:
    assert read_units(size, consistent) == units


def test_consumed_capacity_shapes() -> None:
    spec = table(index("GSI", index_id=1), index("LSI", hash_key="p", range_key="l", index_id=2))
    assert consumed_capacity(None, spec, 1.0, kind="write") is None
    assert consumed_capacity("NONE", spec, 1.0, kind="write") is None
    assert consumed_capacity("TOTAL", spec, 1.0, kind="write", index_units={"i1": 2.0}) == {
        "TableName": "t",
        "CapacityUnits": 3.0,
    }
    assert consumed_capacity("INDEXES", spec, 0.5, kind="read", index_units={"i1": 1.0, "i2": 0.5}) == {
        "TableName": "t",
        "CapacityUnits": 2.0,
        "Table": {"CapacityUnits": 0.5},
        "GlobalSecondaryIndexes": {"i1": {"CapacityUnits": 1.0}},
        "LocalSecondaryIndexes": {"i2": {"CapacityUnits": 0.5}},
    }

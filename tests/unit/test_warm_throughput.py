"""core/warm.py: a table's (or GSI's) declared warm throughput from its settings, never lowered."""

from __future__ import annotations

from headwater.core import warm
from headwater.model.namespace import Namespace
from headwater.model.schema import IndexSpec, KeyAttribute, KeySchema, Projection, TableSpec, Throughput

KEY = KeySchema.single(KeyAttribute("pk", "S"))
NONE = Throughput(0, 0)


def spec(mode: str = "PAY_PER_REQUEST", throughput: Throughput = NONE, **extra: object) -> TableSpec:
    index = IndexSpec(
        1, "byg", "GSI", KeySchema.single(KeyAttribute("g", "S")), Projection("ALL"), throughput
    )
    return TableSpec(
        table_id=1,
        name="t",
        table_uuid="u",
        key=KEY,
        attribute_definitions=(KeyAttribute("pk", "S"), KeyAttribute("g", "S")),
        created_at=0.0,
        namespace=Namespace("000000000000", "us-east-1"),
        billing_mode=mode,  # type: ignore[arg-type]
        throughput=throughput,
        indexes=(index,),
        extra=dict(extra),
    )


def test_defaults_are_the_on_demand_initial_values_or_the_provisioned_capacity() -> None:
    table = spec()
    assert warm.declared(table, None) == (12_000, 4_000)
    assert warm.declared(table, table.indexes[0]) == (12_000, 4_000)
    provisioned = spec("PROVISIONED", Throughput(5, 3))
    assert warm.declared(provisioned, None) == (5, 3)


def test_settings_only_raise_it() -> None:
    before = spec("PROVISIONED", Throughput(10, 10))
    lowered = before.evolve(throughput=Throughput(2, 2))
    assert warm.declared(warm.kept(before, lowered), None) == (10, 10)
    on_demand = warm.kept(before, before.evolve(billing_mode="PAY_PER_REQUEST", throughput=Throughput(0, 0)))
    assert warm.declared(on_demand, None) == (12_000, 4_000)
    back = warm.kept(on_demand, on_demand.evolve(billing_mode="PROVISIONED", throughput=Throughput(1, 1)))
    assert warm.declared(back, None) == (12_000, 4_000)  # kept after switching back, as AWS keeps it


def test_raised_keeps_the_higher_of_each_direction() -> None:
    table = spec()
    raised = table.evolve(extra=warm.raised(table, None, 13_000, 1))
    assert warm.declared(raised, None) == (13_000, 4_000)
    index = raised.indexes[0]
    both = raised.evolve(extra=warm.raised(raised, index, 1, 5_000))
    assert warm.declared(both, index) == (12_000, 5_000)
    assert warm.declared(both, None) == (13_000, 4_000)

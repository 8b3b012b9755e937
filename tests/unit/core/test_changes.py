"""Index entries from an item's change (core/changes.py): sparse rule, projections, counters."""

from __future__ import annotations

from typing import Any

from headwater.core import stored
from headwater.core.changes import index_entry, item_change, project_for_index
from headwater.model.keys import encode_key_value
from headwater.model.size import item_size
from headwater.storage.base import ItemKey, WriteSet

from .helpers import index, table

KEY = ItemKey(1, 7, b"a", b"1")


def _item(**attrs: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"p": {"S": "a"}, "s": {"S": "1"}}
    base.update(attrs)
    return base


def test_sparse_rule_needs_every_index_key_of_the_right_type() -> None:
    gsi = index("GSI", hash_key="g", range_key="r")
    spec = table(gsi)
    assert index_entry(spec, gsi, _item()) is None
    assert index_entry(spec, gsi, _item(g={"S": "x"})) is None  # no range key attribute
    assert index_entry(spec, gsi, _item(g={"N": "1"}, r={"S": "y"})) is None  # wrong type
    assert index_entry(spec, gsi, _item(g={"S": "x"}, r={"S": "y"})) == (
        encode_key_value("S", {"S": "x"}),
        encode_key_value("S", {"S": "y"}),
    )


def test_projections() -> None:
    item = _item(g={"S": "x"}, a={"S": "1"}, b={"S": "2"})
    spec = table()
    assert project_for_index(spec, index(projection="ALL"), item) == item
    assert project_for_index(spec, index(projection="KEYS_ONLY"), item) == _item(g={"S": "x"})
    assert project_for_index(spec, index(projection="INCLUDE", include=("b", "zz")), item) == _item(
        g={"S": "x"}, b={"S": "2"}
    )


def test_entering_moving_and_leaving_an_index() -> None:
    gsi = index("GSI", projection="KEYS_ONLY")
    spec = table(gsi)
    ws = WriteSet()
    new = _item(g={"S": "x"}, v={"S": "v"})
    item_change(ws, spec, KEY, None, new, 0.0)
    assert [(w.key.pk, w.item and stored.unpack(w.item)) for w in ws.indexes] == [(b"x", _item(g={"S": "x"}))]
    assert ws.counters[(1, 0)] == (1, item_size(new))
    assert ws.counters[(1, 1)] == (1, item_size(_item(g={"S": "x"})))

    # a change to a non-projected attribute leaves a KEYS_ONLY entry alone
    ws = WriteSet()
    item_change(ws, spec, KEY, new, _item(g={"S": "x"}, v={"S": "w"}), 0.0)
    assert ws.indexes == [] and len(ws.items) == 1

    # a new index key value deletes the old entry and writes the new one
    ws = WriteSet()
    item_change(ws, spec, KEY, new, _item(g={"S": "y"}), 0.0)
    assert [(w.key.pk, w.item is None) for w in ws.indexes] == [(b"x", True), (b"y", False)]
    assert ws.counters[(1, 1)] == (0, 0)

    # losing the index key attribute leaves the (sparse) index
    ws = WriteSet()
    item_change(ws, spec, KEY, new, _item(), 0.0)
    assert [(w.key.pk, w.item) for w in ws.indexes] == [(b"x", None)]
    assert ws.counters[(1, 1)] == (-1, -item_size(_item(g={"S": "x"})))


def test_an_unchanged_item_writes_nothing() -> None:
    spec = table(index())
    ws = WriteSet()
    item = _item(g={"S": "x"}, n={"N": "1"})
    change = item_change(ws, spec, KEY, item, _item(g={"S": "x"}, n={"N": "1.0"}), 0.0)
    assert not change.changed
    assert ws.items == [] and ws.indexes == [] and ws.counters == {}


def test_entries_earlier_versions_wrote_for_values_no_key_can_hold_are_deleted() -> None:
    """Empty or oversized index key values were indexed before they were refused; such an item's change
    deletes that entry (the counters are left alone: a backfill never wrote one)."""
    gsi = index("GSI", hash_key="g", range_key="r")
    spec = table(gsi)
    old = _item(g={"S": ""}, r={"S": "y"})
    ws = WriteSet()
    item_change(ws, spec, KEY, old, _item(g={"S": "x"}, r={"S": "y"}), 0.0)
    deleted = [w.key.pk for w in ws.indexes if w.item is None]
    written = [w.key.pk for w in ws.indexes if w.item is not None]
    assert deleted == [b""] and written == [b"x"]
    assert ws.counters[(1, 1)] == (1, item_size(_item(g={"S": "x"}, r={"S": "y"})))
    # an item that never had the attributes deletes nothing
    ws = WriteSet()
    item_change(ws, spec, KEY, _item(v={"S": "1"}), None, 0.0)
    assert ws.indexes == []

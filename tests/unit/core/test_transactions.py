"""MultiWriteOp.apply with in-memory old items (core/transactions.py): all-or-nothing semantics."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.core import stored
from headwater.core.collections import collection_bytes, collection_key
from headwater.core.transactions import Action, MultiWriteOp
from headwater.errors import ItemCollectionSizeLimitExceededException, TransactionCanceledException
from headwater.expressions import compile_request
from headwater.model.size import item_size
from headwater.storage.base import ItemKey

from .helpers import index, table

SPEC = table()


def _key(s: str) -> ItemKey:
    return ItemKey(1, 7, b"a", s.encode())


def _item(s: str, **attrs: Any) -> dict[str, Any]:
    return {"p": {"S": "a"}, "s": {"S": s}, **attrs}


def _compiled(**request: Any) -> Any:
    return compile_request(request, operation="UpdateItem")


def _raw(item: dict[str, Any] | None) -> bytes | None:
    return None if item is None else stored.pack(item, item_size(item))


def test_one_failed_condition_cancels_all_with_reasons_in_order() -> None:
    must_exist = _compiled(ConditionExpression="attribute_exists(p)").condition
    op = MultiWriteOp(
        (
            Action("put", SPEC, _key("1"), _item("1"), item=_item("1", v={"N": "1"})),
            Action("delete", SPEC, _key("2"), _item("2"), condition=must_exist, return_old_on_failure=True),
            Action("check", SPEC, _key("3"), _item("3"), condition=must_exist, return_old_on_failure=True),
        ),
        0.0,
    )
    with pytest.raises(TransactionCanceledException) as info:
        op.apply([None, None, None])
    assert info.value.message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed, ConditionalCheckFailed]"
    )
    assert info.value.extra["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    ]


def test_reasons_carry_the_old_item_with_all_old() -> None:
    must_not_exist = _compiled(ConditionExpression="attribute_not_exists(p)").condition
    old = _item("1", v={"S": "v"})
    op = MultiWriteOp(
        (Action("check", SPEC, _key("1"), _item("1"), condition=must_not_exist, return_old_on_failure=True),),
        0.0,
    )
    with pytest.raises(TransactionCanceledException) as info:
        op.apply([_raw(old)])
    assert info.value.extra["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed", "Item": old}
    ]


def test_commit_writes_every_item_and_doubles_units() -> None:
    update = _compiled(UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"S": "x" * 2000}})
    actions = (
        Action("put", SPEC, _key("1"), _item("1"), item=_item("1")),
        Action("update", SPEC, _key("2"), _item("2"), update=update.update),
        Action("delete", SPEC, _key("3"), _item("3")),
        Action("check", SPEC, _key("4"), _item("4")),
    )
    ws = MultiWriteOp(actions, 0.0).apply([None, None, _raw(_item("3")), _raw(_item("4"))])
    assert [(w.key.sk, w.item is None) for w in ws.items] == [(b"1", False), (b"2", False), (b"3", True)]
    assert stored.unpack(ws.items[1].item or b"") == _item("2", v={"S": "x" * 2000})
    assert [r.units for r in ws.result] == [2.0, 4.0, 2.0, 2.0]
    # a batch (not transactional) pays single units
    ws = MultiWriteOp(actions, 0.0, transactional=False).apply([None, None, _raw(_item("3")), None])
    assert [r.units for r in ws.result] == [1.0, 2.0, 1.0, 1.0]


def test_update_of_a_key_attribute_is_a_validation_error_reason() -> None:
    update = _compiled(UpdateExpression="SET s = :v", ExpressionAttributeValues={":v": {"S": "9"}})
    op = MultiWriteOp(
        (
            Action("put", SPEC, _key("1"), _item("1"), item=_item("1")),
            Action("update", SPEC, _key("2"), _item("2"), update=update.update),
        ),
        0.0,
    )
    with pytest.raises(TransactionCanceledException) as info:
        op.apply([None, None])
    assert info.value.extra["CancellationReasons"][1] == {
        "Code": "ValidationError",
        "Message": "One or more parameter values were invalid: Cannot update attribute s. "
        "This attribute is part of the key",
    }


def test_item_collection_sizes_add_up_within_one_operation() -> None:
    lsi = index("LSI", hash_key="p", range_key="l")
    spec = table(lsi)
    items = [_item(str(i), l={"S": "x"}, v={"S": "v" * 100}) for i in range(3)]
    each = collection_bytes(spec, items[0])
    assert each > 2 * 100  # the item and its LSI entry
    actions = tuple(Action("put", spec, _key(str(i)), _item(str(i)), item=items[i]) for i in range(3))
    op = MultiWriteOp(actions, 0.0, transactional=False, collection_limit=3 * each)
    assert op.keys[3:] == (collection_key(spec, _key("0")),)  # one counter for the one collection
    ws = op.apply([None, None, None, None])
    assert [r.collection_size for r in ws.result] == [each, 2 * each, 3 * each]
    assert ws.items[-1].key == collection_key(spec, _key("0"))
    assert ws.items[-1].item == str(3 * each).encode()
    # the stored size counts: one more byte over the limit fails the batch, and cancels a transaction
    with pytest.raises(ItemCollectionSizeLimitExceededException):
        MultiWriteOp(actions[:1], 0.0, False, 3 * each).apply([None, str(2 * each + 1).encode()])
    with pytest.raises(TransactionCanceledException) as info:
        MultiWriteOp(actions[:1], 0.0, True, 3 * each).apply([None, str(2 * each + 1).encode()])
    assert info.value.extra["CancellationReasons"] == [
        {"Code": "ItemCollectionSizeLimitExceeded", "Message": "Collection size exceeded."}
    ]
    # deleting everything removes the counter row
    deletes = tuple(Action("delete", spec, _key(str(i)), _item(str(i))) for i in range(3))
    ws = MultiWriteOp(deletes, 0.0, False).apply([_raw(i) for i in items] + [str(3 * each).encode()])
    assert ws.items[-1].key == collection_key(spec, _key("0")) and ws.items[-1].item is None

"""Last writer wins, as property: three replicas taking writes, deletes and TTL expiries in any order,
with clocks that disagree, and receiving each other's changes in any interleaving (in order per link,
as a stream delivers them) end with the same items: for every key, the change with the greatest stamp.

The replicas run the real operations' pure `apply` (ItemWriteOp, TtlDeleteOp, and a link's page of
changes as one ReplicatedPageOp) over dictionaries standing in for storage, and ship the stream records
those operations produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.core.lww import Stamp, local_stamp, wins
from headwater.core.replicated import ReplicatedChangeOp, ReplicatedPageOp, key_of
from headwater.core.transactions import Action, MultiWriteOp
from headwater.core.ttl import TtlDeleteOp
from headwater.core.writes import ItemWriteOp
from headwater.model.namespace import Namespace
from headwater.model.schema import (
    KeyAttribute,
    KeySchema,
    ReplicaSpec,
    StreamSpec,
    TableSpec,
    TtlSpec,
)
from headwater.storage.base import ItemKey, MetaWrite, WriteOperation, WriteSet

REGIONS = ("eu-west-1", "us-east-1", "us-west-2")
KEYS = ("a", "b", "c")
TTL = "expires"
EPOCH = 1_750_000_000.0  # clock readings are EPOCH + 0..5 (TTL ignores times more than 5 years old)


def spec(region: str) -> TableSpec:
    key = KeyAttribute("pk", "S")
    return TableSpec(
        table_id=7,
        name="orders",
        table_uuid="u",
        key=KeySchema.single(key),
        attribute_definitions=(key,),
        created_at=0.0,
        namespace=Namespace("000000000000", region),
        stream=StreamSpec(True, "NEW_AND_OLD_IMAGES"),
        stream_id=1,
        ttl=TtlSpec(TTL, "ENABLED"),
        replicas=tuple(ReplicaSpec(other) for other in REGIONS if other != region),
    )


@dataclass
class Replica:
    table: TableSpec
    rows: dict[ItemKey, bytes] = field(default_factory=dict)

    def run(self, op: WriteOperation) -> WriteSet:
        ws = op.apply([self.rows.get(key) for key in op.keys])
        for write in ws.items:
            if write.item is None:
                self.rows.pop(write.key, None)
            else:
                self.rows[write.key] = write.item
        return ws

    def items(self) -> dict[str, dict[str, Any]]:
        out = {}
        for key, data in self.rows.items():
            if key.table_id == self.table.table_id:
                item = orjson.loads(data[4:])
                out[item["pk"]["S"]] = item
        return out


# (kind, replica, key, clock reading, value): kind is put, a transaction's put, delete, expire (a TTL
# sweep) or deliver (a page of the oldest changes waiting on the link from `replica` to replica `value`,
# as many as the clock reading, at least one: one key may change several times in a page)
events = st.lists(
    st.tuples(
        st.sampled_from(("put", "transact", "delete", "expire", "deliver", "deliver")),
        st.integers(0, 2),
        st.sampled_from(KEYS),
        st.integers(0, 5),  # few clock values: ties and clocks going back are common
        st.integers(0, 2),
    ),
    max_size=60,
)


def deliver(page: list[dict[str, Any]], target: Replica, now: float) -> None:
    """What a link does with a page of records: one operation of replicated changes, each applied if its
    stamp wins (never shipped on)."""
    changes = []
    for doc in page:
        stamp = Stamp.from_wire(doc["replication"])
        assert stamp is not None
        new = None if doc["eventName"] == "REMOVE" else doc["dynamodb"]["NewImage"]
        key = key_of(target.table, doc["dynamodb"]["Keys"])
        changes.append(ReplicatedChangeOp(target.table, key, new, stamp, now))
    ws = target.run(ReplicatedPageOp(tuple(changes)))
    assert len(ws.result) == len(page)


def local_write(replica: Replica, kind: str, key: str, now: float, value: int) -> WriteSet:
    table = replica.table
    key_item = {"pk": {"S": key}}
    item_key = key_of(table, key_item)
    item = {**key_item, "v": {"N": str(value)}, TTL: {"N": str(int(now) + value - 1)}}
    if kind == "put":
        return replica.run(ItemWriteOp("put", table, item_key, key_item, now, item=item))
    if kind == "transact":
        return replica.run(MultiWriteOp((Action("put", table, item_key, key_item, item),), now))
    if kind == "delete":
        return replica.run(ItemWriteOp("delete", table, item_key, key_item, now))
    return replica.run(TtlDeleteOp(table, item_key, TTL, now, now))


@settings(max_examples=400, deadline=None)
@given(events)
def test_replicas_converge_to_the_last_writer(script: list[tuple[str, int, str, int, int]]) -> None:
    replicas = [Replica(spec(region)) for region in REGIONS]
    links: dict[tuple[int, int], list[dict[str, Any]]] = {
        (s, t): [] for s in range(3) for t in range(3) if s != t
    }
    winners: dict[str, tuple[Stamp, dict[str, Any] | None]] = {}  # every change's key: the latest so far

    for kind, where, key, clock, value in script:
        if kind == "deliver":
            queue = links.get((where, value))
            if queue:
                size = max(1, clock)
                page, queue[:] = queue[:size], queue[size:]
                deliver(page, replicas[value], EPOCH + clock)
            continue
        for record in local_write(replicas[where], kind, key, EPOCH + clock, value).stream:
            doc = orjson.loads(record.payload)
            stamp = Stamp.from_wire(doc["replication"])
            assert stamp is not None and stamp.region == REGIONS[where]
            if key not in winners or wins(stamp, winners[key][0]):
                winners[key] = (stamp, None if doc["eventName"] == "REMOVE" else doc["dynamodb"]["NewImage"])
            for target in range(3):
                if target != where:
                    links[(where, target)].append(doc)

    for (_, target), queue in links.items():  # the network heals: everything is delivered
        if queue:
            deliver(queue, replicas[target], EPOCH + 9)

    expected = {key: new for key, (_, new) in winners.items() if new is not None}
    for replica in replicas:
        assert replica.items() == expected


def test_a_local_write_is_stamped_after_what_it_replaces() -> None:
    later = Stamp(10.0, "us-west-2")
    assert local_stamp(later, 5.0, "eu-west-1") > later  # a clock behind another region's
    assert local_stamp(Stamp(5.0, "us-east-1"), 5.0, "eu-west-1") > Stamp(5.0, "us-east-1")  # a tie
    assert local_stamp(None, 5.0, "eu-west-1") == Stamp(5.0, "eu-west-1")
    assert wins(Stamp(5.0, "us-east-1"), Stamp(5.0, "eu-west-1"))
    assert not wins(Stamp(5.0, "eu-west-1"), Stamp(5.0, "eu-west-1"))  # the same change, again


def test_a_page_commits_its_checkpoint_with_its_changes() -> None:
    """A link's page is one operation: its checkpoint is in the same WriteSet as the changes, also when
    every change loses (it was applied before a crash), and the result says which changes applied."""
    target = Replica(spec("eu-west-1"))
    key_item = {"pk": {"S": "a"}}
    key = key_of(target.table, key_item)
    checkpoint = MetaWrite("replication.checkpoint", "link/arn/shard", b'{"seq":"7"}')

    def page(*stamps: float) -> ReplicatedPageOp:
        changes = tuple(
            ReplicatedChangeOp(target.table, key, {**key_item, "v": {"N": str(t)}}, Stamp(t, "us-east-1"), t)
            for t in stamps
        )
        return ReplicatedPageOp(changes, (checkpoint,))

    ws = target.run(page(EPOCH + 2, EPOCH + 1, EPOCH + 3))
    assert ws.result == (True, False, True)  # the second is older than the first, in the same page
    assert ws.meta == [checkpoint]
    assert target.items() == {"a": {**key_item, "v": {"N": str(EPOCH + 3)}}}
    again = target.run(page(EPOCH + 2, EPOCH + 1, EPOCH + 3))
    assert again.result == (False, False, False)
    assert again.meta == [checkpoint] and not again.items and not again.stream

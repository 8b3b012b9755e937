"""The advisory locks that let several Headwater nodes write one PostgreSQL schema at once.

Every lock is PostgreSQL's own (`pg_advisory_*`), so it is released when its transaction or session ends,
also when the node holding it is killed. Two kinds of ids:
- (class, schema hash) pairs (`pg_advisory_*lock(int, int)`): one lock per schema for each purpose
  below, so nodes on different schemas or databases never wait for each other;
- 64-bit item key locks (`pg_advisory_xact_lock(bigint)`, a space of its own): a hash of (schema, table
  id, partition hash, keys). A collision only makes two writes wait for each other.

Why item key locks and not `SELECT ... FOR UPDATE`: a row lock needs a row, and a conditional put of a new
item (`attribute_not_exists`) has none to lock, so two nodes would both see it missing and both succeed.
A key lock is taken whether or not the item exists, before the group reads it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# the first half of every (int, int) lock: "HWAT" plus the purpose
SCHEMA_SETUP = 0x48574154  # creating or upgrading the tables (one node at a time)
CATALOG = 0x48574155  # writer transactions: shared by every group, exclusive for a catalog change
CATALOG_CHANGE = 0x48574156  # a session lock held by the node making a catalog change, from read to commit
LEASE = 0x48574157  # the background work's lease (one node at a time)
ALIVE = 0x48574158  # shared by every running node: exclusive only for a node that is alone
SHARD_USE = 0x48574159  # (this, hashtext(shard)): counting a stream shard's uses (shard_uses.py)
# (this, stream id) held to COMMIT by a transaction appending stream records (schema.append_records):
# shared for records in data slots, exclusive for a shard boundary marker. Not schema-qualified (a
# stream id has the whole second half): nodes on other schemas only wait when one writes a marker.
STREAM_ORDER = 0x4857415A
STREAM_ORDER_KEY = str(STREAM_ORDER)
# (this + slot, schema hash), slot < schema.COUNTER_SLOTS: a session lock a writer connection holds on
# the counters rows slot its groups add to (group.claim_counter_slot)
COUNTER_SLOT = 0x48575000

# a schema's hash as PostgreSQL computes it (the (int, int) locks' second half)
SCHEMA_KEY = "hashtext(coalesce(%s, current_schema()))"

ItemTuple = tuple[int, int, bytes, bytes]


def key_lock_ids(schema: str | None, keys: Iterable[ItemTuple]) -> list[int]:
    """The item key locks of `keys`, each once, in ascending order: every transaction takes its locks in
    the same order, so two groups locking overlapping keys wait for each other but never deadlock."""
    prefix = (schema or "").encode() + b"\x00"
    ids = set()
    for table_id, h, pk, sk in keys:
        digest = hashlib.blake2b(
            b"%s%d:%d:%d:%s%d:%s" % (prefix, table_id, h, len(pk), pk, len(sk), sk), digest_size=8
        ).digest()
        ids.add(int.from_bytes(digest, "big", signed=True))
    return sorted(ids)

"""The request streams of the timed phases (see loadgen.Session)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.tables import BATCH, batch_put, item, key
from bench.wire import RequestBuilder

QUERY_PARTITION = "qpart"
QUERY_ITEMS = 1000
QUERY_PAGE = 100
TRANSACT_PUTS = 4
POOL = 4096  # pre-rendered requests per get/update client


def put_key(client_id: int, seq: int) -> tuple[str, int]:
    """Unique per (client, seq); ten items share a partition."""
    return f"u{client_id:03d}-{seq // 10:08d}", seq % 10


@dataclass(frozen=True, slots=True)
class Keyspace:
    """Keys that a put phase (or a preload) wrote: per client, seqs below `next` minus the failed ones."""

    written: dict[int, int]
    failed: dict[int, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def from_reports(cls, reports: list[dict[str, Any]]) -> Keyspace:
        return cls(
            {r["client"]: r["next"] for r in reports if r["next"]},
            {r["client"]: frozenset(r["failed"]) for r in reports if r["failed"]},
        )

    @property
    def size(self) -> int:
        return sum(self.written.values()) - sum(len(f) for f in self.failed.values())

    def sample(self, rnd: random.Random) -> tuple[str, int]:
        clients = list(self.written)
        while True:
            cid = rnd.choice(clients)
            seq = rnd.randrange(self.written[cid])
            if seq not in self.failed.get(cid, ()):
                return put_key(cid, seq)


# -- put ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class PutSession:
    builder: RequestBuilder
    table: str
    client_id: int
    seq: int = 0
    failed: list[int] = field(default_factory=list)

    def next_request(self) -> bytes:
        pk, sk = put_key(self.client_id, self.seq)
        self.seq += 1
        return self.builder.op("PutItem", {"TableName": self.table, "Item": item(pk, sk)})

    def on_success(self, body: bytes) -> int | str:
        return 1

    def on_failure(self) -> None:
        self.failed.append(self.seq - 1)

    def report(self) -> dict[str, Any]:
        return {"client": self.client_id, "next": self.seq, "failed": self.failed}


@dataclass(frozen=True, slots=True)
class Put:
    builder: RequestBuilder
    table: str

    def session(self, client_id: int) -> PutSession:
        return PutSession(self.builder, self.table, client_id)


# -- get / update: cycle through pre-rendered requests on random existing keys ----------------------


@dataclass(slots=True)
class PoolSession:
    pool: list[bytes]
    expect_item: bool
    pos: int = 0

    def next_request(self) -> bytes:
        self.pos = (self.pos + 1) % len(self.pool)
        return self.pool[self.pos]

    def on_success(self, body: bytes) -> int | str:
        if self.expect_item and b'"Item"' not in body:
            return "ItemMissing"
        return 1

    def on_failure(self) -> None:
        pass

    def report(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Get:
    builder: RequestBuilder
    table: str
    keys: Keyspace

    def session(self, client_id: int) -> PoolSession:
        rnd = random.Random(client_id)
        pool = [
            self.builder.op("GetItem", {"TableName": self.table, "Key": key(*self.keys.sample(rnd))})
            for _ in range(POOL)
        ]
        return PoolSession(pool, expect_item=True)


@dataclass(frozen=True, slots=True)
class Update:
    builder: RequestBuilder
    table: str
    keys: Keyspace

    def session(self, client_id: int) -> PoolSession:
        rnd = random.Random(1000 + client_id)
        pool = []
        for i in range(POOL):
            request = {
                "TableName": self.table,
                "Key": key(*self.keys.sample(rnd)),
                "UpdateExpression": "SET #n = :n ADD score :inc",
                "ExpressionAttributeNames": {"#n": "name"},
                "ExpressionAttributeValues": {":n": {"S": f"renamed {client_id}-{i}"}, ":inc": {"N": "1"}},
            }
            pool.append(self.builder.op("UpdateItem", request))
        return PoolSession(pool, expect_item=False)


# -- query: Limit-100 pages of one 1000-item partition ---------------------------------------------


@dataclass(slots=True)
class QuerySession:
    pool: list[bytes]
    rnd: random.Random

    def next_request(self) -> bytes:
        return self.rnd.choice(self.pool)

    def on_success(self, body: bytes) -> int | str:
        count = int(orjson.loads(body).get("Count", -1))
        return count if count == QUERY_PAGE else "ShortPage"

    def on_failure(self) -> None:
        pass

    def report(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Query:
    builder: RequestBuilder
    table: str

    def session(self, client_id: int) -> QuerySession:
        pool = [
            self.builder.op(
                "Query",
                {
                    "TableName": self.table,
                    "KeyConditionExpression": "pk = :p AND sk >= :lo",
                    "ExpressionAttributeValues": {":p": {"S": QUERY_PARTITION}, ":lo": {"N": str(lo)}},
                    "Limit": QUERY_PAGE,
                },
            )
            for lo in range(QUERY_ITEMS - QUERY_PAGE + 1)
        ]
        return QuerySession(pool, random.Random(2000 + client_id))


# -- scan: every client walks the whole table over and over -----------------------------------------


@dataclass(slots=True)
class ScanSession:
    builder: RequestBuilder
    table: str
    start_key: Any = None
    full_scans: int = 0

    def next_request(self) -> bytes:
        request: dict[str, Any] = {"TableName": self.table}
        if self.start_key is not None:
            request["ExclusiveStartKey"] = self.start_key
        return self.builder.op("Scan", request)

    def on_success(self, body: bytes) -> int | str:
        page = orjson.loads(body)
        self.start_key = page.get("LastEvaluatedKey")
        if self.start_key is None:
            self.full_scans += 1
        return int(page.get("Count", 0))

    def on_failure(self) -> None:
        pass

    def report(self) -> dict[str, Any]:
        return {"full_scans": self.full_scans}


@dataclass(frozen=True, slots=True)
class Scan:
    builder: RequestBuilder
    table: str

    def session(self, client_id: int) -> ScanSession:
        return ScanSession(self.builder, self.table)


# -- batch: BatchWriteItem of 25 new items ------------------------------------------------------------


@dataclass(slots=True)
class BatchSession:
    builder: RequestBuilder
    table: str
    client_id: int
    seq: int = 0
    unprocessed: int = 0

    def next_request(self) -> bytes:
        pk = f"b{self.client_id:03d}-{self.seq:08d}"
        self.seq += 1
        return self.builder.op("BatchWriteItem", batch_put(self.table, ((pk, sk) for sk in range(BATCH))))

    def on_success(self, body: bytes) -> int | str:
        left = orjson.loads(body).get("UnprocessedItems") or {}
        skipped = sum(len(v) for v in left.values())
        self.unprocessed += skipped  # not retried: the items/s figure counts only written items
        return BATCH - skipped

    def on_failure(self) -> None:
        pass

    def report(self) -> dict[str, Any]:
        return {"unprocessed": self.unprocessed}


@dataclass(frozen=True, slots=True)
class Batch:
    builder: RequestBuilder
    table: str

    def session(self, client_id: int) -> BatchSession:
        return BatchSession(self.builder, self.table, client_id)


# -- transact: TransactWriteItems of 4 new items ------------------------------------------------------


@dataclass(slots=True)
class TransactSession:
    builder: RequestBuilder
    table: str
    client_id: int
    seq: int = 0

    def next_request(self) -> bytes:
        pk = f"t{self.client_id:03d}-{self.seq:08d}"
        self.seq += 1
        puts = [{"Put": {"TableName": self.table, "Item": item(pk, sk)}} for sk in range(TRANSACT_PUTS)]
        return self.builder.op("TransactWriteItems", {"TransactItems": puts})

    def on_success(self, body: bytes) -> int | str:
        return TRANSACT_PUTS

    def on_failure(self) -> None:
        pass

    def report(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Transact:
    builder: RequestBuilder
    table: str

    def session(self, client_id: int) -> TransactSession:
        return TransactSession(self.builder, self.table, client_id)

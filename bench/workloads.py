"""The request streams of the timed phases (see loadgen.Session)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.keys import KeySpace, Written
from bench.tables import BATCH, UPDATES, batch_put, item, key
from bench.wire import RequestBuilder

QUERY_PARTITION = "qpart"
QUERY_ITEMS = 1000
QUERY_PAGE = 100
TRANSACT_PUTS = 4
POOL = 4096  # pre-rendered requests per get/update client


# -- put ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class PutSession:
    builder: RequestBuilder
    table: str
    space: KeySpace
    client_id: int
    seq: int = 0
    failed: list[int] = field(default_factory=list)

    def next_request(self) -> bytes:
        pk, sk = self.space.key(self.client_id, self.seq)
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
    """PutItem of new items: every key comes from the phase's own key space."""

    builder: RequestBuilder
    table: str
    space: KeySpace

    def session(self, client_id: int) -> PutSession:
        return PutSession(self.builder, self.table, self.space, client_id)


# -- get: cycle through pre-rendered requests on random existing keys --------------------------------


@dataclass(slots=True)
class GetSession:
    pool: list[bytes]
    pos: int = 0

    def next_request(self) -> bytes:
        self.pos = (self.pos + 1) % len(self.pool)
        return self.pool[self.pos]

    def on_success(self, body: bytes) -> int | str:
        return 1 if b'"Item"' in body else "ItemMissing"

    def on_failure(self) -> None:
        pass

    def report(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Get:
    builder: RequestBuilder
    table: str
    keys: Written

    def session(self, client_id: int) -> GetSession:
        rnd = random.Random(client_id)
        pool = [
            self.builder.op("GetItem", {"TableName": self.table, "Key": key(*self.keys.sample(rnd))})
            for _ in range(POOL)
        ]
        return GetSession(pool)


# -- update: random existing keys, each request setting a value no other request sets ------------------


@dataclass(slots=True)
class UpdateSession:
    builder: RequestBuilder
    table: str
    stamps: KeySpace
    keys: list[dict[str, Any]]
    client_id: int
    seq: int = 0

    def next_request(self) -> bytes:
        request = {
            "TableName": self.table,
            "Key": self.keys[self.seq % len(self.keys)],
            "UpdateExpression": "SET #n = :n ADD #u :one",
            "ExpressionAttributeNames": {"#n": "name", "#u": UPDATES},
            "ExpressionAttributeValues": {
                ":n": {"S": self.stamps.stamp(self.client_id, self.seq)},
                ":one": {"N": "1"},
            },
        }
        self.seq += 1
        return self.builder.op("UpdateItem", request)

    def on_success(self, body: bytes) -> int | str:
        return 1

    def on_failure(self) -> None:
        pass

    def report(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Update:
    """UpdateItem `SET name = <unique> ADD updates 1`: every success changes the item and counts once in
    the `updates` attribute, which a Scan adds up afterwards."""

    builder: RequestBuilder
    table: str
    keys: Written
    stamps: KeySpace

    def session(self, client_id: int) -> UpdateSession:
        rnd = random.Random(1000 + client_id)
        keys = [key(*self.keys.sample(rnd)) for _ in range(POOL)]
        return UpdateSession(self.builder, self.table, self.stamps, keys, client_id)


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
    space: KeySpace
    client_id: int
    seq: int = 0
    unprocessed: int = 0

    def next_request(self) -> bytes:
        pk = self.space.partition(self.client_id, self.seq)
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
    space: KeySpace

    def session(self, client_id: int) -> BatchSession:
        return BatchSession(self.builder, self.table, self.space, client_id)


# -- transact: TransactWriteItems of 4 new items ------------------------------------------------------


@dataclass(slots=True)
class TransactSession:
    builder: RequestBuilder
    table: str
    space: KeySpace
    client_id: int
    seq: int = 0

    def next_request(self) -> bytes:
        pk = self.space.partition(self.client_id, self.seq)
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
    space: KeySpace

    def session(self, client_id: int) -> TransactSession:
        return TransactSession(self.builder, self.table, self.space, client_id)


# -- PartiQL: the same reads and writes as GetItem and PutItem, through ExecuteStatement ---------------

SELECT_BY_KEY = 'SELECT * FROM "{table}" WHERE pk = ? AND sk = ?'


def insert_statement(table: str, names: list[str]) -> str:
    return f'INSERT INTO "{table}" VALUE {{' + ", ".join(f"'{name}': ?" for name in names) + "}"


@dataclass(frozen=True, slots=True)
class PartiqlSelect:
    """ExecuteStatement SELECT by the full key of random existing items (Get's keys): a Query."""

    builder: RequestBuilder
    table: str
    keys: Written

    def session(self, client_id: int) -> GetSession:
        rnd = random.Random(client_id)
        statement = SELECT_BY_KEY.format(table=self.table)
        pool = []
        for _ in range(POOL):
            pk, sk = self.keys.sample(rnd)
            parameters = [{"S": pk}, {"N": str(sk)}]
            pool.append(
                self.builder.op("ExecuteStatement", {"Statement": statement, "Parameters": parameters})
            )
        return PartiqlSelectSession(pool)


@dataclass(slots=True)
class PartiqlSelectSession(GetSession):
    def on_success(self, body: bytes) -> int | str:
        return 1 if b'"Items":[{' in body else "ItemMissing"


@dataclass(slots=True)
class PartiqlInsertSession(PutSession):
    def next_request(self) -> bytes:
        pk, sk = self.space.key(self.client_id, self.seq)
        self.seq += 1
        values = item(pk, sk)
        statement = insert_statement(self.table, list(values))
        return self.builder.op(
            "ExecuteStatement", {"Statement": statement, "Parameters": list(values.values())}
        )


@dataclass(frozen=True, slots=True)
class PartiqlInsert:
    """ExecuteStatement INSERT of new items (Put's items, as parameters): a conditional PutItem."""

    builder: RequestBuilder
    table: str
    space: KeySpace

    def session(self, client_id: int) -> PartiqlInsertSession:
        return PartiqlInsertSession(self.builder, self.table, self.space, client_id)

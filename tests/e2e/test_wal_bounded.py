"""The write-ahead log stays bounded under writes that never pause.

The syncer's checkpoints run while the writer commits, so under steady load they never reached the end
of the WAL and it never started over: it grew for as long as the writes went on (7.6 GB while 1M items
were loaded). Past --wal-limit-mb the syncer's next checkpoint runs while the writer waits for its
sync, and the WAL starts over while the writes go on: its header's checkpoint sequence number moves,
and its file keeps the limit's length, so later commits overwrite it in place instead of growing it."""

from __future__ import annotations

import concurrent.futures
import http.client
import itertools
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.server import Server

ITEMS = 40_000
THREADS = 8


def batch_writer(server: Server, table: str) -> Callable[[int], None]:
    def load(start: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        headers = {
            "X-Amz-Target": "DynamoDB_20120810.BatchWriteItem",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": server.authorization,
        }
        try:
            for first in range(start, ITEMS, 25 * THREADS):
                items = [
                    {"PutRequest": {"Item": {"pk": {"S": f"k{i:06d}"}, "pad": {"S": "x" * 300}}}}
                    for i in range(first, min(first + 25, ITEMS))
                ]
                request: dict[str, object] = {"RequestItems": {table: items}}
                while True:
                    conn.request("POST", "/", json.dumps(request), headers)
                    response = conn.getresponse()
                    answer = json.loads(response.read())
                    assert response.status == 200, answer
                    if not answer.get("UnprocessedItems"):
                        break
                    request = {"RequestItems": answer["UnprocessedItems"]}
        finally:
            conn.close()

    return load


def test_the_wal_starts_over_while_writes_go_on(tmp_server: Callable[..., Server]) -> None:
    srv = tmp_server("--wal-limit-mb", "8").start()
    ddb = srv.client("dynamodb")
    ddb.create_table(
        TableName="steady",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    wal = Path(srv.data_dir / "data" / "headwater.db-wal")
    sizes: list[int] = []
    generations: list[bytes] = []  # the WAL header's checkpoint sequence number
    writing = threading.Event()
    writing.set()

    def watch() -> None:
        while writing.is_set():
            try:
                with wal.open("rb") as f:
                    header = f.read(16)
                    sizes.append(f.seek(0, 2))
            except FileNotFoundError:
                pass
            else:
                if len(header) == 16 and (not generations or generations[-1] != header[12:16]):
                    generations.append(header[12:16])
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(batch_writer(srv, "steady"), [25 * t for t in range(THREADS)]))
    finally:
        writing.clear()
        watcher.join()
    peak = max(sizes)
    assert len(generations) > 1, f"the WAL never started over while the writes went on ({peak:,} bytes)"
    assert peak < 200 * 1024 * 1024, f"the WAL reached {peak:,} bytes"
    limit = 8 * 1024 * 1024
    past = list(itertools.dropwhile(lambda size: size < limit, sizes))
    assert past and min(past) >= limit, "the WAL's file was cut back below the limit while writes went on"
    assert ddb.describe_table(TableName="steady")["Table"]["ItemCount"] == ITEMS

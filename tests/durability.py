"""The kill -9 scenario shared by the backends' durability tests: writers that record what was
acknowledged until the server is killed under them."""

from __future__ import annotations

import threading
from typing import Any

from tests.server import Server
from tests.waiting import wait_until


def write_until_killed(
    srv: Server, table: str, *, writers: int = 8, acknowledged_at_least: int = 100
) -> list[str]:
    """Each writer puts a new item, then ADDs 1 to a shared counter; the server is killed with SIGKILL
    once `acknowledged_at_least` puts were acknowledged. Returns the keys whose put was acknowledged
    (each followed by an acknowledged ADD, except possibly the last one per writer)."""
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        client: Any = srv.client("dynamodb")
        i = 0
        while not stop.is_set():
            key = f"w{n}-{i}"
            try:
                client.put_item(TableName=table, Item={"pk": {"S": key}, "n": {"N": str(i)}})
                client.update_item(
                    TableName=table,
                    Key={"pk": {"S": "counter"}},
                    UpdateExpression="ADD hits :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
            except Exception:
                return  # the server died mid-request: not acknowledged
            with lock:
                acknowledged.append(key)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    wait_until(lambda: len(acknowledged) >= acknowledged_at_least, what="acknowledged writes")
    srv.kill()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    return acknowledged

"""A steady write rate whatever the server's latency: each writer sends on a schedule, not as soon as its
last answer came, so a rate of 1,000 writes a second is 1,000 a second on a fast server and a slow one
(a writer behind its schedule sends at once: the rate then falls short, and the caller reports it)."""

from __future__ import annotations

import asyncio
import time

from bench.keys import KeySpace
from bench.wire import Client, Endpoint, now


def key_name(pk: str, sk: int | str) -> str:
    """How a written key is matched with what a stream shows of it."""
    return f"{pk}#{sk}"


async def paced_puts(
    endpoint: Endpoint, table: str, space: KeySpace, rate: float, seconds: float, *, writers: int = 8
) -> dict[str, float]:
    """`rate` PutItems a second for `seconds` from `writers` connections, each a new item of `space`
    stamped with its wall-clock send time (`t`, for a handler to read). Returns each key's send time on
    `now`'s clock."""
    per_writer = int(rate * seconds / writers)
    interval = writers / rate
    sent: dict[str, float] = {}

    async def writer(index: int) -> None:
        client = Client(endpoint)
        try:
            start = now()
            for i in range(per_writer):
                delay = start + i * interval - now()
                if delay > 0:
                    await asyncio.sleep(delay)
                pk, sk = space.key(index, i)
                item = {"pk": {"S": pk}, "sk": {"N": str(sk)}, "t": {"N": repr(time.time())}}
                sent[key_name(pk, sk)] = now()
                await client.call("PutItem", {"TableName": table, "Item": item})
        finally:
            client.close()

    await asyncio.gather(*(writer(i) for i in range(writers)))
    return sent

"""GetItem's point reads, gathered per pass of the event loop and read with one statement.

A read on the loop's thread holds the whole server for a round trip to PostgreSQL; sixteen GetItems
arriving together cost sixteen of them in turn. Gathered, the reads that one pass of the loop asks for
cost one round trip and one statement (a primary-key lookup per key), like the writer's groups.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from headwater.storage.base import ItemKey
from headwater.storage.postgres.group import item_tuple, read_items_statement
from headwater.storage.postgres.locks import ItemTuple

Fetch = Callable[[str, Sequence[Any]], list[Any]]


Waiting = list[tuple[ItemTuple, "asyncio.Future[bytes | None]"]]


class PointReads:
    """`get(key)` is answered at the end of the loop's pass, with every other key asked for in it (on
    the same loop: each loop gathers its own)."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._waiting: dict[asyncio.AbstractEventLoop, Waiting] = {}

    def get(self, key: ItemKey) -> asyncio.Future[bytes | None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes | None] = loop.create_future()
        waiting = self._waiting.get(loop)
        if waiting is None:
            waiting = self._waiting[loop] = []
            loop.call_soon(self._read, loop)
        waiting.append((item_tuple(key), future))
        return future

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting = self._waiting.pop(loop, [])
        try:
            rows = self._fetch(*read_items_statement(k for k, _ in waiting))
        except Exception as exc:  # every reader of this pass gets the error (e.g. PostgreSQL is down)
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        found = {(t, h, pk, sk): item for t, h, pk, sk, item in rows}
        for k, future in waiting:
            if not future.done():
                future.set_result(found.get(k))

"""The running database: storage, catalog, clock and settings, plus the background tasks they need."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..clock import Clock
from ..config import Settings
from ..kinesis.reading import Reader as KinesisReader
from ..kinesis.service import KinesisService
from ..shardlog.secret import IteratorSecret
from ..storage.base import Storage
from ..streams import StreamService
from .catalog import Catalog
from .namespace import Namespace
from .transactions import TokenCache

log = logging.getLogger(__name__)


@dataclass
class Database:
    settings: Settings
    storage: Storage
    clock: Clock
    catalog: Catalog = field(init=False)
    transaction_tokens: TokenCache = field(default_factory=TokenCache, init=False)
    iterator_secret: IteratorSecret = field(init=False)
    streams: StreamService = field(init=False)
    kinesis: KinesisService = field(init=False)
    kinesis_reader: KinesisReader = field(init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.catalog = Catalog(self.storage)
        self.iterator_secret = IteratorSecret(self.storage)
        self.streams = StreamService(self.storage, self.clock, self.settings, self.iterator_secret)
        self.kinesis = KinesisService(self.storage, self.clock, self.settings)
        self.kinesis_reader = KinesisReader(self.kinesis, self.iterator_secret)

    def open(self) -> None:
        self.storage.open()
        self.catalog.load()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.storage.close()

    @property
    def namespace(self) -> Namespace:
        """The server's default account and region (`--account-id`, `--region`)."""
        return Namespace(self.settings.account_id, self.settings.region)

    def scoped(self, namespace: Namespace) -> Database:
        """The database as a request of `namespace` sees it.
        TODO(issue 10, namespaces): every namespace sees the default one's tables still."""
        return self

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def account_id(self) -> str:
        return self.settings.account_id

    def table_arn(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{name}"

    def later(self, delay: float, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action` after `delay` seconds in the background (table status transitions)."""

        async def run() -> None:
            await asyncio.sleep(delay)
            try:
                await action()
            except Exception:
                log.exception("background action failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

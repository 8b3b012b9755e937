"""The running database: storage, catalog, clock and settings, plus the background tasks they need.

A `Database` is one namespace's view (`namespace`): its catalog, streams and Kinesis streams are that
namespace's. The one built at startup is the server's default namespace; `scoped` gives the view of any
other, sharing everything else (storage, clock, locks, caches, background tasks).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..clock import Clock
from ..config import Settings
from ..dax.catalog import DaxCatalog
from ..dax.runtime import DaxRuntime
from ..kinesis.reading import Reader as KinesisReader
from ..kinesis.service import KinesisService
from ..model.namespace import Namespace
from ..shardlog.secret import IteratorSecret
from ..storage.base import Storage
from ..streams import StreamService
from .catalog import Catalog
from .progress import Progress
from .throughput import Limiter
from .transactions import TokenCache
from .usage import UsageMeter

log = logging.getLogger(__name__)

MAX_VIEWS = 1024  # namespaces' views kept at once (each is a handful of small objects, rebuilt at will)


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
    namespace: Namespace = field(init=False)
    dax: DaxCatalog = field(init=False)  # the namespace's DAX clusters, parameter and subnet groups
    dax_runtime: DaxRuntime = field(init=False)  # every namespace's DAX listeners (shared by the views)
    # ARNs of the backups restores are reading (shared by every namespace's view, as the lock is)
    backups_in_use: set[str] = field(default_factory=set, init=False)
    # what the workload consumes, per table (`--meter-usage`, `--enforce-capacity`): shared by every view
    usage: UsageMeter | None = field(default=None, init=False)
    # the throughput buckets (`--enforce-capacity`): DescribeTable reads the warm throughput traffic gave
    limiter: Limiter | None = field(default=None, init=False)
    # long jobs' progress for /metrics (shared by every namespace's view too)
    progress: Progress = field(default_factory=Progress, init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    _views: dict[Namespace, Database] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.namespace = Namespace(self.settings.account_id, self.settings.region)
        self.catalog = Catalog(self.storage, self.namespace)
        self.iterator_secret = IteratorSecret(self.storage)
        self.streams = StreamService(
            self.storage, self.clock, self.settings, self.iterator_secret, self.namespace
        )
        self.kinesis = KinesisService(self.storage, self.clock, self.settings, self.namespace)
        self.kinesis_reader = KinesisReader(self.kinesis, self.iterator_secret)
        self.dax = DaxCatalog(self.storage, self.namespace)
        self.dax_runtime = DaxRuntime(self.settings.host)
        self._views[self.namespace] = self

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
    def default_namespace(self) -> Namespace:
        """The server's default account and region (`--account-id`, `--region`)."""
        return Namespace(self.settings.account_id, self.settings.region)

    def scoped(self, namespace: Namespace) -> Database:
        """The database as a request of `namespace` sees it: a view made once and kept (a dictionary
        look-up per request)."""
        if namespace is self.namespace:  # the server's default, as http/identity.py hands it over
            return self
        view = self._views.get(namespace)
        if view is None:
            view = self._view(namespace)
        return view

    def _view(self, namespace: Namespace) -> Database:
        views = self._views
        if len(views) >= MAX_VIEWS:  # client-chosen regions must not grow this without bound
            for stale in [ns for ns in views if ns != self.default_namespace][: MAX_VIEWS // 2]:
                del views[stale]
        view = copy.copy(self)  # shares storage, clock, settings, locks, caches and background tasks
        view.namespace = namespace
        view.catalog = self.catalog.scoped(namespace)
        view.streams = self.streams.scoped(namespace)
        view.kinesis = self.kinesis.scoped(namespace)
        view.kinesis_reader = KinesisReader(view.kinesis, self.iterator_secret)
        view.dax = DaxCatalog(self.storage, namespace)
        views[namespace] = view
        return view

    @property
    def region(self) -> str:
        return self.namespace.region

    @property
    def account_id(self) -> str:
        return self.namespace.account

    def later(self, delay: float, action: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run `action` after `delay` seconds in the background (table status transitions); the task is
        returned for a caller that wants to wait a while for it."""

        async def run() -> None:
            await asyncio.sleep(delay)
            try:
                await action()
            except Exception:
                log.exception("background action failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

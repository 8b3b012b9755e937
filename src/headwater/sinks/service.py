"""The sinks of a server: added, listed, removed and reported on; one runner task each. Owned by the
composition root (`start()` on startup, `stop()` on shutdown), like the trigger service."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from typing import Any

from ..consumer import CallTransport
from ..errors import ResourceInUseException, ResourceNotFoundException, ValidationException
from ..triggers.state import StateStore, Tables
from .model import CHECKPOINT_KIND, SINK_KIND, SinkConfig
from .nats import NatsPublisher, Publisher
from .runner import SinkRunner

_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
_SUBJECT = re.compile(r"[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*")

PublisherFactory = Callable[[SinkConfig], Publisher]


def nats_publisher(config: SinkConfig) -> Publisher:
    stream = re.sub(r"[^A-Za-z0-9_-]", "_", f"headwater_{config.name}")
    return NatsPublisher(config.nats_url, stream)


class SinkService:
    def __init__(
        self,
        *,
        transport: CallTransport,
        state: StateStore,
        tables: Tables,
        publisher: PublisherFactory = nats_publisher,
        poll_interval: float = 0.25,
    ) -> None:
        self.transport = transport
        self.state = state
        self.tables = tables
        self.publisher = publisher
        self.poll_interval = poll_interval
        self.sinks: dict[str, SinkConfig] = {}
        self._runners: dict[str, tuple[SinkRunner, asyncio.Task[None]]] = {}
        self._lock = asyncio.Lock()
        # runs its sinks: with several nodes on one database, only the node holding the background lease
        self.leading = True

    async def start(self, declared: list[dict[str, Any]] | None = None) -> None:
        for _, doc in await self.state.list(SINK_KIND):
            config = SinkConfig.from_doc(doc)
            self.sinks[config.name] = config
            self._start(config)
        for entry in declared or ():
            await self.add(entry, replace=True)

    async def stop(self) -> None:
        for name in list(self._runners):
            await self._stop(name)

    async def lead(self) -> None:
        """This node holds the background lease now: run every stored sink."""
        self.leading = True
        await self.resync()

    async def follow(self) -> None:
        """Another node runs the sinks."""
        self.leading = False
        await self.stop()

    async def resync(self) -> None:
        """The sinks as stored (another node may have added or removed one), runners to match."""
        async with self._lock:
            configs = [SinkConfig.from_doc(doc) for _, doc in await self.state.list(SINK_KIND)]
            stored = {config.name: config for config in configs}
            for name in list(self.sinks):
                if stored.get(name) != self.sinks[name]:
                    await self._stop(name)
                    del self.sinks[name]
            for name, config in stored.items():
                if name not in self.sinks:
                    self.sinks[name] = config
                if name not in self._runners:
                    self._start(config)

    def _start(self, config: SinkConfig) -> None:
        if not self.leading:
            return
        runner = SinkRunner(
            config,
            transport=self.transport,
            state=self.state,
            publisher=self.publisher(config),
            poll_interval=self.poll_interval,
        )
        task = asyncio.get_running_loop().create_task(runner.run(), name=f"sink-{config.name}")
        self._runners[config.name] = (runner, task)

    async def _stop(self, name: str) -> None:
        entry = self._runners.pop(name, None)
        if entry is not None:
            entry[1].cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await entry[1]

    async def add(self, request: dict[str, Any], *, replace: bool = False) -> SinkConfig:
        table = request.get("TableName")
        url = request.get("Nats")
        subject = request.get("Subject")
        if not isinstance(table, str) or not table:
            raise ValidationException("TableName is required")
        if not isinstance(url, str) or not url.startswith(("nats://", "tls://")):
            raise ValidationException("Nats must be a nats:// URL")
        if not isinstance(subject, str) or _SUBJECT.fullmatch(subject) is None:
            raise ValidationException("Subject must be a NATS subject without wildcards, e.g. orders.changes")
        name = request.get("Name") or f"{table}-{subject}"
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:
            raise ValidationException("Name must be 1 to 200 characters of [A-Za-z0-9_.:-]")
        description = await self.tables.describe_table(table)
        if description is None:
            raise ResourceNotFoundException(f"Requested resource not found: Table: {table} not found")
        arn = description.get("LatestStreamArn")
        if not arn or not description.get("StreamSpecification", {}).get("StreamEnabled"):
            raise ValidationException(f"Table {table} has no enabled stream: enable one to add a sink")
        config = SinkConfig(name, table, str(arn), url, subject, time.time())
        async with self._lock:
            existing = self.sinks.get(name)
            if existing is not None:
                same = (existing.table, existing.nats_url, existing.subject) == (table, url, subject)
                if same:
                    return existing
                if not replace:
                    raise ResourceInUseException(f"Sink {name} already exists")
                await self._remove(name)
            await self.state.put(SINK_KIND, name, config.to_doc())
            self.sinks[name] = config
            self._start(config)
        return config

    async def remove(self, name: str) -> SinkConfig:
        async with self._lock:
            return await self._remove(name)

    async def _remove(self, name: str) -> SinkConfig:
        config = self.require(name)
        await self._stop(name)
        await self.state.delete(SINK_KIND, name)
        for key, _ in await self.state.list(CHECKPOINT_KIND):
            if key.startswith(name + "/"):
                await self.state.delete(CHECKPOINT_KIND, key)
        del self.sinks[name]
        return config

    def require(self, name: Any) -> SinkConfig:
        config = self.sinks.get(name) if isinstance(name, str) else None
        if config is None:
            raise ResourceNotFoundException(f"Sink {name} not found")
        return config

    def status(self, config: SinkConfig) -> dict[str, Any]:
        out = config.to_wire()
        entry = self._runners.get(config.name)
        if entry is not None:
            stats = entry[0].stats
            out.update(
                Published=stats.published,
                LastSequenceNumber=stats.last_sequence,
                LagSeconds=round(stats.lag_seconds(time.time()), 3),
                LastError=stats.last_error,
                Running=not entry[1].done(),
            )
        return out

"""Composition root: settings -> storage -> database -> the node that owns the writer (or a front's reader
database) -> the HTTP application."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any, cast

from prometheus_client.exposition import generate_latest

from .access import Access, load_access
from .api.context import Handler
from .api.dax._clusters import restore as restore_dax_clusters
from .api.metered import metered
from .api.registry import operations
from .auth.sigv4 import SigV4Verifier
from .background import Background
from .clock import Clock, SystemClock
from .config import Settings
from .console import build_console
from .core import backups, jobs, pitr, table_restore
from .core.database import Database
from .core.throughput import Limiter
from .core.ttl import run_sweeper
from .core.usage import UsageMeter
from .dax.auth import DaxAuthenticator
from .dax.server import DaxServer
from .http.admin_routes import AdminRoutes
from .http.app import Calls, HeadwaterApp, Route
from .http.authorize import Authorizer
from .http.calls import LocalCalls
from .http.control import ControlRoutes
from .http.control_auth import ControlAuth
from .http.cross_site import CrossSiteGuard
from .http.gate import Gate, OpenGate, SigV4Gate
from .http.lambda_routes import NamespacedLambdaRoutes
from .metrics.collector import Sources, registry
from .metrics.requests import FrontTotals, RequestCounts
from .process.signal_board import SignalBoard
from .replication.service import ReplicationService
from .shardlog import retention
from .shardlog.retention import Retained
from .sinks.service import SinkService
from .storage.base import Storage
from .storage.sqlite import SqliteStorage, Synchronous
from .streams.background import retained, run_rollover
from .trigger_host import RoleReaders, build_replication_service, build_sink_service, build_trigger_services
from .triggers.namespaces import TriggerServices
from .upgrade import upgrade

log = logging.getLogger(__name__)

POSTGRES_SWITCH_INTERVAL = 0.0005  # seconds


def build_storage(settings: Settings) -> Storage:
    if settings.storage_url is not None:
        if not settings.storage_url.startswith(("postgresql://", "postgres://")):
            raise ValueError("--storage-url must be a postgresql:// URL")
        from .storage.postgres import PostgresStorage  # psycopg is the optional `postgres` extra

        # The writer thread waits on PostgreSQL three times a group and then needs the interpreter lock
        # back from a busy event loop, which keeps it for up to the switch interval (5 ms): a group's
        # first read took 5-8 ms under load instead of 1-2 (docs/architecture.md, PostgreSQL).
        sys.setswitchinterval(POSTGRES_SWITCH_INTERVAL)
        return PostgresStorage(settings.storage_url)
    sync = cast(Synchronous, settings.sync_mode.upper())
    # the writer commits on the event loop of the process that opens the storage (Node.start)
    if settings.in_memory:
        return SqliteStorage(None, synchronous=sync, on_loop=True)
    return SqliteStorage.in_data_dir(
        settings.data_dir, synchronous=sync, on_loop=True, wal_limit_mb=settings.wal_limit_mb
    )


def build_database(settings: Settings, clock: Clock | None = None) -> Database:
    return Database(settings=settings, storage=build_storage(settings), clock=clock or SystemClock())


async def start_workers(db: Database, workers: list[asyncio.Task[None]]) -> None:
    """Shard rollover, retention, the TTL sweeper and point-in-time recovery's folds: the background work
    of the node holding the lease (background.py)."""
    streams = db.streams
    settings = db.settings
    workers.append(asyncio.create_task(run_rollover(streams, settings.shard_rollover_seconds)))
    seconds = settings.stream_retention_seconds
    sources: list[retention.Source] = [
        lambda: retained(streams, seconds, db.clock.now()),
        lambda: [Retained(doc.stream_id, doc.retention_seconds) for doc in db.kinesis.every_stream()],
    ]
    every = retention.tick(seconds, 60.0)
    workers.append(asyncio.create_task(retention.run(db.storage, sources, db.clock.now, every)))
    workers.append(asyncio.create_task(run_sweeper(db, settings.ttl_sweep_interval)))
    workers.append(asyncio.create_task(pitr.run_folder(db, settings.pitr_fold_seconds)))


async def drop_unfinished(db: Database) -> None:
    """Backups, restores, recovery bases and jobs cut short by the last stop: never usable. Only by a node
    that starts alone (another node running may be taking them)."""
    await backups.drop_unfinished(db)
    await table_restore.drop_unfinished(db)
    await pitr.drop_unfinished(db)
    await jobs.fail_unfinished(db)


async def stop_workers(workers: list[asyncio.Task[None]]) -> None:
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    workers.clear()


def declared_sinks(settings: Settings) -> list[dict[str, Any]]:
    """The sinks of `--sinks-config` (JSON: {"sinks": [{"TableName", "Nats", "Subject", "Name"?}]})."""
    if settings.sinks_config is None:
        return []
    doc = json.loads(settings.sinks_config.read_text())
    sinks = doc.get("sinks", []) if isinstance(doc, dict) else []
    if not isinstance(sinks, list) or not all(isinstance(s, dict) for s in sinks):
        raise ValueError(f'{settings.sinks_config}: expected {{"sinks": [{{...}}, ...]}}')
    return sinks


@dataclass(frozen=True, slots=True)
class Security:
    """Who is asking (the gate) and may they (the authorizer, None with `--auth off`): one of each per
    process that answers HTTP, built from the same credentials file."""

    access: Access
    gate: Gate
    authorizer: Authorizer | None

    def app(
        self,
        calls: Calls,
        control: Route | None,
        health: bytes,
        db: Database,
        counts: RequestCounts,
        console: Route | None = None,
    ) -> HeadwaterApp:
        """The HTTP application of this process: main's cross-site guard first on the Lambda and admin
        routes, then this gate and authorizer; its requests counted in `counts`; `console` at /console/."""
        guard = CrossSiteGuard(loopback_only=db.settings.loopback_only)
        gate, authorizer = self.gate, self.authorizer
        return HeadwaterApp(
            calls,
            control,
            health,
            db.namespace,
            guard,
            gate=gate,
            authorization=authorizer,
            counts=counts,
            console=console,
        )


def build_security(db: Database, access: Access | None = None) -> Security:
    """Refuses to start (StartRefused) when the settings are unsafe; see access.py."""
    access = access or load_access(db.settings)
    if access.config is None:
        return Security(access, OpenGate(db.namespace), None)
    gate = SigV4Gate(SigV4Verifier(access.config.key_ring(), db.clock), db.clock, db.namespace)
    return Security(access, gate, Authorizer(db))


@dataclass
class Node:
    """The process that owns the single writer: the database, what runs beside it (triggers, sinks,
    rollover, retention, TTL), and how it answers API calls and the Lambda and admin routes."""

    settings: Settings
    db: Database
    calls: LocalCalls
    control: ControlRoutes
    triggers: TriggerServices
    sinks: SinkService
    security: Security
    counts: RequestCounts  # the requests this process answers (with fronts: only the control routes)
    fronts: FrontTotals  # the fronts' counts, as they send them
    replication: ReplicationService | None = None
    workers: list[asyncio.Task[None]] = field(default_factory=list)  # the lease holder's background work
    background: Background | None = None
    own: list[asyncio.Task[None]] = field(default_factory=list)  # every node's: its usage counts

    async def start(self) -> None:
        self.db.open()
        alone = self.db.storage.started_alone()
        await upgrade(self.db.storage, self.db.namespace)  # data from before namespaces: the default's
        await self.db.streams.start()  # the iterator secret
        if alone:
            await drop_unfinished(self.db)
        if self.db.usage is not None:  # this node's own requests' units
            self.own.append(asyncio.create_task(self.db.usage.run(self.db.catalog.every_table)))
        # every node answers the Lambda and admin calls; mappings and sinks run where the lease is
        self.triggers.leading = self.sinks.leading = False
        await restore_dax_clusters(self.db)  # every node serves the DAX clusters' listeners
        await self.triggers.start()
        await self.sinks.start(declared_sinks(self.settings))
        lease = self.db.storage.background_lease()
        self.background = Background(lease, self._lead, self._follow, self._resync)
        await self.background.start()

    async def _lead(self) -> None:
        await start_workers(self.db, self.workers)
        await self.triggers.lead()
        await self.sinks.lead()
        if self.replication is not None:
            await self.replication.start()

    async def _follow(self) -> None:
        if self.replication is not None:
            await self.replication.stop()
        await self.sinks.follow()
        await self.triggers.follow()
        await stop_workers(self.workers)

    async def _resync(self) -> None:
        """Functions, mappings and sinks other nodes changed (with several nodes on one database)."""
        await self.triggers.resync()
        await self.sinks.resync()

    async def stop(self) -> None:
        stats = getattr(self.db.storage, "stats", None)
        if stats is not None:
            log.info("writer: %s", stats)
        if self.background is not None:
            await self.background.stop()  # the lease's work first
        await self.sinks.stop()
        await self.triggers.stop()
        await stop_workers(self.workers)
        await stop_workers(self.own)
        if self.db.usage is not None:
            await self.db.usage.flush(self.db.catalog.every_table())
        await self.db.dax_runtime.close_all()
        await self.db.close()
        log.info("Headwater stopped")

    def publish_to(self, board: SignalBoard) -> None:
        """Tell front processes about catalog changes: the board's version moves after every commit that
        changed a table definition, before the change is acknowledged."""
        self.db.storage.on_catalog_change(board.bump_catalog)

    def listening(self, how: str) -> None:
        settings = self.settings
        where = "memory" if settings.in_memory else settings.database_path
        if settings.storage_url is not None:
            where = "PostgreSQL"
        log.info(
            "Headwater listening on %s://%s (%s; data in %s)",
            settings.scheme,
            settings.endpoint_address,
            how,
            where,
        )


def build_node(settings: Settings, clock: Clock | None = None) -> Node:
    access = load_access(settings)  # first: a server that must not start opens nothing
    db = build_database(settings, clock)
    security = build_security(db, access)
    config, authorizer = access.config, security.authorizer
    roles = RoleReaders(authorizer, config) if config is not None and authorizer is not None else None
    triggers = build_trigger_services(db, roles)
    sinks = build_sink_service(db)
    replication = build_replication_service(db)
    auth = ControlAuth(security.gate, config, db.clock) if config is not None else None
    counts, fronts = RequestCounts(), FrontTotals()
    metrics = registry(Sources(counts, fronts, db, triggers, replication))
    control = ControlRoutes(
        NamespacedLambdaRoutes(triggers),
        AdminRoutes(db, sinks, replication),
        auth,
        lambda: generate_latest(metrics),
        metrics_public=settings.metrics_public,
        counts=counts,
    )
    handlers = metered_handlers(db, operations())
    calls = LocalCalls(db, handlers)
    serve_dax(db, access, security.authorizer, handlers)  # DAX's requests are throttled and counted too
    return Node(settings, db, calls, control, triggers, sinks, security, counts, fronts, replication)


def metered_handlers(
    db: Database, handlers: dict[tuple[str, str], Handler]
) -> dict[tuple[str, str], Handler]:
    """The item operations throttled (--enforce-capacity) and counted (--meter-usage, or throttled); as
    they are otherwise (no work added to a request)."""
    settings = db.settings
    limiter = Limiter(db.clock) if settings.enforce_capacity else None
    db.limiter = limiter
    if settings.enforce_capacity or settings.meter_usage:
        db.usage = UsageMeter(db.storage, db.clock)
    if limiter is None and db.usage is None:
        return handlers
    return metered(handlers, limiter, db.usage)


def serve_dax(
    db: Database, access: Access, authorizer: Authorizer | None, handlers: dict[tuple[str, str], Handler]
) -> None:
    """The DAX clusters' listeners answer with the data plane, which authenticates as the HTTP gate does."""
    verifier = SigV4Verifier(access.config.key_ring(), db.clock) if access.config is not None else None
    server = DaxServer(
        db,
        handlers,
        DaxAuthenticator(verifier, db.clock) if verifier is not None else None,
        authorizer,
        db.settings.dax_cache_bytes,
    )
    db.dax_runtime.handler = server.serve


def build_reader_database(settings: Settings, board_path: str) -> Database:
    """A front process's database: read connections only; the catalog is read again whenever the core's
    board says it changed."""
    board = SignalBoard(board_path, create=False)
    if settings.storage_url is not None:
        from .storage.postgres import PostgresStorage

        storage: Storage = PostgresStorage(
            settings.storage_url, catalog_version=lambda: board.catalog_version
        )
    else:
        storage = SqliteStorage.reader(settings.data_dir, catalog_version=lambda: board.catalog_version)
    return Database(settings=settings, storage=storage, clock=SystemClock())


def build_app(settings: Settings, clock: Clock | None = None) -> tuple[HeadwaterApp, Node]:
    """The HTTP application of one process that does everything (embedding, tests): start the node before
    serving the app, stop it after."""
    node = build_node(settings, clock)
    health = f"healthy: {settings.endpoint_address} ".encode()
    console = build_console(settings)
    return node.security.app(node.calls, node.control, health, node.db, node.counts, console), node

"""Composition root: settings -> storage -> database -> HTTP app (and, later, background workers)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, cast

from .api.registry import operations
from .clock import Clock, SystemClock
from .config import Settings
from .core.database import Database
from .core.ttl import run_sweeper
from .http.admin_routes import AdminRoutes
from .http.app import HeadwaterApp
from .http.catch_all import CatchAll
from .http.lambda_routes import LambdaRoutes
from .shardlog import retention
from .shardlog.retention import Retained
from .storage.base import Storage
from .storage.sqlite import SqliteStorage, Synchronous
from .streams.background import retained, run_rollover
from .trigger_host import build_sink_service, build_trigger_service

log = logging.getLogger(__name__)


def build_storage(settings: Settings) -> Storage:
    if settings.storage_url is not None:
        if not settings.storage_url.startswith(("postgresql://", "postgres://")):
            raise ValueError("--storage-url must be a postgresql:// URL")
        from .storage.postgres import PostgresStorage  # psycopg is the optional `postgres` extra

        return PostgresStorage(settings.storage_url)
    sync = cast(Synchronous, settings.sync_mode.upper())
    if settings.in_memory:
        return SqliteStorage(None, synchronous=sync)
    return SqliteStorage.in_data_dir(settings.data_dir, synchronous=sync)


def build_database(settings: Settings, clock: Clock | None = None) -> Database:
    return Database(settings=settings, storage=build_storage(settings), clock=clock or SystemClock())


async def start_workers(db: Database, workers: list[asyncio.Task[None]]) -> None:
    """Streams (iterator secret, shard rollover, retention) and the TTL sweeper."""
    streams = db.streams
    await streams.start()
    settings = db.settings
    workers.append(asyncio.create_task(run_rollover(streams, settings.shard_rollover_seconds)))
    seconds = settings.stream_retention_seconds
    sources: list[retention.Source] = [
        lambda: retained(streams, seconds, db.clock.now()),
        lambda: [Retained(doc.stream_id, doc.retention_seconds) for doc in db.kinesis.docs()],
    ]
    every = retention.tick(seconds, 60.0)
    workers.append(asyncio.create_task(retention.run(db.storage, sources, db.clock.now, every)))
    workers.append(asyncio.create_task(run_sweeper(db, settings.ttl_sweep_interval)))


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


def build_app(settings: Settings, clock: Clock | None = None) -> CatchAll:
    """The ASGI app; the database opens on lifespan startup and closes on shutdown."""
    db = build_database(settings, clock)

    workers: list[asyncio.Task[None]] = []
    triggers = build_trigger_service(db)
    sinks = build_sink_service(db)

    async def startup() -> None:
        db.open()
        await start_workers(db, workers)
        await triggers.start()
        await sinks.start(declared_sinks(settings))
        where = "memory" if settings.in_memory else settings.database_path
        if settings.storage_url is not None:
            where = "PostgreSQL"
        log.info("Headwater listening on http://%s (data in %s)", settings.endpoint_address, where)

    async def shutdown() -> None:
        await sinks.stop()
        await triggers.stop()
        await stop_workers(workers)
        await db.close()
        log.info("Headwater stopped")

    return CatchAll(
        HeadwaterApp(
            db,
            operations(),
            on_startup=startup,
            on_shutdown=shutdown,
            lambda_routes=LambdaRoutes(triggers),
            admin_routes=AdminRoutes(db, sinks),
        )
    )

"""Composition-root wiring for triggers and sinks: the metadata-backed StateStore, table access for on-failure
destinations, and the in-process Streams transport (triggers never import storage or api)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from .api.dynamodb import describe_table, put_item
from .api.registry import KINESIS_OPERATIONS, STREAMS_OPERATIONS
from .config import Settings
from .consumer import InProcessTransport
from .core.catalog import MetaOp
from .core.database import Database
from .errors import ResourceNotFoundException
from .sinks.service import SinkService
from .storage.base import MetaWrite
from .triggers import code
from .triggers.esm import RunnerSettings
from .triggers.pool import PoolLimits
from .triggers.service import TriggerService
from .triggers.settings import TriggerSettings
from .triggers.state import Doc
from .triggers.worker_process import WORKER_SCRIPT
from .triggers.worker_user import WorkerUser, check_worker_user


class MetaStateStore:
    """Documents stored as storage metadata, written through the single writer."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, kind: str, key: str) -> Doc | None:
        raw = self._db.storage.meta_get(kind, key)
        return orjson.loads(raw) if raw is not None else None

    async def put(self, kind: str, key: str, doc: Doc) -> None:
        await self._db.storage.write(MetaOp((MetaWrite(kind, key, orjson.dumps(doc)),)))

    async def delete(self, kind: str, key: str) -> None:
        await self._db.storage.write(MetaOp((MetaWrite(kind, key, None),)))

    async def list(self, kind: str) -> list[tuple[str, Doc]]:
        return [(key, orjson.loads(raw)) for key, raw in self._db.storage.meta_list(kind)]


class DatabaseTables:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def describe_table(self, name: str) -> Doc | None:
        try:
            response: dict[str, Any] = await describe_table.handle(self._db, {"TableName": name})
        except ResourceNotFoundException:
            return None
        table: Doc = response["Table"]
        return table

    async def put_item(self, request: Doc) -> None:
        await put_item.handle(self._db, request)


def prepare_worker_user(settings: Settings, state_dir: Path | None = None) -> WorkerUser | None:
    """`--worker-user`, before the server starts: ValueError unless the user exists and can reach what
    handlers need. The trigger state directory (and the data directory above it) can then be passed
    through by that user, never listed; the server's own files (the database, logs) are private, as the
    server runs with umask 077 (`cli.serve`), and unpacked code is made readable (code.share)."""
    if settings.worker_user is None:
        return None
    WorkerUser.resolve(settings.worker_user)  # a user that cannot be used changes nothing on disk
    if state_dir is None:
        if settings.in_memory:  # a temporary directory made later
            return check_worker_user(settings.worker_user, None, WORKER_SCRIPT, _python(settings))
        state_dir = settings.data_dir / "triggers"
    state_dir.mkdir(parents=True, exist_ok=True)
    code.traversable(state_dir if settings.in_memory else settings.data_dir, state_dir)
    return check_worker_user(settings.worker_user, state_dir, WORKER_SCRIPT, _python(settings))


def _python(settings: Settings) -> str:
    return settings.worker_python or sys.executable


def build_trigger_service(db: Database) -> TriggerService:
    settings = db.settings
    if settings.in_memory:
        state_dir = Path(tempfile.mkdtemp(prefix="headwater-triggers-"))
    else:
        state_dir = settings.data_dir / "triggers"
    user = prepare_worker_user(settings, state_dir)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    poll = settings.trigger_poll_interval
    return TriggerService(
        TriggerSettings(
            region=settings.region,
            account_id=settings.account_id,
            state_dir=state_dir,
            endpoint_url=f"{settings.scheme}://{host}:{settings.port}",
            runner=RunnerSettings(poll_interval=poll, retry_delay=min(0.25, poll * 4)),
            allowed_code_dirs=tuple(Path(os.path.realpath(p)) for p in settings.allow_code_dirs),
            pool=PoolLimits(settings.max_workers, settings.worker_idle_timeout),
            concurrency_limit=settings.concurrency_limit,
            worker_user=user,
            python=_python(settings),
        ),
        transport=InProcessTransport(db, STREAMS_OPERATIONS),
        kinesis=InProcessTransport(db, KINESIS_OPERATIONS),
        state=MetaStateStore(db),
        tables=DatabaseTables(db),
        clock=db.clock,
        commits=db.storage,
    )


def build_sink_service(db: Database) -> SinkService:
    """Sinks read tables' streams in-process and keep their checkpoints as metadata, like triggers."""
    return SinkService(
        transport=InProcessTransport(db, STREAMS_OPERATIONS),
        state=MetaStateStore(db),
        tables=DatabaseTables(db),
        poll_interval=db.settings.trigger_poll_interval,
    )

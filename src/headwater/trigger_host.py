"""Composition-root wiring for triggers and sinks: the metadata-backed StateStore, table access for on-failure
destinations, and the in-process Streams transports (triggers never import storage or api).

Triggers live per namespace (triggers/namespaces.py): each namespace's service reads streams, keeps its
state and finds its tables as a client of that account and region. Sinks are the server's own: each
reads its stream in the stream's namespace."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from .api.dynamodb import describe_table, put_item
from .api.registry import KINESIS_OPERATIONS, STREAMS_OPERATIONS
from .auth.config import AuthConfig
from .config import Settings
from .consumer import CallTransport, InProcessTransport, StreamsError
from .consumer.transport import Wire
from .core.catalog import MetaOp
from .core.database import Database
from .errors import DynamoDBError, ResourceNotFoundException, ValidationException
from .http.authorize import Authorizer
from .http.control_auth import ROLE_NOT_ASSUMABLE
from .http.gate import Caller
from .model.namespace import Namespace, arn_namespace
from .replication.service import ReplicationService
from .sinks.service import SinkService
from .storage.base import MetaWrite
from .streams.iterators import iterator_arn
from .triggers import code
from .triggers.esm import RunnerSettings
from .triggers.namespaces import TriggerServices
from .triggers.pool import PoolLimits, ProcessBudget
from .triggers.service import TriggerService
from .triggers.settings import TriggerSettings
from .triggers.sources import is_kinesis
from .triggers.state import Doc, ScopedStateStore
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


class MetaPackages:
    """Uploaded function packages as storage metadata (kind `lambda.package`), where every node on the
    database finds them."""

    KIND = "lambda.package"

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, key: str, data: bytes) -> None:
        await self._db.storage.write(MetaOp((MetaWrite(self.KIND, key, data),)))

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._db.storage.meta_get, self.KIND, key)

    async def delete(self, key: str) -> None:
        await self._db.storage.write(MetaOp((MetaWrite(self.KIND, key, None),)))


class DatabaseTables:
    """Tables for the server's own use (on-failure destinations, sinks): by name in `db`'s namespace, or by
    ARN in the ARN's account and region."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _for(self, name: str) -> Database:
        namespace = arn_namespace(name) if name.startswith("arn:") else None
        return self._db.scoped(namespace) if namespace is not None else self._db

    async def describe_table(self, name: str) -> Doc | None:
        try:
            response: dict[str, Any] = await describe_table.handle(self._for(name), {"TableName": name})
        except (ResourceNotFoundException, ValidationException):  # no such table, or a malformed ARN
            return None
        table: Doc = response["Table"]
        return table

    async def put_item(self, request: Doc) -> None:
        await put_item.handle(self._for(str(request["TableName"])), request)


def prepare_worker_user(settings: Settings, state_dir: Path | None = None) -> WorkerUser | None:
    """`--worker-user`, before the server starts: ValueError unless the user exists and can reach what
    handlers need. The trigger state directory (and the data directory above it) can then be passed
    through by that user, never listed; the server's own files (the database, logs) are private, as the
    server runs with umask 077 (`commands/serve.py`), and unpacked code is made readable (code.share)."""
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


class StreamsByArn:
    """In-process DynamoDB Streams calls, each answered in the namespace of the stream it names (its
    StreamArn, or the ARN its shard iterator was issued for), as a client of that account and region
    would ask them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def call(self, operation: str, request: Wire) -> Wire:
        arn = request.get("StreamArn")
        if not isinstance(arn, str):
            iterator = request.get("ShardIterator")
            arn = iterator_arn(iterator) if isinstance(iterator, str) else None
        namespace = arn_namespace(arn) if arn is not None else None
        db = self._db.scoped(namespace) if namespace is not None else self._db
        return await InProcessTransport(db, STREAMS_OPERATIONS).call(operation, request)

    async def close(self) -> None:
        return None


def build_trigger_services(db: Database, roles: RoleReaders | None = None) -> TriggerServices:
    """`roles` (`--auth sigv4`): every namespace's mappings read as their function's role, in the function's
    namespace, and its handlers run with the role's credentials."""
    settings = db.settings
    if settings.in_memory:
        state_dir = Path(tempfile.mkdtemp(prefix="headwater-triggers-"))
    else:
        state_dir = settings.data_dir / "triggers"
    user = prepare_worker_user(settings, state_dir)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    poll = settings.trigger_poll_interval
    store = MetaStateStore(db)
    # on PostgreSQL several nodes may share the database: each must run packages uploaded through another
    packages = MetaPackages(db) if settings.storage_url is not None else None
    limits = PoolLimits(settings.max_workers, settings.worker_idle_timeout)
    budget = ProcessBudget(limits.max_workers)  # --max-workers counts every namespace's processes

    def make(namespace: Namespace) -> TriggerService:
        scoped = db.scoped(namespace)
        namespace_dir = state_dir / namespace.account / namespace.region
        if user is not None:  # handlers running as that user pass through to their code
            namespace_dir.mkdir(parents=True, exist_ok=True)
            code.traversable(state_dir, namespace_dir)
        return TriggerService(
            TriggerSettings(
                region=namespace.region,
                account_id=namespace.account,
                state_dir=namespace_dir,
                endpoint_url=f"{settings.scheme}://{host}:{settings.port}",
                runner=RunnerSettings(poll_interval=poll, retry_delay=min(0.25, poll * 4)),
                allowed_code_dirs=tuple(Path(os.path.realpath(p)) for p in settings.allow_code_dirs),
                pool=limits,
                concurrency_limit=settings.concurrency_limit,
                worker_user=user,
                python=_python(settings),
            ),
            transport=InProcessTransport(scoped, STREAMS_OPERATIONS),
            kinesis=InProcessTransport(scoped, KINESIS_OPERATIONS),
            state=ScopedStateStore(store, namespace.prefix),
            tables=DatabaseTables(scoped),
            clock=db.clock,
            commits=db.storage,
            budget=budget,
            roles=roles.scoped(namespace) if roles is not None else None,
            packages=packages,
        )

    return TriggerServices(db.namespace, make, store)


def build_sink_service(db: Database) -> SinkService:
    """Sinks read tables' streams in-process and keep their checkpoints as metadata, like triggers."""
    return SinkService(
        transport=StreamsByArn(db),
        state=MetaStateStore(db),
        tables=DatabaseTables(db),
        poll_interval=db.settings.trigger_poll_interval,
    )


def build_replication_service(db: Database) -> ReplicationService:
    """Global tables: links read other regions' streams in-process and checkpoint as metadata."""
    return ReplicationService(db, transport=StreamsByArn(db))


class RoleReaders:
    """Event source mappings read their stream as their function's role (`--auth sigv4`): every call the
    runner makes is authorized by that role's policies and the stream's resource policy, through the same
    Authorizer as a client's request. A role that may not read the stream stops the mapping at creation
    (InvalidParameterValueException) or, if it loses access later, shows in its LastProcessingResult.
    Each namespace's trigger service has its own `scoped` view: the role acts in the function's namespace."""

    def __init__(
        self,
        authorizer: Authorizer,
        config: AuthConfig,
        namespace: Namespace | None = None,
        environments: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.authorizer = authorizer
        self.config = config
        self.namespace = namespace  # the functions' (None: the role's account, the stream's region)
        self._environments = environments if environments is not None else {}

    def scoped(self, namespace: Namespace) -> RoleReaders:
        """The same roles for the functions of `namespace` (the credentials made once for all)."""
        return RoleReaders(self.authorizer, self.config, namespace, self._environments)

    def caller(self, role: str, function: str, source_arn: str) -> Caller | None:
        found = self.config.role_by_arn(role)
        if found is None:
            return None
        namespace = self.namespace
        if namespace is None:
            region = source_arn.split(":")[3] if source_arn.count(":") >= 5 else ""
            namespace = Namespace(found.account, region)
        return Caller(namespace, found.session(function))

    def refusal(self, role: str, function: str, source_arn: str) -> str | None:
        caller = self.caller(role, function, source_arn)
        if caller is None:
            return ROLE_NOT_ASSUMABLE
        service, reads = _reads(source_arn)
        try:
            for operation, request in reads:
                self.authorizer.check(caller, service, operation, request, stream=source_arn)
        except DynamoDBError:
            return cannot_access(source_arn)
        return None

    def reader(
        self, transport: CallTransport, acting_as: Callable[[], tuple[str, str]], source_arn: str
    ) -> CallTransport:
        return _RoleTransport(self, transport, acting_as, source_arn)

    def environment(self, role: str) -> dict[str, str]:
        known = self._environments.get(role)
        if known is None:
            found = self.config.role_by_arn(role)
            key = self.config.role_key(found) if found is not None else None
            if key is None or key.session_token is None:
                return {}
            known = self._environments[role] = {
                "AWS_ACCESS_KEY_ID": key.access_key_id,
                "AWS_SECRET_ACCESS_KEY": key.secret.reveal(),
                "AWS_SESSION_TOKEN": key.session_token.reveal(),
            }
        return dict(known)


def cannot_access(arn: str) -> str:
    """Lambda's text for a role that cannot read a mapping's stream."""
    shards = " ListShards," if is_kinesis(arn) else ""
    actions = f"GetRecords, GetShardIterator, DescribeStream,{shards} and ListStreams"
    return (
        f"Cannot access stream {arn}. Please ensure the role can perform the {actions} Actions on your "
        "stream in IAM."
    )


def _reads(arn: str) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """The calls a mapping makes to read `arn`, as (service, [(operation, request)])."""
    if is_kinesis(arn):
        operations = ("DescribeStream", "ListShards", "GetShardIterator", "GetRecords", "ListStreams")
        return "kinesis", [(op, {"StreamARN": arn}) for op in operations]
    table = arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
    return "dynamodbstreams", [
        ("DescribeStream", {"StreamArn": arn}),
        ("GetShardIterator", {"StreamArn": arn}),
        ("GetRecords", {}),
        ("ListStreams", {"TableName": table}),
    ]


class _RoleTransport:
    def __init__(
        self,
        readers: RoleReaders,
        inner: CallTransport,
        acting_as: Callable[[], tuple[str, str]],
        source_arn: str,
    ) -> None:
        self.readers = readers
        self.inner = inner
        self.acting_as = acting_as
        self.source_arn = source_arn
        self.service = "kinesis" if is_kinesis(source_arn) else "dynamodbstreams"

    async def call(self, operation: str, request: Wire) -> Wire:
        role, function = self.acting_as()
        caller = self.readers.caller(role, function, self.source_arn)
        if caller is None:
            raise StreamsError("AccessDeniedException", ROLE_NOT_ASSUMABLE)
        try:
            self.readers.authorizer.check(caller, self.service, operation, request)
        except DynamoDBError:
            raise StreamsError("AccessDeniedException", cannot_access(self.source_arn)) from None
        return await self.inner.call(operation, request)

    async def close(self) -> None:
        return None  # the inner transport is the service's, shared by every mapping

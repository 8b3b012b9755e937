"""Composition-root wiring for triggers and sinks: the metadata-backed StateStore, table access for on-failure
destinations, and the in-process Streams transport (triggers never import storage or api)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from .api.dynamodb import describe_table, put_item
from .api.registry import KINESIS_OPERATIONS, STREAMS_OPERATIONS
from .auth.config import AuthConfig
from .consumer import CallTransport, InProcessTransport, StreamsError
from .consumer.transport import Wire
from .core.catalog import MetaOp
from .core.database import Database
from .core.namespace import Namespace
from .errors import DynamoDBError, ResourceNotFoundException
from .http.authorize import Authorizer
from .http.control_auth import ROLE_NOT_ASSUMABLE
from .http.gate import Caller
from .sinks.service import SinkService
from .storage.base import MetaWrite
from .triggers.esm import RunnerSettings
from .triggers.service import TriggerService, TriggerSettings
from .triggers.sources import RoleAccess, is_kinesis
from .triggers.state import Doc


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


def build_trigger_service(db: Database, roles: RoleAccess | None = None) -> TriggerService:
    settings = db.settings
    if settings.in_memory:
        state_dir = Path(tempfile.mkdtemp(prefix="headwater-triggers-"))
    else:
        state_dir = settings.data_dir / "triggers"
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    poll = settings.trigger_poll_interval
    return TriggerService(
        TriggerSettings(
            region=settings.region,
            account_id=settings.account_id,
            state_dir=state_dir,
            endpoint_url=f"http://{host}:{settings.port}",
            runner=RunnerSettings(poll_interval=poll, retry_delay=min(0.25, poll * 4)),
        ),
        transport=InProcessTransport(db, STREAMS_OPERATIONS),
        kinesis=InProcessTransport(db, KINESIS_OPERATIONS),
        state=MetaStateStore(db),
        tables=DatabaseTables(db),
        clock=db.clock,
        commits=db.storage,
        roles=roles,
    )


def build_sink_service(db: Database) -> SinkService:
    """Sinks read tables' streams in-process and keep their checkpoints as metadata, like triggers."""
    return SinkService(
        transport=InProcessTransport(db, STREAMS_OPERATIONS),
        state=MetaStateStore(db),
        tables=DatabaseTables(db),
        poll_interval=db.settings.trigger_poll_interval,
    )


class RoleReaders:
    """Event source mappings read their stream as their function's role (`--auth sigv4`): every call the
    runner makes is authorized by that role's policies and the stream's resource policy, through the same
    Authorizer as a client's request. A role that may not read the stream stops the mapping at creation
    (InvalidParameterValueException) or, if it loses access later, shows in its LastProcessingResult."""

    def __init__(self, authorizer: Authorizer, config: AuthConfig) -> None:
        self.authorizer = authorizer
        self.config = config
        self._environments: dict[str, dict[str, str]] = {}

    def caller(self, role: str, function: str, source_arn: str) -> Caller | None:
        found = self.config.role_by_arn(role)
        if found is None:
            return None
        region = source_arn.split(":")[3] if source_arn.count(":") >= 5 else ""
        return Caller(Namespace(found.account, region), found.session(function))

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

"""The trigger service: functions, invocations and event source mappings, with their runners.

Owned by the composition root: `start()` on server startup, `stop()` on shutdown.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ..clock import Clock
from ..consumer import CallTransport, ShardCheckpoint, resolve_latest
from . import code as code_store
from . import params
from .errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from .esm import MappingRunner
from .events import to_attribute_value
from .invoker import Invoker
from .layers import LayerStore, check_total_size
from .model import FunctionConfig, MappingConfig
from .notify import ChangeNotifier, CommitFeed
from .pool import InvocationResult, ProcessBudget
from .settings import TriggerSettings
from .shared_code import SharedCode
from .sources import RoleAccess, check_destination, check_source, is_kinesis
from .state import CHECKPOINT_KIND, FAILURE_KIND, FUNCTION_KIND, MAPPING_KIND, StateStore, Tables
from .supervise import supervise

log = logging.getLogger(__name__)

MAX_FAILURES_KEPT = 100
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
TOTAL_CODE_SIZE = 75 * 1024**3  # Lambda's code storage per account and region
MAX_ZIPPED = 50 * 1024 * 1024  # a package uploaded directly
THROTTLE_PATIENCE = 1.0  # seconds a mapping's invocation waits for concurrency before looking again

__all__ = ["TriggerService", "TriggerSettings"]


class TriggerService:
    def __init__(
        self,
        settings: TriggerSettings,
        *,
        transport: CallTransport,
        state: StateStore,
        tables: Tables,
        clock: Clock,
        commits: CommitFeed | None = None,
        kinesis: CallTransport | None = None,
        budget: ProcessBudget | None = None,
        roles: RoleAccess | None = None,
        packages: code_store.Packages | None = None,
    ) -> None:
        """`budget`: the handler processes' cap shared with the other namespaces' services. `packages`:
        where uploaded packages are kept for every node (several nodes on one database); without it
        they are only unpacked here."""
        self.settings = settings
        self.clock = clock
        self._commits = commits
        self.notifier: ChangeNotifier | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.transport = transport
        self.kinesis = kinesis
        self.roles = roles  # mappings read as their function's role (None: as the server)
        self.state = state
        self.tables = tables
        self.functions: dict[str, FunctionConfig] = {}
        self.mappings: dict[str, MappingConfig] = {}
        self._runners: dict[str, tuple[MappingRunner, asyncio.Task[None]]] = {}
        self._lock = asyncio.Lock()
        # runs its event source mappings: with several nodes on one database, only the node holding the
        # background lease (every node answers the Lambda API and invokes)
        self.leading = True
        self.shared_code = SharedCode(packages, self.code_root, settings.account_id, settings.region)
        prepare = self._prepare if packages is not None else None
        self.invoker = Invoker(settings, clock, self.functions.get, budget, roles, prepare)
        self.layers = LayerStore(state, settings.state_dir, settings.region, settings.account_id, packages)

    # lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._commits is not None:
            self.notifier = ChangeNotifier(asyncio.get_running_loop())
            self._unsubscribe = self._commits.on_commit(self.notifier.changed)
        await self.layers.load()
        for _, doc in await self.state.list(FUNCTION_KIND):
            fn = self._local(FunctionConfig.from_doc(doc))
            self.functions[fn.name] = fn
            self.invoker.concurrency.set_reservation(fn.name, fn.reserved_concurrency)
        # versions replaced or deleted while the server was down (or killed) are of no use now
        code_store.sweep_unused(self.code_root, {f.code_path for f in self.functions.values()})
        self.invoker.start()
        for _, doc in await self.state.list(MAPPING_KIND):
            mapping = MappingConfig.from_doc(doc)
            self.mappings[mapping.uuid] = mapping
            if mapping.enabled:
                self._start_runner(mapping)

    async def stop(self) -> None:
        for runner_uuid in list(self._runners):
            await self._stop_runner(runner_uuid)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.invoker.stop()

    async def lead(self) -> None:
        """This node holds the background lease now: run every enabled mapping from its checkpoints."""
        self.leading = True
        await self.resync()

    async def follow(self) -> None:
        """Another node runs the mappings."""
        self.leading = False
        for runner_uuid in list(self._runners):
            await self._stop_runner(runner_uuid)

    async def resync(self) -> None:
        """Functions and mappings as stored (another node may have changed them), runners to match."""
        async with self._lock:
            await self.layers.load()
            stored = await self.state.list(FUNCTION_KIND)
            functions = [self._local(FunctionConfig.from_doc(doc)) for _, doc in stored]
            names = {fn.name for fn in functions}
            for name in [name for name in self.functions if name not in names]:
                deleted = self.functions.pop(name)  # through another node
                self.invoker.pool.discard(name)
                self.invoker.concurrency.forget(name)
                self.invoker.retire(deleted)
            for fn in functions:
                replaced = self.functions.get(fn.name)
                if replaced != fn:
                    self.functions[fn.name] = fn
                    self.invoker.concurrency.set_reservation(fn.name, fn.reserved_concurrency)
                if replaced is not None and replaced.code_path != fn.code_path:  # updated on another node
                    self.invoker.pool.discard(fn.name)
                    self.invoker.retire(replaced)
            mappings = [MappingConfig.from_doc(doc) for _, doc in await self.state.list(MAPPING_KIND)]
            uuids = {mapping.uuid for mapping in mappings}
            for gone in [u for u in self.mappings if u not in uuids]:
                await self._stop_runner(gone)
                del self.mappings[gone]
            for mapping in mappings:
                changed = self.mappings.get(mapping.uuid) != mapping
                self.mappings[mapping.uuid] = mapping
                entry = self._runners.get(mapping.uuid)
                if not mapping.enabled or not self.leading:
                    await self._stop_runner(mapping.uuid)
                elif entry is None:
                    self._start_runner(mapping)
                elif changed:
                    entry[0].update(mapping)

    def _start_runner(self, mapping: MappingConfig) -> None:
        if not self.leading:
            return
        runner = MappingRunner(
            mapping,
            transport=self._reader(mapping),
            state=self.state,
            invoke=self._invoke_for_mapping,
            discard=self._record_failure,
            function_arn=self.function_arn,
            settings=self.settings.runner,
            clock=self.clock,
            notifier=self.notifier,
        )
        task = asyncio.get_running_loop().create_task(supervise(runner), name=f"mapping-{mapping.uuid}")
        self._runners[mapping.uuid] = (runner, task)
        fn = self.functions.get(mapping.function_name)
        if fn is not None:
            self.invoker.spawn(self.invoker.prewarm(fn))

    async def _stop_runner(self, mapping_uuid: str) -> None:
        entry = self._runners.pop(mapping_uuid, None)
        if entry is None:
            return
        entry[1].cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await entry[1]

    def runners(self) -> list[MappingRunner]:
        """The running event source mappings (the metrics collector reads their iterator age)."""
        return [runner for runner, _ in self._runners.values()]

    def transport_for(self, arn: str) -> CallTransport:
        if is_kinesis(arn) and self.kinesis is not None:
            return self.kinesis
        return self.transport

    def _reader(self, mapping: MappingConfig) -> CallTransport:
        """What the mapping's runner reads with: as the role of the function it calls now."""
        transport = self.transport_for(mapping.event_source_arn)
        if self.roles is None:
            return transport

        def acting_as() -> tuple[str, str]:
            current = self.mappings.get(mapping.uuid, mapping)
            fn = self.functions.get(current.function_name)
            return (fn.role if fn is not None else "", current.function_name)

        return self.roles.reader(transport, acting_as, mapping.event_source_arn)

    # functions ----------------------------------------------------------------------------------

    def function_arn(self, name: str) -> str:
        return self.invoker.function_arn(name)

    @property
    def code_root(self) -> Path:
        return self.settings.state_dir / "functions"

    def require_function(self, name_or_arn: Any) -> FunctionConfig:
        name = params.function_name(name_or_arn)
        fn = self.functions.get(name)
        if fn is None:
            raise ResourceNotFoundException(f"Function not found: {self.function_arn(name)}")
        return fn

    def log_path(self, name: str) -> Path:
        return self.invoker.log_path(name)

    def _local(self, fn: FunctionConfig) -> FunctionConfig:
        """`fn` as this node runs it: an uploaded package from this node's own folder (the stored path is
        the folder of the node that took the upload)."""
        fn = fn.with_changes(opt_path=self.layers.opt_path(fn.layers))
        if fn.code_kind != "zip":
            return fn
        return fn.with_changes(code_path=str(code_store.package_dir(self.code_root, fn.name, fn.code_sha256)))

    async def _prepare(self, fn: FunctionConfig) -> None:
        """What `fn` needs on this node's disk before it runs: its package unpacked and its layers
        merged (made here the first time this node runs a version another node took)."""
        unpacked = await self.shared_code.unpack(fn)
        if unpacked is not None:
            self.invoker.adopt(unpacked)
        await self.layers.merged(fn.layers)

    def _code(self, name: str, code: Any) -> tuple[code_store.Code, bytes | None]:
        """The code and, for an uploaded package, its bytes."""
        if not isinstance(code, dict):
            raise InvalidParameterValueException("Code is required")
        if code.get("ZipFile") is not None:
            try:
                data = base64.b64decode(code["ZipFile"], validate=False)
            except (ValueError, TypeError):
                raise InvalidParameterValueException(
                    "Could not unzip uploaded file. Please check your file, then try to upload again."
                ) from None
            found = code_store.from_zip(self.code_root, name, data)
            self.invoker.adopt(found.path)
            return found, data
        if code.get("S3Bucket") == code_store.HOT_RELOAD_BUCKET and code.get("S3Key"):
            found = code_store.from_directory(str(code["S3Key"]), self.settings.allowed_code_dirs)
            user = self.settings.worker_user
            problem = user.cannot_read(Path(found.path)) if user is not None else None
            if user is not None and problem is not None:
                raise InvalidParameterValueException(
                    f"Handlers run as {user.name} (--worker-user), who cannot read the code: {problem}"
                )
            return found, None
        if code.get("S3Bucket") or code.get("ImageUri"):
            raise InvalidParameterValueException(
                "Headwater takes function code as a ZipFile, or as a local directory with "
                f'S3Bucket "{code_store.HOT_RELOAD_BUCKET}" and S3Key set to its absolute path.'
            )
        raise InvalidParameterValueException("Please provide a source for function code.")

    async def create_function(self, request: dict[str, Any]) -> FunctionConfig:
        name = params.function_name(request.get("FunctionName"))
        if request.get("PackageType", "Zip") != "Zip":
            raise InvalidParameterValueException("Headwater runs Zip package functions only.")
        if not request.get("Runtime") or not request.get("Handler"):
            raise InvalidParameterValueException(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages."
            )
        runtime = params.runtime(request["Runtime"])
        timeout = params.int_range(request.get("Timeout"), "timeout", 1, 900, 3)
        memory = params.int_range(request.get("MemorySize"), "memorySize", 128, 10240, 128)
        env = params.environment(request.get("Environment"))
        layers = self.layers.resolve(request["Layers"]) if request.get("Layers") is not None else ()
        async with self._lock:
            if name in self.functions:
                raise ResourceConflictException(f"Function already exist: {name}")
            code, package = self._code(name, request.get("Code"))
            check_total_size(code.kind, code.path, layers)
            fn = FunctionConfig(
                name=name,
                runtime=runtime,
                handler=str(request["Handler"]),
                role=str(request.get("Role", "")),
                code_kind=code.kind,
                code_path=code.path,
                code_sha256=code.sha256,
                code_size=code.size,
                revision_id=str(uuid.uuid4()),
                last_modified=self.clock.now(),
                description=str(request.get("Description", "")),
                timeout=timeout,
                memory_size=memory,
                environment=env,
                architectures=tuple(request.get("Architectures") or ("x86_64",)),
                layers=layers,
                opt_path=await self.layers.merged(layers),
            )
            await self.shared_code.keep(fn, package)
            await self._save_function(fn)
        return fn

    async def _save_function(self, fn: FunctionConfig) -> None:
        await self.state.put(FUNCTION_KIND, fn.name, fn.to_doc())
        replaced = self.functions.get(fn.name)
        self.functions[fn.name] = fn
        self.invoker.pool.discard(fn.name)
        if replaced is not None and replaced.code_path != fn.code_path:
            self.invoker.retire(replaced)
            await self.shared_code.drop(replaced)
        self.layers.sweep({f.opt_path for f in self.functions.values()})

    async def update_code(self, name_or_arn: Any, request: dict[str, Any]) -> FunctionConfig:
        async with self._lock:
            fn = self.require_function(name_or_arn)
            code, package = self._code(fn.name, request)
            check_total_size(code.kind, code.path, fn.layers)
            if request.get("DryRun"):
                return fn
            fn = fn.with_changes(
                code_kind=code.kind,
                code_path=code.path,
                code_sha256=code.sha256,
                code_size=code.size,
                revision_id=str(uuid.uuid4()),
                last_modified=self.clock.now(),
            )
            await self.shared_code.keep(fn, package)
            await self._save_function(fn)
        return fn

    async def update_configuration(self, name_or_arn: Any, request: dict[str, Any]) -> FunctionConfig:
        async with self._lock:
            fn = self.require_function(name_or_arn)
            changes: dict[str, Any] = {}
            if "Runtime" in request:
                changes["runtime"] = params.runtime(request["Runtime"])
            if "Handler" in request:
                changes["handler"] = str(request["Handler"])
            if "Timeout" in request:
                changes["timeout"] = params.int_range(request["Timeout"], "timeout", 1, 900, 3)
            if "MemorySize" in request:
                changes["memory_size"] = params.int_range(
                    request["MemorySize"], "memorySize", 128, 10240, 128
                )
            if "Environment" in request:
                changes["environment"] = params.environment(request["Environment"])
            if "Description" in request:
                changes["description"] = str(request["Description"])
            if "Role" in request:
                changes["role"] = str(request["Role"])
            if "Layers" in request:
                layers = self.layers.resolve(request["Layers"])
                check_total_size(fn.code_kind, fn.code_path, layers)
                changes.update(layers=layers, opt_path=await self.layers.merged(layers))
            fn = fn.with_changes(**changes, revision_id=str(uuid.uuid4()), last_modified=self.clock.now())
            await self._save_function(fn)
        return fn

    async def delete_function(self, name_or_arn: Any) -> None:
        async with self._lock:
            fn = self.require_function(name_or_arn)
            await self.state.delete(FUNCTION_KIND, fn.name)
            del self.functions[fn.name]
            self.invoker.pool.discard(fn.name)
            self.invoker.concurrency.forget(fn.name)
            self.invoker.retire(fn)
            await self.shared_code.drop(fn)
            self.layers.sweep({f.opt_path for f in self.functions.values()})

    def list_functions(self) -> list[FunctionConfig]:
        return [self.functions[name] for name in sorted(self.functions)]

    # invocation ---------------------------------------------------------------------------------

    @staticmethod
    def check_payload(payload: bytes) -> None:
        if len(payload) > MAX_SYNC_PAYLOAD:
            from .errors import RequestTooLargeException

            raise RequestTooLargeException(
                f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"
            )
        if payload.strip():
            try:
                orjson.loads(payload)
            except orjson.JSONDecodeError as exc:
                raise InvalidRequestContentException(
                    f"Could not parse request body into json: Could not parse payload into json: {exc}"
                ) from None

    async def invoke(self, name_or_arn: Any, payload: bytes, *, tail: bool = False) -> InvocationResult:
        fn = self.require_function(name_or_arn)
        self.check_payload(payload)
        return await self.invoker.invoke(fn, payload or b"{}", tail=tail)

    def invoke_event(self, name_or_arn: Any, payload: bytes) -> str:
        """Asynchronous invocation: accepted now, run in the background (retried twice on error)."""
        fn = self.require_function(name_or_arn)
        self.check_payload(payload)
        return self.invoker.invoke_event(fn, payload or b"{}")

    async def _invoke_for_mapping(self, function_name: str, payload: bytes) -> InvocationResult | None:
        """Mappings wait for concurrency rather than being throttled; every second without it they look at
        their records' age again (MaximumRecordAgeInSeconds still applies, as in Lambda)."""
        return await self.invoker.invoke_waiting(function_name, payload, patience=THROTTLE_PATIENCE)

    # concurrency --------------------------------------------------------------------------------

    async def put_concurrency(self, name_or_arn: Any, request: dict[str, Any]) -> int:
        value = params.reserved_concurrency(request.get("ReservedConcurrentExecutions"))
        async with self._lock:
            fn = self.require_function(name_or_arn)
            self.invoker.concurrency.check_reservation(fn.name, value)
            await self._save_reservation(fn, value)
        return value

    async def delete_concurrency(self, name_or_arn: Any) -> None:
        async with self._lock:
            await self._save_reservation(self.require_function(name_or_arn), None)

    async def _save_reservation(self, fn: FunctionConfig, value: int | None) -> None:
        fn = fn.with_changes(reserved_concurrency=value)
        await self.state.put(FUNCTION_KIND, fn.name, fn.to_doc())
        self.functions[fn.name] = fn
        self.invoker.concurrency.set_reservation(fn.name, value)

    def account_settings(self) -> dict[str, Any]:
        """GetAccountSettings: Lambda's documented limits, this server's concurrency."""
        concurrency = self.invoker.concurrency
        return {
            "AccountLimit": {
                "TotalCodeSize": TOTAL_CODE_SIZE,
                "CodeSizeUnzipped": code_store.MAX_UNZIPPED,
                "CodeSizeZipped": MAX_ZIPPED,
                "ConcurrentExecutions": concurrency.account_limit,
                "UnreservedConcurrentExecutions": concurrency.unreserved,
            },
            "AccountUsage": {
                "TotalCodeSize": sum(fn.code_size for fn in self.functions.values()),
                "FunctionCount": len(self.functions),
            },
        }

    # event source mappings ----------------------------------------------------------------------

    def require_mapping(self, mapping_uuid: str) -> MappingConfig:
        mapping = self.mappings.get(mapping_uuid)
        if mapping is None:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        return mapping

    def last_result(self, mapping: MappingConfig) -> MappingConfig:
        runner = self._runners.get(mapping.uuid)
        return mapping.with_changes(last_processing_result=runner[0].last_result) if runner else mapping

    async def create_mapping(self, request: dict[str, Any]) -> MappingConfig:
        fn = self.require_function(request.get("FunctionName"))
        source = await check_source(
            self.transport,
            self.kinesis,
            request.get("EventSourceArn"),
            region=self.settings.region,
            account=self.settings.account_id,
        )
        refusal = self.roles.refusal(fn.role, fn.name, source) if self.roles is not None else None
        if refusal is not None:
            raise InvalidParameterValueException(refusal)
        position = params.starting_position(request.get("StartingPosition"), is_kinesis(source))
        settings = params.mapping_settings(request)
        destination = await check_destination(self.tables, request.get("DestinationConfig"))
        async with self._lock:
            for existing in self.mappings.values():
                if existing.function_name == fn.name and existing.event_source_arn == source:
                    raise ResourceConflictException(
                        f'The event source arn (" {source} ") and function (" {fn.name} ") provided mapping '
                        "already exists. Please update or delete the existing mapping with UUID "
                        + existing.uuid
                    )
            mapping = MappingConfig(
                uuid=str(uuid.uuid4()),
                function_name=fn.name,
                event_source_arn=source,
                starting_position=position,
                on_failure=destination,
                last_modified=self.clock.now(),
                **settings,
            )
            if position == "LATEST":
                # fixed now, so writes made after this call returns are never missed
                latest = await resolve_latest(self.transport_for(source), source)
                for shard_id, checkpoint in latest.items():
                    await self._save_checkpoint(mapping.uuid, shard_id, checkpoint)
            await self.state.put(MAPPING_KIND, mapping.uuid, mapping.to_doc())
            self.mappings[mapping.uuid] = mapping
            if mapping.enabled:
                self._start_runner(mapping)
        return mapping

    async def _save_checkpoint(self, mapping_uuid: str, shard_id: str, checkpoint: ShardCheckpoint) -> None:
        await self.state.put(CHECKPOINT_KIND, f"{mapping_uuid}/{shard_id}", checkpoint.to_json())

    async def update_mapping(self, mapping_uuid: str, request: dict[str, Any]) -> MappingConfig:
        async with self._lock:
            mapping = self.require_mapping(mapping_uuid)
            changes = params.mapping_settings(request)
            if request.get("FunctionName") is not None:
                changes["function_name"] = self.require_function(request["FunctionName"]).name
            if "DestinationConfig" in request:
                changes["on_failure"] = await check_destination(self.tables, request["DestinationConfig"])
            mapping = mapping.with_changes(**changes, last_modified=self.clock.now())
            await self.state.put(MAPPING_KIND, mapping.uuid, mapping.to_doc())
            self.mappings[mapping.uuid] = mapping
            entry = self._runners.get(mapping.uuid)
            if not mapping.enabled:
                await self._stop_runner(mapping.uuid)
            elif entry is None:
                self._start_runner(mapping)
            else:
                entry[0].update(mapping)
        return mapping

    async def delete_mapping(self, mapping_uuid: str) -> MappingConfig:
        async with self._lock:
            mapping = self.require_mapping(mapping_uuid)
            await self._stop_runner(mapping.uuid)
            await self.state.delete(MAPPING_KIND, mapping.uuid)
            for key, _ in await self.state.list(CHECKPOINT_KIND):
                if key.startswith(mapping.uuid + "/"):
                    await self.state.delete(CHECKPOINT_KIND, key)
            del self.mappings[mapping.uuid]
        return mapping

    def list_mappings(self, function: Any = None, source: Any = None) -> list[MappingConfig]:
        name = params.function_name(function) if function else None
        out = [
            m
            for m in self.mappings.values()
            if (name is None or m.function_name == name) and (not source or m.event_source_arn == source)
        ]
        return sorted(out, key=lambda m: m.last_modified)

    # failures -----------------------------------------------------------------------------------

    async def _record_failure(self, mapping: MappingConfig, record: dict[str, Any]) -> None:
        request_id = record["requestContext"]["requestId"]
        key = f"{mapping.uuid}/{int(self.clock.now() * 1000):015d}-{request_id}"
        await self.state.put(FAILURE_KIND, key, record)
        kept = [k for k, _ in await self.state.list(FAILURE_KIND) if k.startswith(mapping.uuid + "/")]
        for old in sorted(kept)[:-MAX_FAILURES_KEPT]:
            await self.state.delete(FAILURE_KIND, old)
        if mapping.on_failure:
            table = mapping.on_failure  # the destination's ARN: found in its own namespace
            description = await self.tables.describe_table(table)
            if description is None:
                log.error("on-failure destination table %s is gone", table)
                return
            hash_key = description["KeySchema"][0]["AttributeName"]
            item = {name: to_attribute_value(value) for name, value in record.items()}
            item[hash_key] = {"S": request_id}
            await self.tables.put_item({"TableName": table, "Item": item})

    async def failures(self, mapping_uuid: str) -> list[dict[str, Any]]:
        self.require_mapping(mapping_uuid)
        prefix = mapping_uuid + "/"
        return [doc for key, doc in sorted(await self.state.list(FAILURE_KIND)) if key.startswith(prefix)]

    def read_log(self, name_or_arn: Any, offset: int) -> tuple[bytes, int]:
        fn = self.require_function(name_or_arn)
        path = self.log_path(fn.name)
        try:
            with open(path, "rb") as handle:
                size = handle.seek(0, 2)
                start = offset if 0 <= offset <= size else max(0, size + offset) if offset < 0 else size
                handle.seek(start)
                data = handle.read(1024 * 1024)
                return data, start + len(data)
        except FileNotFoundError:
            return b"", 0

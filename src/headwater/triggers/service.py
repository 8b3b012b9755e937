"""The trigger service: functions, invocations and event source mappings, with their runners.

Owned by the composition root: `start()` on server startup, `stop()` on shutdown. Kept elsewhere: a request's
code (code.py `from_request`), the payload check (params.py), the runners' tasks (supervise.py `Supervised`),
discarded records (failures.py), the function logs (invoker.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..clock import Clock
from ..consumer import CallTransport, ShardCheckpoint, resolve_latest
from . import code as code_store
from . import params
from .errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from .esm import MappingRunner
from .failures import FailureLog
from .invoker import Invoker
from .layers import LayerStore, check_total_size
from .model import FunctionConfig, MappingConfig
from .notify import ChangeNotifier, CommitFeed
from .pool import InvocationResult, ProcessBudget
from .settings import TriggerSettings
from .shared_code import SharedCode
from .sources import RoleAccess, check_destination, check_source, is_kinesis
from .state import CHECKPOINT_KIND, FUNCTION_KIND, MAPPING_KIND, StateStore, Tables
from .supervise import Supervised

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
        self._runners: Supervised[MappingRunner] = Supervised("mapping")
        self._lock = asyncio.Lock()
        # runs its event source mappings: with several nodes on one database, only the node holding the
        # background lease (every node answers the Lambda API and invokes)
        self.leading = True
        self.shared_code = SharedCode(packages, self.code_root, settings.account_id, settings.region)
        prepare = self._prepare if packages is not None else None
        self.invoker = Invoker(settings, clock, self.functions.get, budget, roles, prepare)
        self.layers = LayerStore(state, settings.state_dir, settings.region, settings.account_id, packages)
        self.failure_log = FailureLog(state, tables, clock)

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
        await self._runners.stop_all()
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
        await self._runners.stop_all()

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
                await self._runners.stop(gone)
                del self.mappings[gone]
            for mapping in mappings:
                changed = self.mappings.get(mapping.uuid) != mapping
                self.mappings[mapping.uuid] = mapping
                running = self._runners.get(mapping.uuid)
                if not mapping.enabled or not self.leading:
                    await self._runners.stop(mapping.uuid)
                elif running is None:
                    self._start_runner(mapping)
                elif changed:
                    running.update(mapping)

    def _start_runner(self, mapping: MappingConfig) -> None:
        if not self.leading:
            return
        runner = MappingRunner(
            mapping,
            transport=self._reader(mapping),
            state=self.state,
            invoke=self._invoke_for_mapping,
            discard=self.failure_log.record,
            function_arn=self.function_arn,
            settings=self.settings.runner,
            clock=self.clock,
            notifier=self.notifier,
        )
        self._runners.start(mapping.uuid, runner)
        fn = self.functions.get(mapping.function_name)
        if fn is not None:
            self.invoker.spawn(self.invoker.prewarm(fn))

    def runners(self) -> list[MappingRunner]:
        """The running event source mappings (the metrics collector reads their iterator age)."""
        return self._runners.runners()

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
        """The code and, for an uploaded package, its bytes (unpacked here: the pool keeps it)."""
        found, package = code_store.from_request(
            self.code_root, name, code, self.settings.allowed_code_dirs, self.settings.worker_user
        )
        if package is not None:
            self.invoker.adopt(found.path)
        return found, package

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

    async def invoke(self, name_or_arn: Any, payload: bytes, *, tail: bool = False) -> InvocationResult:
        fn = self.require_function(name_or_arn)
        params.invoke_payload(payload)
        return await self.invoker.invoke(fn, payload or b"{}", tail=tail)

    def invoke_event(self, name_or_arn: Any, payload: bytes) -> str:
        """Asynchronous invocation: accepted now, run in the background (retried twice on error)."""
        fn = self.require_function(name_or_arn)
        params.invoke_payload(payload)
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
        return mapping if runner is None else mapping.with_changes(last_processing_result=runner.last_result)

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
            running = self._runners.get(mapping.uuid)
            if not mapping.enabled:
                await self._runners.stop(mapping.uuid)
            elif running is None:
                self._start_runner(mapping)
            else:
                running.update(mapping)
        return mapping

    async def delete_mapping(self, mapping_uuid: str) -> MappingConfig:
        async with self._lock:
            mapping = self.require_mapping(mapping_uuid)
            await self._runners.stop(mapping.uuid)
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

    # failures ---------------------------------------------------------------------------------

    async def failures(self, mapping_uuid: str) -> list[dict[str, Any]]:
        self.require_mapping(mapping_uuid)
        return await self.failure_log.of(mapping_uuid)

    def read_log(self, name_or_arn: Any, offset: int) -> tuple[bytes, int]:
        return self.invoker.read_log(self.require_function(name_or_arn).name, offset)

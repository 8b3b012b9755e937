"""Invocations of functions: the worker each needs, the concurrency it is charged to (throttled, or
waiting), asynchronous invocations with their retries, and the deletion of code versions nobody runs any
more."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from ..clock import Clock
from . import code as code_store
from .concurrency import ACCOUNT_EXCEEDED, Concurrency, Lease, throttled
from .errors import InvalidParameterValueException, ServiceException
from .layers import layer_environment
from .model import FunctionConfig
from .pool import InvocationResult, PoolFull, ProcessBudget, WorkerPool, WorkerSpec, code_fingerprint
from .settings import TriggerSettings
from .sources import RoleAccess
from .stats import InvocationStats

log = logging.getLogger(__name__)

EVENT_ATTEMPTS = 3  # an asynchronous invocation and its two retries, as in Lambda
THROTTLED = InvocationResult("", b"", None, None, 0.0, throttled=True)

Lookup = Callable[[str], FunctionConfig | None]
Prepare = Callable[[FunctionConfig], Awaitable[None]]


class Invoker:
    def __init__(
        self,
        settings: TriggerSettings,
        clock: Clock,
        functions: Lookup,
        budget: ProcessBudget | None = None,
        roles: RoleAccess | None = None,
        prepare: Prepare | None = None,
    ) -> None:
        """`prepare`: puts what a function needs on this node's disk before it runs, when another node
        may have taken its upload (None: only this node runs its functions, and has their files)."""
        self.settings = settings
        self._prepare = prepare
        self.roles = roles  # handlers run with their function's role's credentials (None: placeholders)
        self._functions = functions
        self.concurrency = Concurrency(settings.concurrency_limit)
        self.pool = WorkerPool(
            self.base_env(),
            settings.python,
            limits=settings.pool,
            clock=clock,
            user=settings.worker_user,
            on_change=self.sweep_retired,
            budget=budget,
        )
        self._retired: set[Path] = set()  # replaced or deleted code versions, deleted once unused
        self._background: set[asyncio.Task[Any]] = set()
        self.stats = InvocationStats()  # read by the metrics collector

    def base_env(self) -> dict[str, str]:
        settings = self.settings
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
        env.update(
            {
                "AWS_REGION": settings.region,
                "AWS_DEFAULT_REGION": settings.region,
                "AWS_ACCESS_KEY_ID": "headwater",
                "AWS_SECRET_ACCESS_KEY": "headwater",
                "AWS_ENDPOINT_URL": settings.endpoint_url,
                "TZ": ":UTC",
            }
        )
        return env

    def start(self) -> None:
        self.pool.start()

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.pool.close()

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.settings.region}:{self.settings.account_id}:function:{name}"

    def log_path(self, name: str) -> Path:
        return self.settings.state_dir / "logs" / f"{name}.log"

    def read_log(self, name: str, offset: int) -> tuple[bytes, int]:
        """Up to 1 MB of the function's log from `offset` (from the end when negative), and where the next
        read starts."""
        try:
            with open(self.log_path(name), "rb") as handle:
                size = handle.seek(0, 2)
                start = offset if 0 <= offset <= size else max(0, size + offset) if offset < 0 else size
                handle.seek(start)
                data = handle.read(1024 * 1024)
                return data, start + len(data)
        except FileNotFoundError:
            return b"", 0

    def spec(self, fn: FunctionConfig) -> WorkerSpec:
        key = fn.revision_id
        env = dict(fn.environment)
        if fn.code_kind == "dir":
            # allowed when created, but the server may have been restarted without that --allow-code-dir
            code_store.check_allowed(Path(fn.code_path), self.settings.allowed_code_dirs)
            key += ":" + code_fingerprint(Path(fn.code_path))
            # bytecode caches validate by whole-second mtime: a quick edit could run stale code
            env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
            env.setdefault("PYTHONPYCACHEPREFIX", str(self.settings.state_dir / "no-pycache"))
        if fn.opt_path:
            layered = layer_environment(fn.opt_path, fn.runtime, self.base_env().get("PATH", os.defpath))
            env = {**layered, **env}
        if self.roles is not None:
            env.update(self.roles.environment(fn.role))  # the handler's calls act as the function's role
        return WorkerSpec(
            function_name=fn.name,
            function_arn=self.function_arn(fn.name),
            handler=fn.handler,
            runtime=fn.runtime,
            code_dir=Path(fn.code_path),
            log_path=self.log_path(fn.name),
            timeout=float(fn.timeout),
            memory_size=fn.memory_size,
            environment=tuple(sorted(env.items())),
            key=key,
        )

    async def unpacked(self, fn: FunctionConfig) -> None:
        """`fn`'s code and layers on this node's disk (see `prepare`)."""
        if self._prepare is not None:
            await self._prepare(fn)

    # invocations --------------------------------------------------------------------------------

    async def invoke(self, fn: FunctionConfig, payload: bytes, *, tail: bool) -> InvocationResult:
        """A synchronous Invoke: throttled (TooManyRequestsException) when there is no room now."""
        await self.unpacked(fn)
        spec = self.spec(fn)
        lease = self.concurrency.try_enter(fn.name)
        try:
            return self._counted(fn.name, await self.pool.invoke(spec, payload, tail=tail, wait=False))
        except PoolFull:
            self.stats.record(fn.name, 0.0, error=False, throttled=True)
            raise throttled(ACCOUNT_EXCEEDED) from None
        finally:
            self.concurrency.leave(lease)

    async def invoke_waiting(
        self, name: str, payload: bytes, request_id: str | None = None, patience: float | None = None
    ) -> InvocationResult | None:
        """An invocation that waits for room instead of being throttled (event source mappings,
        asynchronous invocations), `patience` seconds at most: then a result marked `throttled` that
        never ran. None when the function is gone or its code may not run."""
        lease = await self.concurrency.enter(name, lambda: self._functions(name) is not None, patience)
        if lease is None:
            if self._functions(name) is None:
                return None
            self.stats.record(name, 0.0, error=False, throttled=True)
            return THROTTLED
        try:
            result = await self._run(name, payload, request_id, lease)
            return None if result is None else self._counted(name, result)
        finally:
            self.concurrency.leave(lease)

    async def _run(
        self, name: str, payload: bytes, request_id: str | None, lease: Lease
    ) -> InvocationResult | None:
        fn = self._functions(name)  # the configuration current now, after any wait
        if fn is None:
            return None
        try:
            await self.unpacked(fn)
            spec = self.spec(fn)
        except (InvalidParameterValueException, ServiceException) as err:
            log.error("function %s cannot run: %s", name, err.message)
            return None
        return await self.pool.invoke(spec, payload, request_id=request_id, wait=True)

    def _counted(self, name: str, result: InvocationResult) -> InvocationResult:
        self.stats.record(
            name, result.duration_ms, error=result.function_error is not None, throttled=result.throttled
        )
        return result

    def invoke_event(self, fn: FunctionConfig, payload: bytes) -> str:
        """Asynchronous invocation: accepted now, run in the background when there is room (retried twice
        on error)."""
        self.spec(fn)  # refused now if its code may not run
        request_id = str(uuid.uuid4())

        async def run() -> None:
            for attempt in range(EVENT_ATTEMPTS):
                result = await self.invoke_waiting(fn.name, payload, request_id)
                if result is None or result.function_error is None:
                    return
                await asyncio.sleep(1.0 * (attempt + 1))

        self.spawn(run())
        return request_id

    async def prewarm(self, fn: FunctionConfig) -> None:
        try:
            await self.unpacked(fn)
            await self.pool.prewarm(self.spec(fn))
        except (OSError, InvalidParameterValueException, ServiceException):
            log.exception("could not start a worker for %s", fn.name)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # code versions ------------------------------------------------------------------------------

    def retire(self, fn: FunctionConfig) -> None:
        """`fn`'s code is replaced or deleted: an uploaded package is deleted from disk once no worker or
        invocation uses it any more (a local hot-reload directory is the user's and stays)."""
        if fn.code_kind == "zip":
            self._retired.add(Path(fn.code_path))
            self.sweep_retired()

    def adopt(self, code_path: str) -> None:
        """A code version in use again (the same package uploaded anew) is not deleted."""
        self._retired.discard(Path(code_path))

    def sweep_retired(self) -> None:
        for path in list(self._retired):
            if self.pool.uses(path):
                continue
            self._retired.discard(path)
            shutil.rmtree(path, ignore_errors=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # the function's folder, once its last version is gone

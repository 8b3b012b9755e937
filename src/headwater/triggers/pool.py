"""Warm handler workers: one subprocess per concurrent invocation of a function, reused between
invocations, killed on timeout, replaced after a crash or when the code or configuration changes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

MAX_IDLE_PER_FUNCTION = 8
PROTOCOL_LIMIT = 8 * 1024 * 1024
INIT_TIMEOUT = 10.0  # Lambda's init phase limit
WORKER_SCRIPT = str(Path(__file__).with_name("worker.py"))


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """Everything that shapes a worker; a worker is reused only for an identical spec (`key`)."""

    function_name: str
    function_arn: str
    handler: str
    runtime: str
    code_dir: Path
    log_path: Path
    timeout: float
    memory_size: int
    environment: tuple[tuple[str, str], ...]
    key: str  # revision + code fingerprint


@dataclass(frozen=True, slots=True)
class InvocationResult:
    request_id: str
    payload: bytes
    function_error: str | None  # "Unhandled" when the handler raised, timed out or crashed
    log_tail: str | None
    duration_ms: float


@dataclass(slots=True, eq=False)
class _Worker:
    process: subprocess.Popen[bytes]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    output: asyncio.BaseTransport  # the read side of the worker's stdout (reader's transport)
    key: str
    started: float = field(default_factory=time.monotonic)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the process if it still runs and close both pipes (idempotent)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        self.writer.close()
        self.output.close()

    async def wait(self, timeout: float | None = None) -> int | None:
        deadline = time.monotonic() + (timeout if timeout is not None else 3600.0)
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.01)
        return self.process.returncode


async def _pipes(
    process: subprocess.Popen[bytes],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    assert process.stdout is not None and process.stdin is not None  # both are PIPE
    reader = asyncio.StreamReader(limit=PROTOCOL_LIMIT)
    output, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), process.stdout)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, process.stdin)
    return reader, asyncio.StreamWriter(transport, protocol, None, loop), output


class WorkerPool:
    def __init__(self, base_env: dict[str, str], python: str = sys.executable) -> None:
        self._python = python
        self._base_env = base_env
        self._idle: dict[str, list[_Worker]] = {}
        self._busy: set[_Worker] = set()
        self._waiters: set[asyncio.Task[None]] = set()
        self._starting: dict[tuple[str, str], asyncio.Task[_Worker]] = {}

    async def _spawn(self, spec: WorkerSpec) -> _Worker:
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(self._base_env)
        stream = time.strftime("%Y/%m/%d", time.gmtime()) + "/[$LATEST]" + secrets.token_hex(16)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(spec.timeout)),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "LAMBDA_TASK_ROOT": str(spec.code_dir),
                "_HANDLER": spec.handler,
                "HEADWATER_WORKER_LOG": str(spec.log_path),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(dict(spec.environment))
        # run by path, not `-m headwater.triggers.worker`: importing the headwater package would load
        # the whole server into every worker and slow cold starts
        # subprocess.Popen (fork+exec in C, no Python in the child) rather than the event loop's
        # subprocess support: uvloop's can deadlock a child forked from this multi-threaded server
        process = subprocess.Popen(
            [self._python, WORKER_SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=str(spec.code_dir),
            env=env,
            close_fds=True,
        )
        reader, writer, output = await _pipes(process)
        worker = _Worker(process, reader, writer, output, spec.key)
        try:
            # the handler module is imported before the worker says it is ready
            ready = await asyncio.wait_for(reader.readline(), INIT_TIMEOUT)
        except TimeoutError:
            ready = b""
        if not ready:
            self._reap(worker)
            raise OSError(f"the worker of {spec.function_name} did not start")
        return worker

    def _take_idle(self, spec: WorkerSpec) -> _Worker | None:
        idle = self._idle.get(spec.function_name, [])
        while idle:
            worker = idle.pop()
            if worker.alive and worker.key == spec.key:
                return worker
            self._reap(worker)
        return None

    def _reap(self, worker: _Worker) -> None:
        worker.kill()
        task = asyncio.get_running_loop().create_task(self._wait(worker))
        self._waiters.add(task)
        task.add_done_callback(self._waiters.discard)

    @staticmethod
    async def _wait(worker: _Worker) -> None:
        with contextlib.suppress(Exception):
            await worker.wait()

    def _release(self, spec: WorkerSpec, worker: _Worker) -> None:
        self._busy.discard(worker)
        idle = self._idle.setdefault(spec.function_name, [])
        if worker.alive and len(idle) < MAX_IDLE_PER_FUNCTION:
            idle.append(worker)
        else:
            self._reap(worker)

    async def prewarm(self, spec: WorkerSpec) -> None:
        """Start a worker ahead of the first invocation (mappings do, so the first batch is not cold);
        an invocation arriving meanwhile takes this worker instead of starting another."""
        idle = self._idle.setdefault(spec.function_name, [])
        slot = (spec.function_name, spec.key)
        if any(w.alive and w.key == spec.key for w in idle) or slot in self._starting:
            return
        task = asyncio.get_running_loop().create_task(self._spawn(spec))
        self._starting[slot] = task
        try:
            worker = await asyncio.shield(task)
        except OSError:
            self._starting.pop(slot, None)
            raise
        if self._starting.get(slot) is task:  # nobody took it while it started: it waits idle
            del self._starting[slot]
            self._release(spec, worker)

    async def _acquire(self, spec: WorkerSpec) -> _Worker:
        worker = self._take_idle(spec)
        if worker is not None:
            return worker
        starting = self._starting.pop((spec.function_name, spec.key), None)
        if starting is not None:
            try:
                return await asyncio.shield(starting)
            except OSError:
                pass
        return await self._spawn(spec)

    def discard(self, function_name: str) -> None:
        """Drop idle workers of a function (its code or configuration changed, or it was deleted)."""
        for worker in self._idle.pop(function_name, []):
            self._reap(worker)

    async def invoke(
        self, spec: WorkerSpec, payload: bytes, *, request_id: str | None = None, tail: bool = False
    ) -> InvocationResult:
        request_id = request_id or str(uuid.uuid4())
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + spec.timeout * 1000)
        worker = self._take_idle(spec)
        if worker is None:
            try:
                worker = await self._acquire(spec)
            except OSError as exc:
                failure = ("Runtime.ExitError", f"Runtime exited without providing a reason: {exc}")
                return self._failed(spec, request_id, started, failure, tail)
            started = time.monotonic()
            deadline_ms = int(time.time() * 1000 + spec.timeout * 1000)
        self._busy.add(worker)
        header = {"id": request_id, "deadline_ms": deadline_ms, "arn": spec.function_arn, "tail": tail}
        header["len"] = len(payload)
        try:
            response, body = await asyncio.wait_for(
                self._exchange(worker, json.dumps(header).encode() + b"\n" + payload), spec.timeout
            )
        except TimeoutError:
            self._busy.discard(worker)
            self._reap(worker)
            return self._failed(spec, request_id, started, _timeout_error(spec, request_id), tail)
        except (OSError, EOFError, asyncio.IncompleteReadError, ValueError):
            self._busy.discard(worker)
            code = await self._exit_code(worker)
            return self._failed(spec, request_id, started, _exit_error(request_id, code), tail)
        self._release(spec, worker)
        duration = (time.monotonic() - started) * 1000
        error = "Unhandled" if response.get("error") else None
        tail_text = response.get("log")
        return InvocationResult(
            request_id, body, error, tail_text if isinstance(tail_text, str) else None, duration
        )

    @staticmethod
    async def _exchange(worker: _Worker, message: bytes) -> tuple[dict[str, object], bytes]:
        worker.writer.write(message)
        await worker.writer.drain()
        line = await worker.reader.readline()
        if not line:
            raise EOFError
        response = json.loads(line)
        body = await worker.reader.readexactly(int(response["len"]))
        return response, body

    async def _exit_code(self, worker: _Worker) -> int | None:
        """The crashed worker's exit status (None if it had to be killed); its pipes are closed."""
        code = await worker.wait(2.0)
        worker.kill()
        return code

    def _failed(
        self, spec: WorkerSpec, request_id: str, started: float, message: tuple[str, str], tail: bool
    ) -> InvocationResult:
        kind, text = message
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        duration = (time.monotonic() - started) * 1000
        lines = (
            f"{stamp} {request_id} {text}\n"
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: "
            f"{max(1, int(duration + 0.999))} ms\tMemory Size: {spec.memory_size} MB\tMax Memory Used: 0 MB\n"
        )
        with contextlib.suppress(OSError), open(spec.log_path, "a", encoding="utf-8") as out:
            out.write(lines)
        body = json.dumps({"errorType": kind, "errorMessage": f"RequestId: {request_id} Error: {text}"})
        return InvocationResult(request_id, body.encode(), "Unhandled", lines if tail else None, duration)

    async def close(self) -> None:
        for name in list(self._idle):
            self.discard(name)
        for worker in list(self._busy):
            self._reap(worker)
        if self._waiters:
            await asyncio.gather(*self._waiters, return_exceptions=True)


def _timeout_error(spec: WorkerSpec, request_id: str) -> tuple[str, str]:
    return "Sandbox.Timedout", f"Task timed out after {spec.timeout:.2f} seconds"


def _exit_error(request_id: str, code: int | None) -> tuple[str, str]:
    if code is not None and code < 0:
        return "Runtime.ExitError", f"Runtime exited with error: signal: {-code}"
    return "Runtime.ExitError", f"Runtime exited with error: exit status {code if code is not None else 1}"


def code_fingerprint(directory: Path, limit: int = 5000) -> str:
    """Changes whenever a file under `directory` changes (hot reload of local-directory functions)."""
    parts: list[str] = []
    stack = [str(directory)]
    seen = 0
    while stack and seen < limit:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if entry.name in ("__pycache__", ".git", ".venv", "node_modules") or entry.name.startswith(".#"):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    st = entry.stat()
                    parts.append(f"{entry.path}:{st.st_mtime_ns}:{st.st_size}")
            except OSError:
                continue
    parts.sort()
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()

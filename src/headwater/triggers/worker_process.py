"""One handler worker process: how it is started (environment, log, user) and stopped, and the pipes the
pool talks to it over (the protocol is in worker.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .worker_user import WorkerUser

log = logging.getLogger(__name__)

PROTOCOL_LIMIT = 8 * 1024 * 1024
INIT_TIMEOUT = 10.0  # Lambda's init phase limit
EXIT_GRACE = 2.0  # seconds an idle worker told to exit has before it is killed
WORKER_SCRIPT = Path(__file__).with_name("worker.py")


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


@dataclass(slots=True, eq=False)
class Worker:
    process: subprocess.Popen[bytes]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    output: asyncio.BaseTransport  # the read side of the worker's stdout (reader's transport)
    spec: WorkerSpec
    generation: int  # the pool's generation of its function when it started (see WorkerPool.discard)
    idle_since: float = 0.0  # clock time it last became idle
    gone: bool = False  # stopped by the pool, no longer counted against its cap
    started: float = field(default_factory=time.monotonic)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def key(self) -> str:
        return self.spec.key

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

    async def stop(self) -> None:
        """Ask an idle worker to exit (end of its input: its loop returns), kill it if it lingers."""
        self.writer.close()
        await self.wait(EXIT_GRACE)
        self.kill()
        await self.wait()


async def _pipes(
    process: subprocess.Popen[bytes],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    assert process.stdout is not None and process.stdin is not None  # both are PIPE
    reader = asyncio.StreamReader(limit=PROTOCOL_LIMIT)
    output, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), process.stdout)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, process.stdin)
    return reader, asyncio.StreamWriter(transport, protocol, None, loop), output


def worker_environment(base: dict[str, str], spec: WorkerSpec, user: WorkerUser | None) -> dict[str, str]:
    env = dict(base)
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
            "PYTHONUNBUFFERED": "1",
        }
    )
    if user is not None:
        env.update({"HOME": user.home, "USER": user.name, "LOGNAME": user.name})
    env.update(dict(spec.environment))
    return env


async def start_worker(
    spec: WorkerSpec, python: str, base_env: dict[str, str], user: WorkerUser | None, generation: int
) -> Worker:
    """A worker with its handler module imported; OSError if it did not get that far."""
    spec.log_path.parent.mkdir(parents=True, exist_ok=True)
    # the log is opened here and handed over as stderr: the worker (maybe another user) needs no access
    # to the server's state directory
    with open(spec.log_path, "ab") as log_file:
        # run by path, not `-m headwater.triggers.worker`: importing the headwater package would load
        # the whole server into every worker and slow cold starts.
        # subprocess.Popen (fork+exec in C, no Python in the child) rather than the event loop's
        # subprocess support: uvloop's can deadlock a child forked from this multi-threaded server;
        # the user switch happens there too, before exec
        process = subprocess.Popen(
            [python, str(WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            cwd=str(spec.code_dir),
            env=worker_environment(base_env, spec, user),
            close_fds=True,
            user=user.uid if user is not None else None,
            group=user.gid if user is not None else None,
            extra_groups=list(user.groups) if user is not None else None,
        )
    reader, writer, output = await _pipes(process)
    worker = Worker(process, reader, writer, output, spec, generation)
    try:
        # the handler module is imported before the worker says it is ready
        ready = await asyncio.wait_for(reader.readline(), INIT_TIMEOUT)
    except TimeoutError:
        ready = b""
    if not ready:
        worker.kill()
        await worker.wait(EXIT_GRACE)
        raise OSError(f"the worker of {spec.function_name} did not start")
    return worker

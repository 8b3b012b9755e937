"""`headwater serve`: the core process, and the front processes it starts and watches.

    clients --HTTP--> front 1..N (accepting from one listening socket): HTTP, validation, reads
                          |  Unix socket, one frame per call, batched per loop pass
                          v
                      core: the single writer (group commit on its event loop), catalog changes,
                            triggers, sinks, TTL, rollover, retention; Lambda and admin routes

With `--workers 0` (and always with `--in-memory`, whose database only this process can see) the core
serves HTTP itself and there are no fronts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from ..app import Node, build_node
from ..clock import clock_from_env
from ..config import Settings
from ..console import build_console
from ..http.app import with_console
from .core import CoreEndpoint
from .front import SPEC_VARIABLE, FrontSpec
from .listen import listen_http
from .signal_board import SignalBoard

log = logging.getLogger(__name__)

RESTART_DELAY = 0.5  # before a front that died is started again
START_ATTEMPTS = 3  # a front that fails to start this many times in a row stops the server


FILES_BESIDE_CONNECTIONS = 256  # database files, pipes to fronts and function workers, listening sockets


def run(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, on uvloop where it is built."""
    _room_for_connections(settings.max_connections)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(settings))
    else:
        uvloop.run(serve(settings))


def _room_for_connections(connections: int) -> None:
    """Raise this process's soft limit on open files (fronts inherit it) so that `--max-connections` fit:
    past the limit `accept` fails and new clients wait, which the connection bound is there to prevent."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + FILES_BESIDE_CONNECTIONS
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    if raised < wanted:
        log.warning(
            "at most %d files may be open (ulimit -n): fewer than --max-connections %d needs (%d)",
            raised,
            connections,
            wanted,
        )


async def serve(settings: Settings) -> None:
    node = build_node(settings, clock_from_env())
    await node.start()
    try:
        if settings.workers == 0 or settings.in_memory:
            await _one_process(node, settings)
        else:
            await _with_fronts(node, settings)
    finally:
        await node.stop()


def _health(settings: Settings) -> bytes:
    return f"healthy: {settings.endpoint_address} ".encode()


async def _stop_requested() -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()


async def _one_process(node: Node, settings: Settings) -> None:
    console = build_console(settings)
    app = node.security.app(node.calls, node.control, _health(settings), node.db, node.counts, console)
    server = await listen_http(app, settings, host=settings.host, port=settings.port, reuse_address=True)
    node.listening("one process")
    await _stop_requested()
    server.close()
    await server.wait_closed()


def _listening_socket(host: str, port: int) -> socket.socket:
    """The server's one listening socket, made here and passed on to every front. Not one socket per front
    with SO_REUSEPORT: measured, each such socket has its own queue, so connections queued to a front that
    dies are reset, and a front still starting refuses the ones the kernel hands it; with one socket the
    port listens as long as the server lives and a new connection waits for whichever front is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass
class Fronts:
    settings: Settings
    runtime: str
    endpoint: CoreEndpoint
    listener: socket.socket
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def spawn(self, index: int) -> None:
        fd = self.listener.fileno()
        spec = FrontSpec(self.settings, index, os.path.join(self.runtime, "core.sock"), self.board_path, fd)
        env = {**os.environ, SPEC_VARIABLE: spec.to_env()}
        self.processes[index] = subprocess.Popen(
            [sys.executable, "-m", "headwater.process.front"], env=env, pass_fds=(fd,)
        )

    @property
    def board_path(self) -> str:
        return os.path.join(self.runtime, "board")

    async def wait_ready(self, count: int) -> None:
        """Until `count` fronts said they serve. One that exits first is started again (others may already
        answer on the port, and anything may kill a process); one that keeps failing to start is an error."""
        failures: dict[int, int] = {}
        while self.endpoint.ready < count:
            for index, process in list(self.processes.items()):
                if process.poll() is None:
                    continue
                failures[index] = failures.get(index, 0) + 1
                if failures[index] >= START_ATTEMPTS:
                    raise RuntimeError(
                        f"front {index} exited with status {process.returncode} while starting"
                    )
                log.error("front %d exited with status %s while starting; again", index, process.returncode)
                self.spawn(index)
            self.endpoint.ready_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.endpoint.ready_changed.wait(), 0.1)

    async def watch(self) -> None:
        """Start a front again when it dies (it is stateless)."""
        while True:
            await asyncio.sleep(0.2)
            for index, process in list(self.processes.items()):
                if process.poll() is None:
                    continue
                log.error("front %d exited with status %s; starting it again", index, process.returncode)
                await asyncio.sleep(RESTART_DELAY)
                try:
                    self.spawn(index)
                except OSError:  # e.g. out of processes: the next round tries again
                    log.exception("could not start front %d", index)

    async def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                await asyncio.to_thread(process.wait, 15)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)


async def _with_fronts(node: Node, settings: Settings) -> None:
    listener = _listening_socket(settings.host, settings.port)
    parent = "/dev/shm" if os.path.isdir("/dev/shm") else None
    runtime = tempfile.mkdtemp(prefix="headwater-", dir=parent)
    board = SignalBoard(os.path.join(runtime, "board"), create=True)
    # the fronts forward the console's requests here: its sessions live in this one process
    endpoint = CoreEndpoint(node.calls, with_console(node.control, build_console(settings)), node.fronts)
    channel_server = await endpoint.serve(os.path.join(runtime, "core.sock"))
    node.publish_to(board)
    fronts = Fronts(settings, runtime, endpoint, listener)
    watcher: asyncio.Task[None] | None = None
    try:
        for index in range(settings.workers):
            fronts.spawn(index)
        await fronts.wait_ready(settings.workers)
        node.listening(f"{settings.workers} front process(es)")
        watcher = asyncio.create_task(fronts.watch())
        await _stop_requested()
    finally:
        if watcher is not None:
            watcher.cancel()
        await fronts.stop()
        channel_server.close()
        listener.close()
        board.close()
        shutil.rmtree(runtime, ignore_errors=True)

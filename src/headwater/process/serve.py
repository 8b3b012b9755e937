"""`headwater serve`: the core process, and the front processes it starts and watches.

    clients --HTTP--> core: accepts every connection; the single writer (group commit on its event
                      |     loop), catalog changes, triggers, sinks, TTL, rollover, retention; Lambda and
                      |     admin routes
                      |  a connection that only reads moves to a front (and back once it only writes:
                      v  process/handoff.py); a front's other calls go to the core over a Unix socket
                  front 1..N: HTTP, validation, reads on their own read connections

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
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from ..api.registry import read_operations
from ..app import Node, build_node
from ..clock import clock_from_env
from ..config import Settings
from ..console import build_console
from ..http.app import with_console
from ..http.connections import Connections
from .core import CoreEndpoint
from .front import SPEC_VARIABLE, FrontSpec, metered
from .handoff import Handoff, ToFronts, read_targets
from .listen import connections_of, listen_http
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
    app = node.security.app(
        node.calls, node.control, _health(settings), node.db, node.counts, build_console(settings)
    )
    server = await _listen(connections_of(app, settings), settings)
    node.listening("one process")
    await _stop_requested()
    server.close()
    await server.wait_closed()


async def _listen(connections: Connections, settings: Settings) -> asyncio.Server:
    """The one listening socket, in the core: it lives as long as the server, so the port listens while a
    front is started again, and the core hands connections on (process/handoff.py)."""
    where = {"host": settings.host, "port": settings.port}
    return await listen_http(connections, settings, reuse_address=True, **where)


@dataclass
class Fronts:
    settings: Settings
    runtime: str
    endpoint: CoreEndpoint
    connections: Connections  # the core's: connections a front hands back are served with them
    handoffs: dict[int, Handoff] = field(default_factory=dict)  # by front index (`ToFronts` reads it)
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def spawn(self, index: int) -> None:
        mine, theirs = Handoff.pair()
        try:
            core = os.path.join(self.runtime, "core.sock")
            spec = FrontSpec(self.settings, index, core, self.board_path, theirs.fileno())
            env = {**os.environ, SPEC_VARIABLE: spec.to_env()}
            self.processes[index] = subprocess.Popen(
                [sys.executable, "-m", "headwater.process.front"], env=env, pass_fds=(theirs.fileno(),)
            )
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        old = self.handoffs.pop(index, None)
        if old is not None:
            old.close()
        # a connection the front hands back (it writes) is served here from now on
        mine.serve(asyncio.get_running_loop(), self.connections)
        self.handoffs[index] = mine

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
        for handoff in self.handoffs.values():
            handoff.close()
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
    parent = "/dev/shm" if os.path.isdir("/dev/shm") else None
    runtime = tempfile.mkdtemp(prefix="headwater-", dir=parent)
    board = SignalBoard(os.path.join(runtime, "board"), create=True)
    # the console's sessions live in this one process: its own connections and the fronts' forwards
    console = build_console(settings)
    endpoint = CoreEndpoint(node.calls, with_console(node.control, console), node.fronts)
    channel_server = await endpoint.serve(os.path.join(runtime, "core.sock"))
    node.publish_to(board)
    app = node.security.app(node.calls, node.control, _health(settings), node.db, node.counts, console)
    handoffs: dict[int, Handoff] = {}
    # metered reads are counted where the buckets are (here): then no connection moves for its reads
    reads = read_targets(frozenset() if metered(settings) else read_operations())
    connections = connections_of(app, settings, ToFronts(handoffs, reads))
    fronts = Fronts(settings, runtime, endpoint, connections, handoffs)
    watcher: asyncio.Task[None] | None = None
    server: asyncio.Server | None = None
    try:
        for index in range(settings.workers):
            fronts.spawn(index)
        await fronts.wait_ready(settings.workers)
        server = await _listen(connections, settings)
        node.listening(f"{settings.workers} front process(es)")
        watcher = asyncio.create_task(fronts.watch())
        await _stop_requested()
    finally:
        if watcher is not None:
            watcher.cancel()
        if server is not None:
            server.close()
        await fronts.stop()
        channel_server.close()
        board.close()
        shutil.rmtree(runtime, ignore_errors=True)

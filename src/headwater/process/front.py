"""A front process: HTTP on the connections the core hands it (process/handoff.py: those that only read),
the read operations on its own read connections, and everything that writes (and the Lambda and admin
routes) sent to the core process; a connection that only writes goes back to the core.

Started by the core with `python -m headwater.process.front`; its spec comes in the environment. It dies
with the core: the kernel kills it when its parent goes (PR_SET_PDEATHSIG), and it exits when the channel
closes, so a `kill -9` of the server never leaves a front answering on the port.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Any

from ..api.registry import operations, read_operations
from ..app import build_reader_database, build_security
from ..config import Settings
from ..core.database import Database
from ..core.namespace import Namespace
from ..http.calls import LocalCalls
from ..http.messages import Request, Response
from ..metrics.collector import process_counts
from ..metrics.requests import RequestCounts, encode
from . import channel
from .frames import CALL, HTTP, METRICS, READY, call_fields, request_fields, response_of
from .handoff import Handoff, ToCore, read_targets
from .listen import connections_of

log = logging.getLogger(__name__)

SPEC_VARIABLE = "HEADWATER_FRONT"
METRICS_EVERY = 1.0  # seconds between the request counts a front sends the core (/metrics is that stale)


@dataclass(frozen=True, slots=True)
class FrontSpec:
    settings: Settings
    index: int
    core_socket: str
    board: str
    handoff: int  # the file descriptor of this front's end of its socket pair with the core

    def to_env(self) -> str:
        return json.dumps(
            {
                "settings": self.settings.to_json(),
                "index": self.index,
                "core": self.core_socket,
                "board": self.board,
                "handoff": self.handoff,
            }
        )

    @classmethod
    def from_env(cls, text: str) -> FrontSpec:
        doc: dict[str, Any] = json.loads(text)
        return cls(
            Settings.from_json(doc["settings"]),
            int(doc["index"]),
            str(doc["core"]),
            str(doc["board"]),
            int(doc["handoff"]),
        )


class FrontCalls:
    """Reads here; anything that writes in the core process."""

    def __init__(
        self, local: LocalCalls, core: channel.ChannelClient, reads: frozenset[tuple[str, str]]
    ) -> None:
        self.local = local
        self.core = core
        self.reads = reads

    async def run(
        self, namespace: Namespace, service: str, operation: str, request: dict[str, Any], body: bytes
    ) -> tuple[int, bytes]:
        if (service, operation) in self.reads:
            return await self.local.run(namespace, service, operation, request, body)
        status, fields = await self.core.call(CALL, call_fields(namespace, service, operation, body))
        return status, fields[0]


class ForwardedControl:
    """The Lambda and admin routes, answered by the core."""

    def __init__(self, core: channel.ChannelClient) -> None:
        self.core = core

    async def __call__(self, request: Request) -> Response:
        status, fields = await self.core.call(HTTP, request_fields(request))
        return response_of(status, fields)


def metered(settings: Settings) -> bool:
    """Reads are then counted and throttled where the buckets and counters are: the core."""
    return settings.enforce_capacity or settings.meter_usage


async def run_front(spec: FrontSpec) -> None:
    settings = spec.settings
    db = build_reader_database(settings, spec.board)
    db.open()
    core = await channel.connect(spec.core_socket)
    # the same credentials file as the core: requests are verified and authorized here, before a write
    # is forwarded (the core trusts its fronts' calls; the Lambda and admin routes it checks itself)
    counts = RequestCounts()
    reads = frozenset() if metered(settings) else read_operations()
    app = build_security(db).app(
        FrontCalls(LocalCalls(db, operations()), core, reads),
        ForwardedControl(core),
        f"healthy: {settings.endpoint_address} ".encode(),
        db,
        counts,
        ForwardedControl(core),  # the console: answered by the core, where its sessions are
    )
    loop = asyncio.get_running_loop()
    handoff = Handoff(socket.socket(fileno=spec.handoff))
    connections = connections_of(app, settings, ToCore(handoff, read_targets(reads)))
    handoff.serve(loop, connections)
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    await core.call(READY, [str(spec.index).encode()])
    sending = asyncio.ensure_future(_send_counts(core, spec.index, counts, db))
    gone: asyncio.Future[Any] = core.closed
    stop: asyncio.Future[Any] = asyncio.ensure_future(stopping.wait())
    await asyncio.wait([gone, stop], return_when=asyncio.FIRST_COMPLETED)
    handoff.close()
    sending.cancel()
    if gone.done():
        log.error("front %d: the core process is gone; exiting", spec.index)
        os._exit(1)
    for connection in list(connections.open):
        connection.evict()
    db.storage.close()


async def _send_counts(core: channel.ChannelClient, index: int, counts: RequestCounts, db: Database) -> None:
    """The core answers /metrics for every process: each second, this front's counts as they stand (the
    whole snapshot, so a lost one costs nothing), when they changed."""
    last = None
    while True:
        await asyncio.sleep(METRICS_EVERY)
        snapshot = encode(process_counts(counts, db))
        if snapshot != last:
            try:
                await core.call(METRICS, [str(index).encode(), str(os.getpid()).encode(), snapshot])
            except ConnectionError:
                return  # the core is gone; run_front exits
            last = snapshot


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the core (its parent) dies, however it dies."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the call above
        os._exit(1)


def main() -> None:
    _die_with_parent()
    spec = FrontSpec.from_env(os.environ[SPEC_VARIABLE])
    level = spec.settings.log_level.upper()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s front-%(process)d %(name)s: %(message)s"
    )
    try:
        import uvloop

        uvloop.run(run_front(spec))
    except ImportError:  # uvloop is not built for every platform
        asyncio.run(run_front(spec))


if __name__ == "__main__":
    main()

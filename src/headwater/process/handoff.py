"""Client connections moving between the serving processes, so that each is answered where its requests
are answered without a hop: reads in a front (on its own read connections to the database), writes in
the core (the single writer). The core accepts every connection; one whose last `MOVE_AFTER` requests
(http/server.py) the other side would have answered without a hop is handed over between two requests.

Nothing of HTTP is in flight then: the last answer is in the kernel's send buffer, the next request (if
the client sent it already) in its receive buffer, where the new process reads it. The kernel passes the
socket itself (SCM_RIGHTS over a SOCK_SEQPACKET pair, one connection per message), so the client sees
one connection throughout. TLS connections never move (their session state lives in the process), nor
does a connection with a request half read or waiting (pipelining).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Collection, Mapping
from typing import Any

from ..http.connections import Connections, Moved
from ..http.messages import Request
from ..protocol.targets import PREFIXES

log = logging.getLogger(__name__)


def read_targets(reads: Collection[tuple[str, str]]) -> frozenset[bytes]:
    """The `X-Amz-Target` values of the read operations (those a front answers itself)."""
    return frozenset(
        f"{prefix}.{operation}".encode()
        for prefix, service in PREFIXES.items()
        for read_service, operation in reads
        if read_service == service
    )


def is_read(request: Request, targets: frozenset[bytes]) -> bool:
    return request.path == "/" and request.headers.get(b"x-amz-target") in targets


class Handoff:
    """One end of the socket pair between the core and one front."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self._loop: asyncio.AbstractEventLoop | None = None  # taking connections on it

    @classmethod
    def pair(cls) -> tuple[Handoff, socket.socket]:
        """This process's end, and the other end to pass to the front."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        theirs.set_inheritable(True)
        return cls(mine), theirs

    def give(self, fd: int) -> bool:
        """Pass the connection `fd` to the other process (the caller then closes its own descriptor);
        False when the other side is gone or not keeping up: the connection stays here."""
        try:
            socket.send_fds(self.sock, [b"c"], [fd])
        except OSError:
            return False
        return True

    def take(self, loop: asyncio.AbstractEventLoop, receive: Callable[[socket.socket], None]) -> None:
        """Call `receive(connection)` on `loop` for each connection the other process passes over."""
        self._loop = loop
        loop.add_reader(self.sock.fileno(), self._readable, receive)

    def serve(self, loop: asyncio.AbstractEventLoop, connections: Connections) -> None:
        """Serve each connection the other process passes over with `connections`."""
        starting: set[asyncio.Task[Any]] = set()  # held until started (the loop keeps weak references)

        def receive(sock: socket.socket) -> None:
            task = loop.create_task(loop.connect_accepted_socket(connections, sock))
            starting.add(task)
            task.add_done_callback(done)

        def done(task: asyncio.Task[Any]) -> None:
            starting.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("a connection handed over could not be served", exc_info=task.exception())

        self.take(loop, receive)

    def _readable(self, receive: Callable[[socket.socket], None]) -> None:
        while True:
            try:
                data, fds, _flags, _address = socket.recv_fds(self.sock, 16, 1)
            except BlockingIOError:
                return
            except OSError:
                data, fds = b"", []
            for fd in fds:
                receive(socket.socket(fileno=fd))
            if not data and not fds:  # the other process is gone
                self._stop_taking()
                return

    def _stop_taking(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self.sock.fileno())
        self._loop = None

    def close(self) -> None:
        self._stop_taking()
        self.sock.close()


class ToFronts:
    """The core's placement (http/connections.py `Placement`): connections that only read are shared out
    in turn among the fronts and the core itself, which keeps one share: on two cores, one front and the
    core each answer half the readers. (Keeping none, a load of reads alone would keep the fronts busy
    and the core idle.)"""

    def __init__(self, fronts: Mapping[int, Handoff], reads: frozenset[bytes]) -> None:
        self.fronts = fronts  # by front index; a front started again replaces its entry
        self.reads = reads
        self._turn = 0

    def elsewhere(self, request: Request) -> bool:
        return is_read(request, self.reads)

    def move(self, fd: int) -> Moved:
        handoffs = list(self.fronts.values())
        turn, self._turn = self._turn, (self._turn + 1) % (len(handoffs) + 1)
        if turn == len(handoffs):
            return "stays"
        for i in range(len(handoffs)):  # the next front that takes it (one may be starting again)
            if handoffs[(turn + i) % len(handoffs)].give(fd):
                return "moved"
        return "later"


class ToCore:
    """A front's placement: a connection that only writes (or calls the Lambda and admin routes) moves
    back to the core."""

    def __init__(self, core: Handoff, reads: frozenset[bytes]) -> None:
        self.core = core
        self.reads = reads

    def elsewhere(self, request: Request) -> bool:
        return not is_read(request, self.reads)

    def move(self, fd: int) -> Moved:
        return "moved" if self.core.give(fd) else "later"

"""The connections of one serving process: the protocol factory given to `create_server`, which keeps a
register of the connections it made so that their number and the request bodies they hold stay bounded,
and `listen` (plain or TLS)."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import Any, Literal, Protocol

from .messages import DateHeader, Handler, Refusal, Request, plain
from .server import HttpProtocol, Limits

log = logging.getLogger(__name__)

WARN_EVERY = 60.0  # seconds between two warnings that the connection limit is reached


# What became of a connection offered to another process: handed over; kept here for good (until its
# requests change: a share of the reads the core keeps); or kept for now (asked again later)
Moved = Literal["moved", "stays", "later"]


class Placement(Protocol):
    """Where a connection is best answered, with several serving processes (process/handoff.py):
    `elsewhere(request)`: another process would answer it without a hop; `move(fd)`: hand the connection
    over, or say why not."""

    def elsewhere(self, request: Request) -> bool: ...

    def move(self, fd: int) -> Moved: ...


class Connections:
    """The protocol factory given to `create_server`, and the register of the connections it made.

    At `limits.max_connections` a new connection takes the place of the least recently active idle one
    (an HTTP client opens another when it needs one), else of the oldest one still sending its request
    (a slow or stalled client); when every connection is one the server is answering, the new one is
    closed. So idle or trickling connections cannot lock clients out, nor use up the process's files.
    """

    def __init__(
        self, handler: Handler, limits: Limits, secure: bool, refusal: Refusal, placement: Placement | None
    ) -> None:
        self.handler = handler
        self.limits = limits
        self.secure = secure  # served over TLS (`Request.secure`)
        self.refusal = refusal
        self.placement = placement  # None: one serving process, connections stay
        self.date = DateHeader()
        self.open: dict[HttpProtocol, None] = {}  # oldest first
        self._idle: dict[HttpProtocol, None] = {}  # least recently active first
        self.held = 0  # request body bytes held by all connections (`Limits.max_held_bodies`)
        self._warned = -WARN_EVERY

    def __call__(self) -> HttpProtocol:
        return HttpProtocol(self)

    def opened(self, connection: HttpProtocol) -> bool:
        """Register a new connection; False when there is no room for it."""
        if len(self.open) >= self.limits.max_connections:
            victim = next(iter(self._idle), None) or next((c for c in self.open if c.receiving), None)
            if victim is None:
                self._warn("every one is being answered (--max-connections): a new connection was closed")
                return False
            if victim not in self._idle:
                self._warn(
                    "the oldest still sending its request was closed for a new one (--max-connections)"
                )
            self.closed(victim)
            victim.evict()
        self.open[connection] = None
        return True

    def closed(self, connection: HttpProtocol) -> None:
        self.open.pop(connection, None)
        self._idle.pop(connection, None)

    def became_idle(self, connection: HttpProtocol) -> None:
        self._idle.pop(connection, None)
        self._idle[connection] = None

    def became_active(self, connection: HttpProtocol) -> None:
        self._idle.pop(connection, None)

    def hold(self, size: int) -> bool:
        """Count `size` more bytes of request bodies held; False (nothing counted) when they do not fit."""
        if self.held + size > self.limits.max_held_bodies:
            self._warn(f"{self.held} bytes of request bodies held: a request was refused with 503")
            return False
        self.held += size
        return True

    def release(self, size: int) -> None:
        self.held -= size

    def _warn(self, what: str) -> None:
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY:
            self._warned = now
            log.warning("%d connections open: %s", len(self.open), what)


def protocol_factory(
    handler: Handler,
    limits: Limits | None = None,
    *,
    secure: bool = False,
    refusal: Refusal = plain,
    placement: Placement | None = None,
) -> Connections:
    return Connections(handler, limits or Limits(), secure, refusal, None if secure else placement)


async def listen(connections: Connections, tls: ssl.SSLContext | None = None, **where: Any) -> asyncio.Server:
    """Serve on `where` (host= and port=, or sock=), over TLS when given a context: a handshake (and a
    closing one) gets `tls_timeout` seconds, so a client that starts one and stops cannot hold its socket.
    A connection counts against `max_connections` once its handshake is done."""
    timeout = connections.limits.tls_timeout if tls is not None else None
    return await asyncio.get_running_loop().create_server(
        connections,
        ssl=tls,
        ssl_handshake_timeout=timeout,
        ssl_shutdown_timeout=timeout,
        backlog=2048,
        **where,
    )


__all__ = ["Connections", "Moved", "Placement", "listen", "protocol_factory"]

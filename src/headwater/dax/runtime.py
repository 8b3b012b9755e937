"""What DAX keeps in the process that owns the writer: the lock that orders control-plane changes, and
one listening socket per cluster (the cluster's discovery endpoint and every node's endpoint: Headwater
runs a cluster's nodes as one listener). A listener's port is chosen by the system when the cluster is
created and kept in its document, so a restart listens on the same port again when it is free."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

from .cache import ClusterCaches

log = logging.getLogger(__name__)

# (cluster ARN, the connection) -> served until it ends
ConnectionHandler = Callable[[str, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def advertised_host(host: str) -> str:
    """The address clients are told to connect to: the server's own, or its name when it listens on
    every interface."""
    if host in ("0.0.0.0", "::", ""):
        return socket.getfqdn()
    return host


async def _refuse(arn: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


class DaxRuntime:
    def __init__(self, host: str) -> None:
        self.host = host
        self.lock = asyncio.Lock()
        self.handler: ConnectionHandler = _refuse  # the data plane's, once the node wires it
        self._listeners: dict[str, asyncio.Server] = {}
        self.caches: dict[str, ClusterCaches] = {}  # by cluster ARN, made on first use

    @property
    def address(self) -> str:
        return advertised_host(self.host)

    async def listen(self, arn: str, port: int = 0) -> int:
        """Listen for cluster `arn` (on `port`, or a free one when it is 0 or taken); the port."""
        current = self._listeners.get(arn)
        if current is not None:
            return int(current.sockets[0].getsockname()[1])
        try:
            server = await asyncio.start_server(self._connected(arn), self.host, port)
        except OSError:
            if port == 0:
                raise
            log.warning("DAX cluster %s: port %d is taken, listening on another", arn, port)
            server = await asyncio.start_server(self._connected(arn), self.host, 0)
        self._listeners[arn] = server
        return int(server.sockets[0].getsockname()[1])

    def _connected(self, arn: str) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Awaitable[None]:
            return self.handler(arn, reader, writer)

        return connected

    async def close(self, arn: str) -> None:
        self.caches.pop(arn, None)
        server = self._listeners.pop(arn, None)
        if server is not None:
            server.close()
            await server.wait_closed()

    async def close_all(self) -> None:
        for arn in list(self._listeners):
            await self.close(arn)

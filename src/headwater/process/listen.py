"""The HTTP connections of a serving process (the core, or a front): the server's limits and TLS from the
settings, in one place for both."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from ..config import Settings
from ..http.app import HeadwaterApp
from ..http.connections import Connections, Placement, listen, protocol_factory
from ..http.server import Limits
from ..http.tls import server_context


def connections_of(app: HeadwaterApp, settings: Settings, placement: Placement | None = None) -> Connections:
    """The protocol factory (and register of connections) of a serving process."""
    limits = Limits(max_connections=settings.max_connections)
    secure = settings.tls_cert is not None and settings.tls_key is not None
    return protocol_factory(app, limits, secure=secure, refusal=app.refusal, placement=placement)


async def listen_http(connections: Connections, settings: Settings, **where: Any) -> asyncio.Server:
    """Serve on `where` (host= and port=, or sock=): HTTPS when the settings name a certificate."""
    return await listen(connections, _tls(settings), **where)


def _tls(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    return server_context(settings.tls_cert, settings.tls_key)

"""The HTTP listener of a serving process (the core alone, or each front): the server's limits and TLS
from the settings, in one place for both."""

from __future__ import annotations

import asyncio
from typing import Any

from ..config import Settings
from ..http.app import HeadwaterApp
from ..http.connections import listen, protocol_factory
from ..http.server import Limits
from ..http.tls import server_context


async def listen_http(app: HeadwaterApp, settings: Settings, **where: Any) -> asyncio.Server:
    """Serve `app` on `where` (host= and port=, or sock=): HTTPS when the settings name a certificate."""
    tls = None
    if settings.tls_cert is not None and settings.tls_key is not None:
        tls = server_context(settings.tls_cert, settings.tls_key)
    limits = Limits(max_connections=settings.max_connections)
    return await listen(
        protocol_factory(app, limits, secure=tls is not None, refusal=app.refusal), tls, **where
    )

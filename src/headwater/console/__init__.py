"""The web console (`/console/`): tables, items, streams, triggers and metrics in a browser.

Its one rule: it talks to the rest of Headwater only through the public API, the DynamoDB, Streams and
Lambda HTTP APIs and GET /metrics, called over HTTP with the signed-in principal's credentials
(client.py). It imports nothing from core/, storage/, triggers/ or api/: what a person can do here,
they could do with an SDK, and what their policies deny, the API refuses here too.
"""

from __future__ import annotations

from ..config import Settings
from ..http.cross_site import CrossSiteGuard
from .app import Console
from .client import Endpoint
from .sessions import Sessions


def build_console(settings: Settings) -> Console:
    """The console of a server with these settings: it calls that server's own listening address."""
    endpoint = Endpoint(settings.host, settings.port, tls=settings.tls_cert is not None)
    guard = CrossSiteGuard(loopback_only=settings.loopback_only)
    return Console(
        endpoint, sign_in=settings.auth != "off", region=settings.region, guard=guard, sessions=Sessions()
    )


__all__ = ["Console", "build_console"]

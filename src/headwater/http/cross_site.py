"""The Lambda and admin routes refuse any request a web browser could send on a page's behalf.

These routes run code on the host (CreateFunction, then Invoke), so a page open in a developer's browser
must never reach them, whatever the authentication mode. A browser sends a cross-site request without a
CORS preflight only when it is "simple": no Authorization header (a page cannot add one without a
preflight, and these routes answer no preflight), and a Content-Type of text/plain, a form encoding or
none. Requests that say they come from another origin (`Origin`, `Sec-Fetch-Site`) are refused too, and
so are names other than the server's own when it listens on loopback only: a page on a rebound DNS name
(evil.example resolving to 127.0.0.1) is same-origin to the browser but not to the server.

Every SDK, the AWS CLI and Headwater's own commands sign their requests (an Authorization header) with a
JSON or binary content type, and send no Origin.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import orjson

from .messages import Request, Response

SIMPLE_TYPES: Final = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
CROSS_SITE_FETCH: Final = frozenset({b"cross-site", b"same-site"})
LOOPBACK_NAMES: Final = ("localhost", "localhost.")


@dataclass(frozen=True, slots=True)
class Refusal:
    error_type: str
    message: str

    def response(self) -> Response:
        """403 in Lambda's error shape: the type in `x-amzn-ErrorType`, a {"Type", "message"} body."""
        body = orjson.dumps({"Type": "User", "message": self.message})
        headers = [
            (b"content-type", b"application/json"),
            (b"x-amzn-errortype", self.error_type.encode()),
        ]
        return Response(403, body, headers)


def _missing_token() -> Refusal:
    return Refusal(
        "MissingAuthenticationTokenException",
        "Missing Authentication Token: Headwater's Lambda and admin APIs take signed requests only "
        "(an Authorization header, as every AWS SDK and the AWS CLI send).",
    )


def _denied(why: str) -> Refusal:
    return Refusal(
        "AccessDeniedException",
        f"Headwater refuses requests to its Lambda and admin APIs that a web browser could send "
        f"from another site: {why}.",
    )


class CrossSiteGuard:
    """`check(request)` is None for a request a browser could not have sent cross-site, else the Refusal.

    `loopback_only`: the server listens on a loopback address, so its clients name it by an IP address
    or `localhost`; any other Host is a DNS name rebound to this machine by someone else's page."""

    def __init__(self, *, loopback_only: bool) -> None:
        self.loopback_only = loopback_only

    def check(self, request: Request) -> Refusal | None:
        headers = request.headers
        if not headers.get(b"authorization"):
            return _missing_token()
        content_type = headers.get(b"content-type")
        if content_type is not None:
            media = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
            if media in SIMPLE_TYPES:
                return _denied(f"Content-Type {media} is what an HTML form or a plain fetch sends")
        return self.check_read(request)

    def check_read(self, request: Request) -> Refusal | None:
        """For a route that only reads (GET /metrics), which a scraper sends unsigned: refused when the
        request says it comes from a page of another site or a rebound DNS name, so that such a page
        cannot read the answer."""
        headers = request.headers
        fetch_site = headers.get(b"sec-fetch-site", b"").strip().lower()
        if fetch_site in CROSS_SITE_FETCH:
            return _denied(f"the browser marked it Sec-Fetch-Site: {fetch_site.decode('latin-1')}")
        host = headers.get(b"host", b"").decode("latin-1").strip()
        if self.loopback_only and host and not _is_loopback_name(host):
            return _denied(f"Host {host} is not a name of this loopback server")
        origin = headers.get(b"origin")
        if origin is not None:
            own = ("https" if request.secure else "http") + "://" + host
            text = origin.decode("latin-1").strip()
            if _origin_key(text) != _origin_key(own) or _origin_key(text) is None:
                return _denied(f"Origin {text} is not this server's origin ({own})")
        return None


def _origin_key(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the scheme's default port filled in; None when it is not a URL."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def _is_loopback_name(host: str) -> bool:
    """An IP address literal (any: the kernel only routes loopback ones here) or localhost."""
    try:
        name = urlsplit("//" + host).hostname or ""
    except ValueError:
        return False
    if name.lower() in LOOPBACK_NAMES:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True

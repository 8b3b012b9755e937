"""The console's front door: which requests it takes, who is asking, and the checks that keep a browser
session from being used by another site.

- Every request passes the server's cross-site read check (http/cross_site.py: a rebound DNS name, a
  foreign Origin, a fetch the browser marks cross-site).
- A state-changing request (POST) must also say where it comes from (an Origin, or Sec-Fetch-Site:
  same-origin) and carry its session's CSRF token; the session cookie is SameSite=Strict and HttpOnly.
- `--auth sigv4`: a person signs in with an access key id and secret; every page then calls the API as
  that principal, so the API's own AccessDenied decides what they see. `--auth off`: no sign-in, a
  session is started on the first visit (still with its token: a page elsewhere must not post here).
"""

from __future__ import annotations

import logging
from importlib import resources
from urllib.parse import unquote

from ..http.cross_site import CrossSiteGuard
from ..http.messages import Request, Response
from . import dax, items, metrics, streams, tables, triggers, usage
from .client import ApiClient, ApiError, Endpoint, Principal
from .html import ROOT, Viewer, e, error_box, html_response, page, redirect, url
from .sessions import Session, Sessions
from .web import Ask, BadForm, Route, parse_fields

log = logging.getLogger(__name__)

STATIC_TYPES = {".css": b"text/css; charset=utf-8", ".js": b"text/javascript; charset=utf-8"}
ROUTES: list[Route] = [
    *tables.ROUTES,
    *items.ROUTES,
    *streams.ROUTES,
    *triggers.ROUTES,
    *metrics.ROUTES,
    *usage.ROUTES,
    *dax.ROUTES,
]
_REGION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
OPEN_KEY = "console"  # --auth off: the key is not checked, only the region of the signature counts


def _static_files() -> dict[str, tuple[bytes, bytes]]:
    folder = resources.files(__package__).joinpath("static")
    found: dict[str, tuple[bytes, bytes]] = {}
    for entry in folder.iterdir():
        kind = STATIC_TYPES.get("." + entry.name.rpartition(".")[2])
        if kind is not None:
            found[entry.name] = (kind, entry.read_bytes())
    return found


class Console:
    """The web console as a route of the HTTP application (`/console/...`)."""

    def __init__(
        self, endpoint: Endpoint, *, sign_in: bool, region: str, guard: CrossSiteGuard, sessions: Sessions
    ) -> None:
        self.endpoint = endpoint
        self.sign_in = sign_in  # --auth sigv4
        self.region = region  # the server's region: the default of the sign-in form, the one of --auth off
        self.guard = guard
        self.sessions = sessions
        self.static = _static_files()

    def cookie_name(self, request: Request) -> str:
        return "__Host-hwconsole" if request.secure else "hwconsole"

    async def __call__(self, request: Request) -> Response:
        try:
            return await self._route(request)
        except BadForm as err:
            return html_response(page("Bad request", f'<p class="error">{e(err)}</p>', None), 400)
        except ApiError as err:  # a call a page did not expect to fail: shown as the API gave it
            return html_response(page("The API refused", error_box(err), None), 200)

    async def _route(self, request: Request) -> Response:
        refused = self.guard.check_read(request)
        if refused is not None:  # the guard's reason, after its sentence about the Lambda and admin APIs
            reason = refused.message.partition(": ")[2]
            why = f"The console refuses requests another site's page could send: {reason}"
            return html_response(page("Refused", f'<p class="error">{e(why)}</p>', None), 403)
        path = request.path
        if path in (ROOT, ROOT + "/"):
            return redirect(url("tables"))
        if path.startswith(ROOT + "/static/") and request.method == "GET":
            return self._static(path[len(ROOT + "/static/") :])
        if request.method not in ("GET", "POST"):
            return html_response(page("Not allowed", "", None), 405, [(b"allow", b"GET, POST")])
        form: dict[str, str] = {}
        if request.method == "POST":
            if not self._same_origin(request):
                why = "a form posted to the console must come from the console's own pages"
                return html_response(page("Refused", f'<p class="error">{why}</p>', None), 403)
            form = parse_fields(request.body)
        session = self.sessions.find(self._cookie(request))
        if path == ROOT + "/signin" and self.sign_in:
            return await self._sign_in(request, form, session)
        if session is None:
            if self.sign_in:
                if request.method == "POST":
                    return html_response(page("Signed out", _signed_out(), None), 403)
                return redirect(url("signin"))
            return await self._start_open(request)
        if request.method == "POST" and not session.token_matches(form.get("csrf")):
            why = "the form did not carry this session's token; reload the page and try again"
            return html_response(page("Refused", f'<p class="error">{why}</p>', None), 403)
        if path == ROOT + "/signout" and request.method == "POST":
            self.sessions.end(session.id)
            return redirect(url("signin") if self.sign_in else url("tables"), [self._clear_cookie(request)])
        return await self._dispatch(request, session, form)

    async def _dispatch(self, request: Request, session: Session, form: dict[str, str]) -> Response:
        principal = session.principal
        viewer = Viewer(
            session.csrf, principal.access_key if self.sign_in else "", principal.region, self.sign_in
        )
        ask = Ask(request, ApiClient(self.endpoint, principal), viewer, parse_fields(request.query), form)
        tail = request.path[len(ROOT) :]
        for found in ROUTES:
            if found.method != request.method:
                continue
            match = found.pattern.match(tail)
            if match is not None:
                return await found.handler(ask, *(unquote(g) for g in match.groups()))
        return html_response(page("Not found", "<p>No console page here.</p>", viewer), 404)

    def _static(self, name: str) -> Response:
        found = self.static.get(name)
        if found is None:
            return Response(404, b"not found", [(b"content-type", b"text/plain")])
        kind, body = found
        headers = [
            (b"content-type", kind),
            (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-cache"),
        ]
        return Response(200, body, headers)

    @staticmethod
    def _same_origin(request: Request) -> bool:
        """The request says it comes from a page of this server: an Origin (the cross-site check has
        already compared it with the Host), or Sec-Fetch-Site: same-origin. A request saying neither is
        refused: every browser sends an Origin with a form's POST."""
        headers = request.headers
        return b"origin" in headers or headers.get(b"sec-fetch-site", b"").strip().lower() == b"same-origin"

    def _cookie(self, request: Request) -> str | None:
        raw = request.headers.get(b"cookie")
        if raw is None or len(raw) > 8192:
            return None
        wanted = self.cookie_name(request)
        for part in raw.decode("latin-1").split(";"):
            name, _, value = part.strip().partition("=")
            if name == wanted:
                return value
        return None

    def _set_cookie(self, request: Request, session: Session) -> tuple[bytes, bytes]:
        secure = "; Secure" if request.secure else ""
        value = f"{self.cookie_name(request)}={session.id}; Path=/; HttpOnly; SameSite=Strict{secure}"
        return b"set-cookie", value.encode()

    def _clear_cookie(self, request: Request) -> tuple[bytes, bytes]:
        secure = "; Secure" if request.secure else ""
        value = f"{self.cookie_name(request)}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}"
        return b"set-cookie", value.encode()

    async def _start_open(self, request: Request) -> Response:
        """--auth off: the first visit starts a session (for its CSRF token) and sees the page again."""
        if request.method == "POST":
            return html_response(page("Session ended", _signed_out(), None), 403)
        session = self.sessions.start(Principal(OPEN_KEY, OPEN_KEY, self.region))
        target = request.path + (f"?{request.query.decode('latin-1')}" if request.query else "")
        return redirect(target, [self._set_cookie(request, session)])

    async def _sign_in(self, request: Request, form: dict[str, str], session: Session | None) -> Response:
        if request.method == "GET":
            if session is not None:
                return redirect(url("tables"))
            return html_response(_sign_in_page(self.region, None))
        key, secret = form.get("access_key", "").strip(), form.get("secret_key", "")
        region = form.get("region", "").strip() or self.region
        if not _key_id_ok(key) or not secret or len(secret) > 128 or not _region_ok(region):
            error = ApiError(
                400, "ValidationException", "an access key id, its secret and a region are needed"
            )
            return html_response(_sign_in_page(region if _region_ok(region) else self.region, error), 400)
        principal = Principal(key, secret, region)
        try:
            await ApiClient(self.endpoint, principal).dynamodb("ListTables", {"Limit": 1})
        except ApiError as err:
            if err.type_name != "AccessDeniedException":  # denied ListTables: known, only not allowed
                return html_response(_sign_in_page(region, err), 403)
        if session is not None:
            self.sessions.end(session.id)
        started = self.sessions.start(principal)
        log.info("console: %s signed in (%s)", key, region)
        return redirect(url("tables"), [self._set_cookie(request, started)])


def _key_id_ok(key: str) -> bool:
    """An access key id is letters and digits (it goes into the Authorization header)."""
    return 0 < len(key) <= 128 and key.isascii() and key.isalnum()


def _region_ok(region: str) -> bool:
    return 0 < len(region) <= 32 and set(region) <= _REGION_CHARS


def _signed_out() -> str:
    return f'<p>Your console session has ended. <a href="{url("signin")}">Sign in</a> again.</p>'


def _sign_in_page(region: str, error: ApiError | None) -> str:
    body = (
        f"{error_box(error)}"
        f'<form method="post" action="{url("signin")}" class="card narrow">'
        '<label>Access key id <input name="access_key" autocomplete="username" required '
        'maxlength="128"></label>'
        '<label>Secret access key <input name="secret_key" type="password" autocomplete="current-password" '
        'required maxlength="128"></label>'
        f'<label>Region <input name="region" value="{e(region)}" maxlength="32" required></label>'
        '<button type="submit">Sign in</button></form>'
        "<p class=hint>The console calls Headwater's API with these credentials: you see and change what "
        "their policies allow, nothing more.</p>"
    )
    return page("Sign in", body, None)

"""The console's HTML: escaping, the page shell, and the few pieces every page uses. Pages are rendered
here on the server; the scripts under static/ only add the live parts (stream tail, charts, editor views)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from ..http.messages import Response
from .client import ApiError

ROOT = "/console"
NAV = (
    ("tables", "Tables"),
    ("triggers", "Triggers"),
    ("metrics", "Metrics"),
    ("usage", "Usage"),
    ("dax", "DAX"),
)

# what a page may load and where it may send things: only this server, no inline script
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make a form's Origin "null"
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


def e(value: Any) -> str:
    """Text for HTML (element content or a quoted attribute)."""
    return escape(str(value), quote=True)


def url(*parts: str, **query: str) -> str:
    """A console URL: each part percent-encoded (table names may hold dots), the query encoded."""
    path = ROOT + "".join("/" + quote(p, safe="") for p in parts)
    return path + ("?" + urlencode(query) if query else "")


@dataclass(frozen=True, slots=True)
class Viewer:
    """What the page shell needs to know about the session that asks."""

    csrf: str
    who: str  # the access key id, or "" under --auth off
    region: str
    signed_in: bool


def csrf_field(viewer: Viewer) -> str:
    return f'<input type="hidden" name="csrf" value="{e(viewer.csrf)}">'


def page(
    title: str, body: str, viewer: Viewer | None, *, section: str = "", scripts: Iterable[str] = ()
) -> str:
    nav = ""
    if viewer is not None:
        links = "".join(
            f'<a href="{url(key)}"{" aria-current=page" if key == section else ""}>{label}</a>'
            for key, label in NAV
        )
        who = f"{e(viewer.who)} · " if viewer.who else ""
        signout = (
            f'<form method="post" action="{url("signout")}" class="inline">{csrf_field(viewer)}'
            '<button class="link">Sign out</button></form>'
            if viewer.signed_in
            else ""
        )
        nav = (
            f'<nav><a class="brand" href="{url("tables")}">Headwater</a><span class="links">{links}</span>'
            f'<span class="who">{who}{e(viewer.region)} {signout}</span></nav>'
        )
    tags = "".join(f'<script type="module" src="{url("static", s)}"></script>' for s in scripts)
    csrf = f'<meta name="csrf" content="{e(viewer.csrf)}">' if viewer is not None else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · Headwater</title>{csrf}"
        f'<link rel="stylesheet" href="{url("static", "console.css")}">{tags}</head>'
        f"<body>{nav}<main><h1>{e(title)}</h1>{body}</main></body></html>"
    )


def html_response(text: str, status: int = 200, extra: list[tuple[bytes, bytes]] | None = None) -> Response:
    headers = [(b"content-type", b"text/html; charset=utf-8"), *SECURITY_HEADERS, *(extra or [])]
    return Response(status, text.encode(), headers)


def json_response(doc: Any, status: int = 200) -> Response:
    return Response(status, orjson.dumps(doc), [(b"content-type", b"application/json"), *SECURITY_HEADERS])


def redirect(location: str, extra: list[tuple[bytes, bytes]] | None = None) -> Response:
    """303: after a form's POST the browser GETs the page (a reload does not send the form again)."""
    return Response(303, b"", [(b"location", location.encode()), *SECURITY_HEADERS, *(extra or [])])


def error_box(error: ApiError | None) -> str:
    """An API error as the API gave it: its type and its message."""
    if error is None:
        return ""
    message = f": {e(error.message)}" if error.message else ""
    return f'<div class="error" role="alert"><strong>{e(error.type_name)}</strong>{message}</div>'


def notice(text: str) -> str:
    return f'<div class="notice" role="status">{e(text)}</div>' if text else ""


def table(headings: Iterable[str], rows: Iterable[Iterable[str]], empty: str = "Nothing here yet.") -> str:
    """Cells are HTML already (escape what goes in); a narrow window scrolls the table, not the page."""
    head = "".join(f"<th>{e(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="empty">{e(empty)}</p>'
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def options(choices: Iterable[tuple[str, str]], selected: str = "") -> str:
    return "".join(
        f'<option value="{e(v)}"{" selected" if v == selected else ""}>{e(label)}</option>'
        for v, label in choices
    )


def pretty(doc: Any) -> str:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()

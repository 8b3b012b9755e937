"""What a request and its answer are to the HTTP server (http/server.py) and every handler: the shapes a
handler takes and returns, and how an answer is written on the wire."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # percent-encoded, as sent
    query: bytes  # after "?", percent-encoded, as sent
    headers: dict[bytes, bytes]  # lowercase names; repeated headers joined with ","
    raw_headers: Headers  # as sent (names lowercased), in order: request signing needs them all
    body: bytes
    client: str  # the peer's address ("" for a Unix socket)
    secure: bool = False  # arrived over TLS


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: Headers = field(default_factory=list)  # content-length and date are added by the server


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}


class DateHeader:
    """The `date` header, formatted at most once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def get(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = email.utils.formatdate(now, usegmt=True).encode()
        return self._value


def render(response: Response, date: bytes, *, keep_alive: bool, head: bool) -> bytes:
    status = response.status
    parts = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown"))]
    for name, value in response.headers:
        parts.append(b"%s: %s\r\n" % (name, value))
    parts.append(b"content-length: %d\r\ndate: %s\r\n" % (len(response.body), date))
    if not keep_alive:
        parts.append(b"connection: close\r\n")
    parts.append(b"\r\n")
    if not head:
        parts.append(response.body)
    return b"".join(parts)


def plain(status: int, text: str) -> Response:
    return Response(status, text.encode(), [(b"content-type", b"text/plain")])


Refusal = Callable[[int, str], Response]  # the answer to a request the server refuses (status, reason)

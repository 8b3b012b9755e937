"""A small HTTP/1.1 server on asyncio and httptools: the one server (and port) for every route.

Why not uvicorn: every DynamoDB call pays the server's per-request cost, and the ASGI plumbing (scope
dicts, receive/send coroutines, a Task per request) measured ~30 us per request where this takes ~11 us.
What it does: keep-alive and pipelining (answers in order), chunked request bodies, `Expect:
100-continue`, HEAD, bounded headers and bodies, timeouts for idle, slow and stalled connections, a bound
on open connections and backpressure on a client that does not read its answers (with
http/connections.py: the connections' register, TLS and the listening server), and, with several serving
processes, handing a connection between two requests to the process that answers them without a hop.

A handler is a coroutine function `Request -> Response`. It is driven by `drive` below rather than a
Task: most requests finish without ever waiting (a GetItem), or wait on one future (a write's commit).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import httptools

from .messages import Handler, Headers, Request, Response, plain, render

if TYPE_CHECKING:
    from .connections import Connections

log = logging.getLogger(__name__)


DISCARD_PAUSE = 2.0  # seconds without more of a refused body before its connection is closed anyway
# requests in a row that another serving process would answer without a hop, before the connection is
# offered to it (process/handoff.py): a client mixing reads and writes stays where it is
MOVE_AFTER = 16


@dataclass(frozen=True, slots=True)
class Limits:
    """What one client may send. Defaults fit every SDK request (16 MB is DynamoDB's request limit)."""

    max_body: int = 16 * 1024 * 1024
    max_header_bytes: int = 64 * 1024  # request line + every header
    max_headers: int = 100
    max_pipelined: int = 32  # requests read ahead of the one being answered, before reading pauses
    idle_timeout: float = 60.0  # a keep-alive connection with nothing to do
    header_timeout: float = 30.0  # from a request's first byte to the end of its headers
    body_timeout: float = 60.0  # from the end of the headers to the end of the body
    send_timeout: float = 60.0  # a client that reads none of its answers for this long is dropped
    tls_timeout: float = 10.0  # for a TLS handshake, and for the closing one
    # open connections (per process): a new one takes the place of an idle one (`Connections`)
    max_connections: int = 1000
    # request bodies held at once by all of a process's connections (being read, or waiting for their turn
    # or their answer); a body that does not fit is refused with 503, which SDKs retry
    max_held_bodies: int = 256 * 1024 * 1024


# -- driving a coroutine without a Task


def drive(coro: Coroutine[Any, Any, Any], done: Callable[[Any, BaseException | None], None]) -> None:
    """Run `coro` to completion on the running loop and call `done(result, error)`.

    A Task per request costs a scheduling round and bookkeeping; most requests here never wait, and
    those that do wait on plain futures. Coroutines that need `asyncio.current_task()` (timeouts,
    `wait_for`) must not be driven this way.
    """
    _Driver(coro, done).step()


class _Driver:
    __slots__ = ("_coro", "_done")

    def __init__(self, coro: Coroutine[Any, Any, Any], done: Callable[[Any, BaseException | None], None]):
        self._coro = coro
        self._done = done

    def step(self) -> None:
        try:
            yielded = self._coro.send(None)
        except StopIteration as stop:
            self._done(stop.value, None)
            return
        except BaseException as exc:  # the caller decides what an error becomes
            self._done(None, exc)
            return
        if yielded is None:  # a bare yield (asyncio.sleep(0)): come back on the next loop pass
            asyncio.get_running_loop().call_soon(self.step)
        elif getattr(yielded, "_asyncio_future_blocking", False):
            yielded._asyncio_future_blocking = False
            yielded.add_done_callback(self._wake)
        else:
            self._coro.close()
            self._done(None, RuntimeError(f"a driven coroutine yielded {yielded!r}"))

    def _wake(self, _future: asyncio.Future[Any]) -> None:
        self.step()  # the coroutine's `await` reads the future's result itself


# -- the connection


class HttpProtocol(asyncio.Protocol):
    """One client connection. Requests are answered one at a time, in the order they arrived."""

    def __init__(self, connections: Connections) -> None:
        self._connections = connections
        self._handler = connections.handler
        self._refusal = connections.refusal
        self._discard = 0  # body bytes of a refused request still to read and drop before closing
        self._limits = connections.limits
        self._date = connections.date
        self._secure = connections.secure
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._client = ""
        self._queue: deque[tuple[Request, bool]] = deque()  # parsed, waiting for their turn
        self._busy = False
        self._paused = False  # reading paused: too many requests waiting, or the client not reading
        self._write_paused = False  # the transport's buffer is full: the client does not read its answers
        self._closing = False
        self._held = 0  # body bytes of this connection's requests counted in `Connections.held`
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        # the request being parsed
        self._url = b""
        self._header_bytes = 0
        self._raw: Headers = []
        self._body: list[bytes] = []
        self._body_size = 0
        self._in_message = False
        self._elsewhere = 0  # requests in a row another process would answer without a hop (Placement)
        self._feeding = False  # inside `feed_data`: bytes read from the socket may still be unparsed

    # -- transport callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses
        if not self._connections.opened(self):
            self._closing = True
            self._transport.abort()
            return
        peer = transport.get_extra_info("peername")
        self._client = peer[0] if isinstance(peer, tuple) else ""
        self._arm(self._limits.idle_timeout)
        self._connections.became_idle(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.closed(self)
        self._release(self._held)
        self._closing = True
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
        self._transport = None

    def data_received(self, data: bytes) -> None:
        if self._discard:
            # a refused request's body: read it to the end so the client gets to read our answer (closing
            # with unread data would reset the connection under it), then close
            self._discard = max(0, self._discard - len(data))
            if not self._discard:
                self._close()
            else:
                self._arm(DISCARD_PAUSE)
            return
        if self._closing:
            return
        self._feeding = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(501, "Upgrade is not supported")
        except (httptools.HttpParserError, _Refused) as exc:
            # httptools wraps an exception raised in a callback (our refusals) in its own error
            refused = exc if isinstance(exc, _Refused) else exc.__context__
            if isinstance(refused, _Refused):
                self._fail(refused.status, refused.text)
            else:
                self._fail(400, "Bad request")
        finally:
            self._feeding = False
        if self._elsewhere >= MOVE_AFTER and not (self._busy or self._closing or self._write_paused):
            self._move()  # not while feeding: the rest of `data` was read here and is answered here

    # -- parser callbacks

    def on_message_begin(self) -> None:
        self._in_message = True
        self._connections.became_active(self)
        self._url = b""
        self._header_bytes = 0
        self._raw = []
        self._body = []
        self._body_size = 0
        if not self._busy and not self._write_paused:  # paused: the send timeout governs (pipelining)
            self._arm(self._limits.header_timeout)

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._count_header_bytes(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value))
        if len(self._raw) >= self._limits.max_headers:
            raise _Refused(431, "Too many request headers")
        self._raw.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        if not self._busy and not self._write_paused:
            self._arm(self._limits.body_timeout)
        for name, value in self._raw:
            if name == b"content-length" and value.isdigit() and int(value) > self._limits.max_body:
                self._discard = int(value)
                raise _Refused(413, "Request entity too large")
            if name == b"expect" and value.lower() == b"100-continue" and self._transport is not None:
                self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, chunk: bytes) -> None:
        size = len(chunk)
        self._body_size += size
        if self._body_size > self._limits.max_body:
            raise _Refused(413, "Request entity too large")
        if not self._connections.hold(size):
            length = next((v for n, v in self._raw if n == b"content-length" and v.isdigit()), b"0")
            self._discard = max(0, int(length) - self._body_size)  # read to the end: the client sees the 503
            raise _Refused(503, "The server holds too many request bodies: try again")
        self._held += size
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        self._in_message = False
        parsed = httptools.parse_url(self._url)
        headers: dict[bytes, bytes] = {}
        for name, value in self._raw:
            headers[name] = headers[name] + b"," + value if name in headers else value
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        request = Request(
            self._parser.get_method().decode("ascii", "replace"),
            (parsed.path or b"/").decode("latin-1"),
            parsed.query or b"",
            headers,
            self._raw,
            body,
            self._client,
            self._secure,
        )
        self._queue.append((request, self._parser.should_keep_alive()))
        if len(self._queue) >= self._limits.max_pipelined:
            self._update_reading()
        if not self._busy:
            self._next()

    def _count_header_bytes(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > self._limits.max_header_bytes:
            raise _Refused(431, "Request header fields too large")

    # -- answering

    def _next(self) -> None:
        if not self._queue or self._closing or self._write_paused:
            return
        request, keep_alive = self._queue.popleft()
        placement = self._connections.placement
        if placement is not None:
            self._elsewhere = self._elsewhere + 1 if placement.elsewhere(request) else 0
        if self._paused:
            self._update_reading()
        self._busy = True
        self._disarm()

        def done(response: Any, error: BaseException | None) -> None:
            if error is not None or not isinstance(response, Response):
                log.error("request handler failed", exc_info=error)
                response = plain(500, "Internal server error")
            self._answer(request, response, keep_alive)

        drive(self._handler(request), done)

    def _answer(self, request: Request, response: Response, keep_alive: bool) -> None:
        self._busy = False
        transport = self._transport
        if request.body and transport is not None:  # once the connection is lost, all was released
            self._release(len(request.body))
        if transport is None or self._closing:
            return
        transport.write(
            render(response, self._date.get(), keep_alive=keep_alive, head=request.method == "HEAD")
        )
        if not keep_alive:
            self._close()
        elif self._write_paused:
            self._arm(self._limits.send_timeout)  # `resume_writing` goes on once the client reads
        elif self._elsewhere < MOVE_AFTER or self._feeding or not self._move():
            self._carry_on()

    def _move(self) -> bool:
        """Hand the connection to the process that answers its requests without a hop (process/handoff.py),
        between two requests: nothing read and unanswered, nothing unsent. False: it stays here."""
        transport, placement = self._transport, self._connections.placement
        if transport is None or placement is None or self._queue or self._in_message:
            return False
        sock = transport.get_extra_info("socket")
        unsent = sock is None or transport.get_write_buffer_size()
        moved = "later" if unsent else placement.move(sock.fileno())
        if moved != "moved":
            # later: offered again after as many more; stays: not again while its requests stay the same
            self._elsewhere = 0 if moved == "later" else -(1 << 62)
            return False
        transport.pause_reading()  # what the client sends next is the new process's to read
        self._closing = True
        self._disarm()
        transport.abort()  # closes this process's descriptor only: the other holds the connection
        return True

    def _carry_on(self) -> None:
        """Nothing being answered: the next request, or wait for one."""
        if self._queue:
            self._next()
        elif self._in_message:
            self._arm(self._limits.header_timeout)
        else:
            self._arm(self._limits.idle_timeout)
            self._connections.became_idle(self)

    # -- flow control

    def pause_writing(self) -> None:
        """The transport's buffer is full: the client is not reading its answers. Read and answer nothing
        more until it does (its answers would pile up here), and drop it if it reads nothing for
        `send_timeout`."""
        self._write_paused = True
        self._update_reading()
        self._arm(self._limits.send_timeout)

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._closing:
            return  # the transport closes once the rest is sent
        self._update_reading()
        if not self._busy:
            self._carry_on()

    def _release(self, size: int) -> None:
        self._held -= size
        self._connections.release(size)

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None or self._closing:
            return
        pause = self._write_paused or len(self._queue) >= self._limits.max_pipelined
        if pause != self._paused:
            self._paused = pause
            if pause:
                transport.pause_reading()
            else:
                transport.resume_reading()

    def _fail(self, status: int, text: str) -> None:
        """A request we will not read to the end: answer it (if nothing is being answered) and close."""
        transport = self._transport
        self._queue.clear()
        if transport is not None and not self._busy:
            transport.write(
                render(self._refusal(status, text), self._date.get(), keep_alive=False, head=False)
            )
        if self._discard and transport is not None:
            self._closing = True  # no more requests on it; `data_received` drops the rest of the body
            self._arm(DISCARD_PAUSE)
            return
        self._close()

    def _close(self) -> None:
        self._closing = True
        if self._write_paused:
            self._arm(self._limits.send_timeout)  # closing waits for the answers to be read: not forever
        else:
            self._disarm()
        if self._transport is not None:
            self._transport.close()

    def evict(self) -> None:
        """Make room for a new connection (`Connections`): closed at once, whatever it was doing."""
        self._closing = True
        self._disarm()
        if self._transport is not None:
            self._transport.abort()

    @property
    def receiving(self) -> bool:
        """In the middle of sending a request, with nothing being answered."""
        return self._in_message and not self._busy

    # -- timeouts

    # One lazily re-armed timer per connection: a deadline moves with every request, the timer only
    # when it fires early (scheduling a timer per request state would cost more than the request).

    def _arm(self, seconds: float) -> None:
        deadline = self._deadline = self._loop.time() + seconds
        timer = self._timer
        if timer is not None and timer.when() > deadline:  # an earlier deadline than the timer's
            timer.cancel()
            timer = None
        if timer is None:
            self._timer = self._loop.call_at(deadline, self._tick)

    def _disarm(self) -> None:
        self._deadline = None

    def _tick(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None or (self._closing and not self._discard and not self._write_paused):
            return
        if self._loop.time() < deadline:
            self._timer = self._loop.call_at(deadline, self._tick)
            return
        self._deadline = None
        if self._write_paused:  # the client reads nothing of its answers: closing would wait for it
            self._closing = True
            if self._transport is not None:
                self._transport.abort()
        elif self._busy:
            return  # the server is working on a request: that is not the client's delay
        elif self._discard:
            self._discard = 0
            self._close()
        elif self._in_message:
            self._fail(408, "Request timeout")
        else:
            self._close()  # idle keep-alive connection


class _Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


async def call(handler: Handler, request: Request) -> Response:
    """Run a handler the way the server does, from a coroutine (tests, in-process clients)."""
    future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()

    def done(response: Any, error: BaseException | None) -> None:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(response)

    drive(handler(request), done)
    return await future


__all__ = ["MOVE_AFTER", "HttpProtocol", "Limits", "call", "drive"]

"""The HTTP/1.1 server (http/server.py) on a real loopback socket: keep-alive and pipelining in order,
chunked bodies, Expect: 100-continue, HEAD, the limits a client cannot exceed, timeouts for idle,
stalled and trickling connections, the bound on open connections, a client that does not read its
answers, TLS (handshake timeout, `Request.secure`), a malformed request, and a handler that fails."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from headwater.http.connections import Connections, listen, protocol_factory
from headwater.http.messages import Request, Response
from headwater.http.server import Limits
from headwater.http.tls import server_context
from tests.tls_support import Pki, make_pki
from tests.waiting import wait_until_async

Handler = Callable[[Request], Awaitable[Response]]
CHUNKED_HEAD = b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


async def echo(request: Request) -> Response:
    if request.path == "/fail":
        raise RuntimeError("handler bug")
    if request.path == "/slow":
        await asyncio.sleep(0.05)
    body = b"%s %s %s|" % (request.method.encode(), request.path.encode(), request.query) + request.body
    return Response(200, body, [(b"content-type", b"text/plain")])


@asynccontextmanager
async def listening(
    handler: Handler = echo, limits: Limits | None = None, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, Connections]]:
    async def wrapped(request: Request) -> Response:
        return await handler(request)

    connections = protocol_factory(wrapped, limits, secure=tls is not None)
    srv = await listen(connections, tls, host="127.0.0.1", port=0)
    try:
        yield srv.sockets[0].getsockname()[1], connections
    finally:
        srv.close()
        await srv.wait_closed()


@asynccontextmanager
async def serving(handler: Handler = echo, limits: Limits | None = None) -> AsyncIterator[int]:
    async with listening(handler, limits) as (port, _):
        yield port


async def exchange(port: int, data: bytes, *, until_closed: bool = False, timeout: float = 10.0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if until_closed:
            return await asyncio.wait_for(reader.read(), timeout)
        return await asyncio.wait_for(_read_responses(reader, data.count(b"HTTP/1.1\r\n")), timeout)
    finally:
        writer.close()


async def _read_responses(reader: asyncio.StreamReader, count: int) -> bytes:
    out = b""
    for _ in range(count):
        head = await reader.readuntil(b"\r\n\r\n")
        if head.startswith(b"HTTP/1.1 100"):
            out += head
            head = await reader.readuntil(b"\r\n\r\n")
        length = int(
            next(line.split(b":")[1] for line in head.split(b"\r\n") if line.startswith(b"content-length"))
        )
        body = await reader.readexactly(length)
        out += head + body
    return out


def run(coro: Awaitable[None]) -> None:
    async def main() -> None:
        await coro

    asyncio.run(main())


def test_keep_alive_and_pipelined_requests_are_answered_in_order() -> None:
    async def scenario() -> None:
        async with serving() as port:
            requests = (
                b"GET /slow?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            out = await exchange(port, requests)
            bodies = [part.split(b"\r\n\r\n", 1)[1][:40] for part in out.split(b"HTTP/1.1 200 OK")[1:]]
            assert [b.split(b"|")[0] for b in bodies] == [b"GET /slow a=1", b"POST /b ", b"GET /c "]
            assert b"abc" in bodies[1]
            assert out.count(b"date: ") == 3 and b"connection: close" not in out

    run(scenario())


def test_chunked_body_expect_continue_and_head() -> None:
    async def scenario() -> None:
        async with serving() as port:
            chunked = CHUNKED_HEAD.replace(b"/x", b"/c") + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            assert (await exchange(port, chunked)).endswith(b"POST /c |abcde")
            expect = b"POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"
            out = await exchange(port, expect)
            assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK") and out.endswith(b"|hi")
            head = await exchange(
                port, b"HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", until_closed=True
            )
            assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")  # no body
            assert b"content-length: 9\r\n" in head  # the length GET would have had

    run(scenario())


def test_connection_close_and_http_1_0() -> None:
    async def scenario() -> None:
        async with serving() as port:
            out = await exchange(
                port, b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", until_closed=True
            )
            assert b"connection: close" in out and out.endswith(b"GET /x |")
            out = await exchange(port, b"GET /y HTTP/1.0\r\n\r\n", until_closed=True)
            assert out.startswith(b"HTTP/1.1 200 OK") and out.endswith(b"GET /y |")

    run(scenario())


def test_limits_on_headers_and_body() -> None:
    async def scenario() -> None:
        limits = Limits(max_body=10, max_header_bytes=200, max_headers=5)
        async with serving(limits=limits) as port:
            big = b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n" + b"x" * 11
            assert (await exchange(port, big, until_closed=True)).startswith(b"HTTP/1.1 413 ")
            chunked = CHUNKED_HEAD + b"6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n"
            assert (await exchange(port, chunked, until_closed=True)).startswith(b"HTTP/1.1 413 ")
            many = b"GET /x HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(6)) + b"\r\n"
            assert (await exchange(port, many, until_closed=True)).startswith(b"HTTP/1.1 431 ")
            long = b"GET /x HTTP/1.1\r\nHost: " + b"h" * 300 + b"\r\n\r\n"
            assert (await exchange(port, long, until_closed=True)).startswith(b"HTTP/1.1 431 ")

    run(scenario())


def test_malformed_requests_and_failing_handlers() -> None:
    async def scenario() -> None:
        async with serving() as port:
            assert (await exchange(port, b"NOT HTTP AT ALL\r\n\r\n", until_closed=True)).startswith(
                b"HTTP/1.1 400 "
            )
            out = await exchange(
                port, b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            assert out.startswith(b"HTTP/1.1 500 ") and out.endswith(
                b"GET /after |"
            )  # the connection lives on

    run(scenario())


def test_idle_and_stalled_connections_are_closed() -> None:
    async def scenario() -> None:
        limits = Limits(idle_timeout=0.2, header_timeout=0.2, body_timeout=0.2)
        async with serving(limits=limits) as port:
            idle = await exchange(port, b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n", until_closed=True)
            assert idle.endswith(b"GET /x |")  # answered, then closed for idling (the read ended)
            stalled_headers = await exchange(port, b"GET /x HTTP/1.1\r\nHost:", until_closed=True)
            assert stalled_headers.startswith(b"HTTP/1.1 408 ")
            stalled_body = await exchange(
                port, b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", until_closed=True
            )
            assert stalled_body.startswith(b"HTTP/1.1 408 ")

    run(scenario())


# -- greedy clients


async def read_until_closed(reader: asyncio.StreamReader, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection (a reset ends it too)."""
    out = b""
    with contextlib.suppress(ConnectionError):
        while chunk := await asyncio.wait_for(reader.read(65536), timeout):
            out += chunk
    return out


async def trickle(port: int, head: bytes) -> bytes:
    """Send `head`, then one byte every 20 ms for as long as the connection lives; what the server said."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def drip() -> None:
        with contextlib.suppress(ConnectionError):
            writer.write(head)
            while True:
                await asyncio.sleep(0.02)
                writer.write(b"a")
                await writer.drain()

    dripping = asyncio.ensure_future(drip())
    try:
        return await read_until_closed(reader)
    finally:
        dripping.cancel()
        writer.close()


def test_trickled_headers_and_bodies_are_cut_off() -> None:
    """Slowloris: bytes that keep coming do not extend a request's header or body timeout."""

    async def scenario() -> None:
        limits = Limits(header_timeout=0.3, body_timeout=0.3)
        async with serving(limits=limits) as port:
            headers = await trickle(port, b"GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            assert headers.startswith(b"HTTP/1.1 408 ")
            body = await trickle(port, b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            assert body.startswith(b"HTTP/1.1 408 ")

    run(scenario())


async def opened(port: int, first: bytes = b"") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if first:
        writer.write(first)
        await writer.drain()
    return reader, writer


def test_a_new_connection_takes_the_place_of_an_idle_one() -> None:
    async def scenario() -> None:
        async with listening(limits=Limits(max_connections=3)) as (port, connections):
            idle = [await opened(port) for _ in range(3)]
            await wait_until_async(lambda: len(connections.open) == 3)
            # the first one becomes active again: the second is now the least recently active
            idle[0][1].write(b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await _read_responses(idle[0][0], 1)).endswith(b"GET /again |")
            assert (await exchange(port, b"GET /new HTTP/1.1\r\nHost: x\r\n\r\n")).endswith(b"GET /new |")
            assert await read_until_closed(idle[1][0]) == b""  # closed to make room
            assert len(connections.open) <= 3
            idle[0][1].write(b"GET /still HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await _read_responses(idle[0][0], 1)).endswith(b"GET /still |")
            for _, writer in idle:
                writer.close()

    run(scenario())


def test_connections_stalled_in_a_request_make_room_too_but_not_those_being_answered() -> None:
    release = asyncio.Event()

    async def held(request: Request) -> Response:
        if request.path == "/hold":
            await release.wait()
        return await echo(request)

    async def scenario() -> None:
        async with listening(held, Limits(max_connections=2)) as (port, connections):
            stalled = await opened(port, b"GET /x HTTP/1.1\r\nHost:")
            answering = await opened(port, b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
            await wait_until_async(lambda: len(connections.open) == 2)
            assert (await exchange(port, b"GET /new HTTP/1.1\r\nHost: x\r\n\r\n")).endswith(b"GET /new |")
            assert await read_until_closed(stalled[0]) == b""
            # both open connections are now being answered (the one above, closing, may linger a moment)
            also_held = await opened(port, b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
            await wait_until_async(lambda: len(connections.open) == 2)
            refused = await opened(port, b"GET /refused HTTP/1.1\r\nHost: x\r\n\r\n")
            assert await read_until_closed(refused[0]) == b""
            release.set()
            assert (await _read_responses(answering[0], 1)).endswith(b"GET /hold |")
            assert (await _read_responses(also_held[0], 1)).endswith(b"GET /hold |")
            for _, writer in (stalled, answering, also_held, refused):
                writer.close()

    run(scenario())


def post(path: str, body: bytes, length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (path.encode(), size) + body


def test_request_bodies_held_at_once_are_bounded() -> None:
    """Bodies being read or waiting for their answer, over every connection: past the bound a request is
    refused (503, which SDKs retry), so many connections sending large bodies cannot exhaust memory."""
    release = asyncio.Event()

    async def held(request: Request) -> Response:
        if request.path == "/hold":
            await release.wait()
        return await echo(request)

    async def scenario() -> None:
        async with listening(held, Limits(max_held_bodies=1000)) as (port, connections):
            first = await opened(port, post("/hold", b"a" * 600))
            await wait_until_async(lambda: connections.held == 600)
            refused = await exchange(port, post("/x", b"b" * 600), until_closed=True)
            assert refused.startswith(b"HTTP/1.1 503 ")
            assert (await exchange(port, post("/fits", b"c" * 300))).endswith(b"|" + b"c" * 300)
            release.set()
            assert (await _read_responses(first[0], 1)).endswith(b"|" + b"a" * 600)
            await wait_until_async(lambda: connections.held == 0)
            assert (await exchange(port, post("/x", b"b" * 600))).endswith(b"|" + b"b" * 600)
            # a connection that goes in the middle of a body gives back what it held
            partial = await opened(port, post("/x", b"d" * 800, length=900))
            await wait_until_async(lambda: connections.held == 800)
            partial[1].close()
            await wait_until_async(lambda: connections.held == 0)
            first[1].close()

    run(scenario())


BIG = b"x" * 65536


async def big(request: Request) -> Response:
    return Response(200, request.path.encode() + b"|" + BIG)


def test_a_client_that_does_not_read_its_answers_is_dropped_and_not_answered_further() -> None:
    """Its answers would otherwise pile up in the server's memory, and closing would wait on them forever."""
    handled = [0]

    async def counted(request: Request) -> Response:
        handled[0] += 1
        return await big(request)

    async def scenario() -> None:
        async with listening(counted, Limits(send_timeout=0.3)) as (port, connections):
            count = 1000  # 64 MB of answers: more than the kernel's socket buffers hold
            reader, writer = await opened(port, b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n" * count)
            await wait_until_async(lambda: handled[0] and not connections.open, what="the connection dropped")
            assert handled[0] < count
            received = await read_until_closed(reader)
            assert received.count(b"HTTP/1.1 200 ") < count
            writer.close()

    run(scenario())


def test_a_client_that_reads_late_gets_every_answer_in_order() -> None:
    async def scenario() -> None:
        async with listening(big) as (port, _):
            count = 200  # 13 MB: the server has to wait for the client more than once
            reader, writer = await opened(
                port, b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(count))
            )
            out = await asyncio.wait_for(_read_responses(reader, count), 60)
            bodies = [
                part.split(b"\r\n\r\n", 1)[1].split(b"|")[0] for part in out.split(b"HTTP/1.1 200 OK")[1:]
            ]
            assert bodies == [b"/%d" % i for i in range(count)]
            writer.close()

    run(scenario())


# -- TLS


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def secure_echo(request: Request) -> Response:
    return Response(200, b"secure" if request.secure else b"plain")


def test_requests_over_tls_are_marked_secure(pki: Pki) -> None:
    async def scenario() -> None:
        client = ssl.create_default_context(cafile=pki.ca)
        async with listening(secure_echo, tls=server_context(pki.cert, pki.key)) as (port, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await asyncio.wait_for(_read_responses(reader, 1), 10)).endswith(b"\r\n\r\nsecure")
            writer.close()
        async with serving(secure_echo) as port:
            assert (await exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")).endswith(b"\r\n\r\nplain")

    run(scenario())


def test_a_tls_handshake_that_never_completes_is_given_up(pki: Pki) -> None:
    async def scenario() -> None:
        limits = Limits(tls_timeout=0.3)
        async with listening(secure_echo, limits, server_context(pki.cert, pki.key)) as (port, _):
            silent = await opened(port)  # connects, never says hello
            assert await read_until_closed(silent[0]) == b""
            silent[1].close()
            # a hello that stops half way
            hello = ssl.create_default_context(cafile=pki.ca).wrap_bio(
                ssl.MemoryBIO(), outgoing := ssl.MemoryBIO()
            )
            with contextlib.suppress(ssl.SSLWantReadError):
                hello.do_handshake()
            partial = await opened(port, outgoing.read()[:20])
            assert await read_until_closed(partial[0]) == b""
            partial[1].close()

    run(scenario())


class _FullTransport(asyncio.Transport):
    """A client that reads nothing: every write fills the buffer (the protocol is told to pause)."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self._protocol = protocol
        self.aborted = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 1) if name == "peername" else default

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._protocol.pause_writing()

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        pass


def test_requests_parsed_while_answers_wait_do_not_put_off_the_send_timeout() -> None:
    """Pipelined requests that arrive after the answers stopped being read (another TCP segment) are
    parsed, and must not set the header or body timeout in place of the send timeout."""
    limits = Limits(send_timeout=0.05, header_timeout=60.0, body_timeout=60.0, idle_timeout=60.0)

    async def scenario() -> None:
        protocol = protocol_factory(echo, limits)()
        transport = _FullTransport(protocol)
        protocol.connection_made(transport)
        protocol.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")  # answered: the buffer is full
        protocol.data_received(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
        await wait_until_async(lambda: transport.aborted, timeout=10, what="the client dropped")
        protocol.connection_lost(None)

    run(scenario())

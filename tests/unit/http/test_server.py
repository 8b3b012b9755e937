"""The HTTP/1.1 server (http/server.py) on a real loopback socket: keep-alive and pipelining in order,
chunked bodies, Expect: 100-continue, HEAD, the limits a client cannot exceed, timeouts for idle and
stalled connections, a malformed request, and a handler that fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from headwater.http.server import Limits, Request, Response, protocol_factory

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
async def serving(handler: Handler = echo, limits: Limits | None = None) -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()

    async def wrapped(request: Request) -> Response:
        return await handler(request)

    srv = await loop.create_server(protocol_factory(wrapped, limits), "127.0.0.1", 0)
    try:
        yield srv.sockets[0].getsockname()[1]
    finally:
        srv.close()
        await srv.wait_closed()


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

"""A connection moving to another serving process (http/server.py `_move`, process/handoff.py), here two
servers on one loop joined by a real socket pair: it moves after MOVE_AFTER requests in a row that the
placement says belong elsewhere, only between requests (never with a request read and unanswered), the
client keeps its one connection, a refused move keeps it here, and TLS connections never move."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from headwater.api.registry import read_operations
from headwater.http.connections import Moved, listen, protocol_factory
from headwater.http.messages import Handler, Request, Response
from headwater.http.server import MOVE_AFTER
from headwater.process.handoff import Handoff, ToCore, ToFronts, is_read, read_targets


def answering_as(name: bytes) -> Handler:
    async def handler(request: Request) -> Response:
        return Response(200, name + b" " + request.path.encode())

    return handler


class Recorder:
    """A placement: requests to /there belong elsewhere; a move goes through `handoff` unless refused."""

    def __init__(self, handoff: Handoff, refuse: bool = False) -> None:
        self.handoff = handoff
        self.refuse = refuse
        self.moves = 0

    def elsewhere(self, request: Request) -> bool:
        return request.path == "/there"

    def move(self, fd: int) -> Moved:
        if self.refuse:
            return "later"
        self.moves += 1
        return "moved" if self.handoff.give(fd) else "later"


def get(path: str) -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode()


async def answers(reader: asyncio.StreamReader, count: int) -> list[bytes]:
    bodies = []
    for _ in range(count):
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        bodies.append(await reader.readexactly(length))
    return bodies


@asynccontextmanager
async def two_servers(refuse: bool = False) -> AsyncIterator[tuple[int, Recorder]]:
    loop = asyncio.get_running_loop()
    here_end, there_end = Handoff.pair()
    there = Handoff(there_end)
    placement = Recorder(here_end, refuse)
    here = protocol_factory(answering_as(b"here"), placement=placement)
    elsewhere = protocol_factory(answering_as(b"there"))

    serving: list[asyncio.Task[object]] = []

    def serve(sock: socket.socket) -> None:
        serving.append(loop.create_task(loop.connect_accepted_socket(elsewhere, sock)))

    there.take(loop, serve)
    server = await listen(here, host="127.0.0.1", port=0)
    try:
        yield server.sockets[0].getsockname()[1], placement
    finally:
        server.close()
        here_end.close()
        there.close()
        for connection in [*here.open, *elsewhere.open]:
            connection.evict()
        await asyncio.sleep(0)  # the evicted transports close on the next pass


def test_a_connection_moves_between_requests_and_the_client_keeps_it() -> None:
    async def run() -> None:
        async with two_servers() as (port, placement):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(MOVE_AFTER - 1):
                writer.write(get("/there"))
                assert await answers(reader, 1) == [b"here /there"]
            writer.write(get("/here"))  # the count starts again
            assert await answers(reader, 1) == [b"here /here"]
            for _ in range(MOVE_AFTER):
                writer.write(get("/there"))
                assert await answers(reader, 1) == [b"here /there"]
            assert placement.moves == 1
            writer.write(get("/there") + get("/here"))
            assert await answers(reader, 2) == [b"there /there", b"there /here"]
            writer.close()

    asyncio.run(run())


def test_requests_read_with_the_one_that_makes_it_move_are_answered_before_it_moves() -> None:
    async def run() -> None:
        async with two_servers() as (port, placement):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            count = 3 * MOVE_AFTER
            writer.write(b"".join(get(f"/there?{i}") for i in range(count)))
            got = await answers(reader, count)
            assert got == [b"here /there"] * count  # all read in one go, so all answered here
            writer.write(get("/there"))
            assert await answers(reader, 1) == [b"there /there"]
            assert placement.moves == 1
            writer.close()

    asyncio.run(run())


def test_a_refused_move_keeps_the_connection_here() -> None:
    async def run() -> None:
        async with two_servers(refuse=True) as (port, _placement):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(3 * MOVE_AFTER):
                writer.write(get("/there"))
                assert await answers(reader, 1) == [b"here /there"]
            writer.close()

    asyncio.run(run())


def test_tls_connections_never_move() -> None:
    here, theirs = Handoff.pair()
    placement = ToCore(here, frozenset())
    assert protocol_factory(answering_as(b"x"), secure=True, placement=placement).placement is None
    assert protocol_factory(answering_as(b"x"), placement=placement).placement is placement
    here.close()
    theirs.close()


def test_reads_are_told_by_their_target() -> None:
    targets = read_targets(read_operations())
    assert b"DynamoDB_20120810.GetItem" in targets and b"DynamoDB_20120810.Query" in targets
    assert b"DynamoDBStreams_20120810.DescribeStream" in targets
    # a shard's readers are counted in the core (the 2-readers rule, Kinesis's per-shard limits)
    assert b"DynamoDBStreams_20120810.GetRecords" not in targets
    assert b"Kinesis_20131202.GetRecords" not in targets
    assert b"DynamoDB_20120810.PutItem" not in targets

    def request(path: str, target: bytes) -> Request:
        return Request("POST", path, b"", {b"x-amz-target": target}, [], b"", "")

    assert is_read(request("/", b"DynamoDB_20120810.GetItem"), targets)
    assert not is_read(request("/_headwater/x", b"DynamoDB_20120810.GetItem"), targets)
    fronts = ToFronts({}, targets)
    assert fronts.elsewhere(request("/", b"DynamoDB_20120810.GetItem"))
    assert fronts.move(0) == "stays"  # no front: the core keeps every share
    here, theirs = Handoff.pair()
    assert ToCore(here, targets).elsewhere(request("/", b"DynamoDB_20120810.PutItem"))
    here.close()
    theirs.close()


def test_a_handoff_to_a_process_that_is_gone_is_refused() -> None:
    mine, theirs = Handoff.pair()
    theirs.close()
    with socket.socket() as sock:
        assert not mine.give(sock.fileno())
    mine.close()


def test_readers_are_shared_out_among_the_fronts_and_the_core() -> None:
    ends = [Handoff.pair() for _ in range(2)]
    fronts = ToFronts({i: mine for i, (mine, _) in enumerate(ends)}, frozenset())
    with socket.socket() as sock:
        assert [fronts.move(sock.fileno()) for _ in range(6)] == ["moved", "moved", "stays"] * 2
        ends[0][1].close()  # front 0 is gone: its turn goes to the next front
        assert fronts.move(sock.fileno()) == "moved"
    for mine, theirs in ends:
        mine.close()
        theirs.close()

"""Bytes a DAX client would never send: each gets an error answer and a closed connection, and the
listener goes on serving."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from headwater.dax.cbor import Reader, Writer
from tests.dax.support import dax_client, make_cluster, make_table, unique
from tests.server import Server
from tests.waiting import wait_until

pytestmark = pytest.mark.headwater_only

PREAMBLE = b"gJ7yne5G" + Writer().integer(0).null().map(0).integer(0).done()


@pytest.fixture(scope="module")
def url(server: Server) -> str:
    return make_cluster(server, unique("frames"))


def exchange(url: str, data: bytes, *, close_write: bool = False) -> bytes:
    """Send `data`; everything the server answers until it closes the connection."""
    where = urlsplit(url)
    assert where.hostname is not None and where.port is not None
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def error_of(answer: bytes) -> tuple[list[Any], str]:
    reader = Reader(answer)
    codes, message = reader.value(), reader.value()
    assert isinstance(codes, list) and isinstance(message, str)
    return codes, message


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="not-dax"),
        pytest.param(PREAMBLE + Writer().integer(1).integer(12345).done(), id="unknown-method"),
        pytest.param(PREAMBLE + Writer().integer(7).integer(455855874).done(), id="unknown-service"),
        pytest.param(
            PREAMBLE + Writer().integer(1).integer(263244906).raw(b"\x81" * 200 + b"\x80").done(),
            id="too-deep",
        ),
        pytest.param(
            PREAMBLE + Writer().integer(1).integer(263244906).raw(b"\x1c").done(), id="reserved-byte"
        ),
        pytest.param(
            PREAMBLE
            + Writer().integer(1).integer(263244906).binary(b"t").binary(b"k").raw(b"\xa1\x80\x01").done(),
            id="array-as-map-key",
        ),
    ],
)
def test_a_bad_request_is_answered_with_an_error_and_the_connection_closed(url: str, data: bytes) -> None:
    codes, message = error_of(exchange(url, data))
    assert codes[0] == 4 and message.startswith("Malformed request")


def test_a_request_cut_short_or_claiming_huge_sizes_closes_the_connection(url: str) -> None:
    huge = PREAMBLE + Writer().integer(1).integer(263244906).raw(b"\x5b" + (2**40).to_bytes(8, "big")).done()
    _, message = error_of(exchange(url, huge + b"abc", close_write=True))
    assert message == "Malformed request: Connection closed inside a request"
    many = (
        PREAMBLE + Writer().integer(1).integer(-1230579644).raw(b"\x9b" + (2**60).to_bytes(8, "big")).done()
    )
    assert error_of(exchange(url, many, close_write=True))[1].startswith("Malformed request")


def test_the_listener_serves_on_after_bad_connections(url: str, server: Server) -> None:
    exchange(url, b"\xff" * 64)
    table = make_table(server.client("dynamodb"), unique("frames"))
    with dax_client(url) as dax:
        dax.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
        assert dax.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"]["pk"] == {
            "S": "a"
        }


def _endpoints_answer(sock: socket.socket) -> bytes:
    sock.sendall(PREAMBLE + Writer().integer(1).integer(455855874).done())  # endpoints
    return sock.recv(65536)


def test_connections_past_max_connections_are_closed(tmp_path: Path) -> None:
    own = Server(tmp_path, ("--max-connections", "2")).start()
    try:
        where = urlsplit(make_cluster(own, "capped"))
        assert where.hostname is not None and where.port is not None
        address = (where.hostname, where.port)
        with (
            socket.create_connection(address, timeout=30) as first,
            socket.create_connection(address, timeout=30) as second,
        ):
            assert _endpoints_answer(first).startswith(b"\x80") and _endpoints_answer(second).startswith(
                b"\x80"
            )
            with socket.create_connection(address, timeout=30) as third:
                assert third.recv(65536) == b""  # closed at once

        def served() -> bool:
            with socket.create_connection(address, timeout=30) as again:
                return _endpoints_answer(again).startswith(b"\x80")

        wait_until(served, what="a connection served once the others closed")
    finally:
        own.stop()

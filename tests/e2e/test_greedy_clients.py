"""One client holding many idle connections cannot lock others out of a live server: past
`--max-connections` a new connection takes the place of an idle one, so the server never runs out of
file descriptors (here it is given only 200) and new clients are served. The HTTP server's other
limits and timeouts are tested on a loopback socket in tests/unit/http/test_server.py."""

from __future__ import annotations

import os
import resource
import socket
from collections.abc import Callable

from tests.server import Server
from tests.waiting import wait_until

FILES = 200  # the server's limit on open files
IDLE = 300  # connections that say nothing: more than it could hold


def test_many_idle_connections_do_not_lock_new_clients_out(tmp_server: Callable[..., Server]) -> None:
    srv = tmp_server("--max-connections", "50").start()
    assert srv.process is not None
    resource.prlimit(srv.process.pid, resource.RLIMIT_NOFILE, (FILES, FILES))
    own = _open_sockets(srv.process.pid)  # its listener, and with a front the channel and handoff to it
    idle = [socket.create_connection(("127.0.0.1", srv.port), timeout=30) for _ in range(IDLE)]
    try:
        # served once the server has taken in the idle connections before it (they queue ahead of it);
        # without that room the server runs out of files and this client is not served
        ddb = srv.client("dynamodb", connect_timeout=30, read_timeout=30)
        assert ddb.list_tables()["TableNames"] == []
        pid = srv.process.pid
        wait_until(lambda: _open_sockets(pid) <= own + 50, what="at most --max-connections sockets more")
    finally:
        for sock in idle:
            sock.close()


def _open_sockets(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                count += 1
        except FileNotFoundError:  # closed while listed
            pass
    return count

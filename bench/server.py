"""The server under test: a private `headwater serve` subprocess, and its memory use."""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.cpu import children
from bench.loadgen import run_async
from bench.signing import Credentials
from bench.wire import Endpoint, http_get_root

BENCH_ACCOUNT = "000000000000"  # the server's default account: ARNs read as they do with --auth off
# the trigger phases deploy their handlers as directories under this one (hot reload, as a user would)
CODE_ROOT = Path(tempfile.gettempdir()) / "headwater-bench-code"
READY_TIMEOUT = 60.0  # a JVM on a loaded 2-core machine
STOP_TIMEOUT = 15.0
HOME_REGION = "us-east-1"  # the region of the bench's servers (Headwater's default)
PARTNER_REGION = "eu-central-1"  # the region of the second server replication-lag-servers starts


@dataclass(frozen=True, slots=True)
class Server:
    endpoint: Endpoint
    pid: int | None  # None when benchmarking a server we did not start (and no --server-pid)
    log: Path | None


@dataclass(frozen=True, slots=True)
class Partner:
    """A second Headwater that a phase starts when it needs one (replication-lag-servers), serving
    `region` on `port`. A server's region endpoints are fixed when it starts, so the port is reserved
    and named to the bench's own server (`--region-endpoint`) before that one starts."""

    port: int
    region: str = PARTNER_REGION

    @classmethod
    def reserve(cls) -> Partner:
        return cls(free_port())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(endpoint: Endpoint, proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before answering GET /")
        try:
            run_async(http_get_root(endpoint))
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{endpoint.url} did not answer GET / within {timeout:.0f} s") from None
            time.sleep(0.1)


def serve_command(
    template: str | None,
    port: int,
    data_dir: Path,
    credentials: Credentials | None = None,
    storage_url: str | None = None,
    region: str = HOME_REGION,
    region_endpoints: tuple[tuple[str, str], ...] = (),
) -> list[str]:
    """Headwater's own command (on PostgreSQL with `storage_url`), or a custom one (`{port}` and
    `{data_dir}` are filled in). With `credentials`, Headwater verifies every request (`--auth sigv4`)
    against a credentials file written beside the data dir: the bench's user, allowed everything, and the
    role its functions act as. `region_endpoints`: (region, url) of other servers, which it signs its
    calls to with the bench's credentials (every server of a run has the same)."""
    if template is None:
        serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
        serve += ["--region", region]
        for other, url in region_endpoints:
            serve += ["--region-endpoint", f"{other}={url}"]
        if region_endpoints and credentials is not None:
            serve += ["--peer-credentials", f"{credentials.key_id}:{credentials.secret}"]
        serve += ["--sync", "FULL"]  # durable, whatever HEADWATER_SYNC says: the figure the issue targets
        if credentials is None:
            serve += ["--auth", "off"]
        else:
            serve += [
                "--auth",
                "sigv4",
                "--auth-config",
                str(write_credentials(data_dir.parent, credentials)),
            ]
        CODE_ROOT.mkdir(exist_ok=True)
        serve += ["--allow-code-dir", str(CODE_ROOT)]  # the trigger phases' handlers run in place
        if storage_url is not None:
            serve += ["--storage-url", storage_url]
        return [sys.executable, "-m", "headwater", *serve]
    return [part.format(port=port, data_dir=data_dir) for part in shlex.split(template)]


def new_credentials() -> Credentials:
    alphabet = string.ascii_uppercase + "234567"
    return Credentials(
        "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16)), secrets.token_urlsafe(30)
    )


def write_credentials(directory: Path, credentials: Credentials) -> Path:
    """A credentials file (0600) with the bench's user and the role its trigger functions name."""
    from headwater.auth import config

    everything = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    )
    data = {
        "accounts": [{"id": BENCH_ACCOUNT}],
        "users": [
            {
                "name": "bench",
                "account": BENCH_ACCOUNT,
                "policies": [everything],
                "access_keys": [{"id": credentials.key_id, "secret": credentials.secret}],
            }
        ],
        "roles": [{"name": "bench", "account": BENCH_ACCOUNT, "policies": [everything]}],
    }
    path = directory / "headwater-auth.toml"
    config.save(config.parse(data, directory, str(path)), path)
    return path


@contextlib.contextmanager
def local_server(
    command: Callable[[int, Path], list[str]],
    name: str = "server",
    credentials: Credentials | None = None,
    port: int | None = None,
) -> Iterator[Server]:
    """Start `command(port, data_dir)` on `port` (a free loopback port when None) with a fresh, empty data
    dir (also its working directory); SIGTERM it afterwards and remove the directory. Requests to it are
    signed with `credentials` when given."""
    tmp = Path(tempfile.mkdtemp(prefix=f"headwater-bench-{name}-"))
    data_dir = tmp / "data"
    data_dir.mkdir()
    log_path = tmp / "server.log"
    port = free_port() if port is None else port
    argv = command(port, data_dir)
    env = dict(os.environ)
    src = Path(__file__).resolve().parent.parent / "src"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH", "")) if p)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    try:
        endpoint = Endpoint("127.0.0.1", port, credentials)
        try:
            wait_ready(endpoint, proc, READY_TIMEOUT)
        except (RuntimeError, TimeoutError) as exc:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(
                f"{name}: {exc}\ncommand: {' '.join(argv)}\nserver log tail:\n{tail}"
            ) from None
        yield Server(endpoint, proc.pid, log_path)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def tree_rss_kib(pid: int) -> int:
    """VmRSS of the process and all its descendants (worker processes count too)."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError), open(f"/proc/{current}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        todo.extend(children(current))
    return total


class RssSampler:
    """Samples a process tree's RSS every `interval` seconds on a thread; `mark()` starts a new stage."""

    def __init__(self, pid: int | None, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peaks: dict[str, int] = {}
        self.stage = "baseline"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        if self.pid is None:  # memory of a server we cannot see: nothing to sample
            return
        rss = tree_rss_kib(self.pid)
        self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), rss)

    def mark(self, stage: str) -> None:
        self.sample()  # close the previous stage with a fresh reading
        self.stage = stage
        self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        if self.pid is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.sample()

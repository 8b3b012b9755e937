"""The server under test: a private `headwater serve` subprocess, and its memory use."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import run_async
from bench.wire import Endpoint, http_get_root

READY_TIMEOUT = 60.0  # a JVM on a loaded 2-core machine
STOP_TIMEOUT = 15.0


@dataclass(frozen=True, slots=True)
class Server:
    endpoint: Endpoint
    pid: int | None  # None when benchmarking a server we did not start (and no --server-pid)
    log: Path | None


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


def serve_command(template: str | None, port: int, data_dir: Path) -> list[str]:
    """Headwater's own command, or a custom one (`{port}` and `{data_dir}` are filled in)."""
    if template is None:
        serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
        serve += ["--sync", "FULL"]  # durable, whatever HEADWATER_SYNC says: the figure the issue targets
        serve += ["--auth", "off"]
        return [sys.executable, "-m", "headwater", *serve]
    return [part.format(port=port, data_dir=data_dir) for part in shlex.split(template)]


@contextlib.contextmanager
def local_server(command: Callable[[int, Path], list[str]], name: str = "server") -> Iterator[Server]:
    """Start `command(port, data_dir)` on a free loopback port with a fresh, empty data dir (also its
    working directory); SIGTERM it afterwards and remove the directory."""
    tmp = Path(tempfile.mkdtemp(prefix=f"headwater-bench-{name}-"))
    data_dir = tmp / "data"
    data_dir.mkdir()
    log_path = tmp / "server.log"
    port = free_port()
    argv = command(port, data_dir)
    env = dict(os.environ)
    src = Path(__file__).resolve().parent.parent / "src"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH", "")) if p)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    try:
        endpoint = Endpoint("127.0.0.1", port)
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


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids.extend(int(k) for k in f.read().split())
    return kids


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
        todo.extend(_children(current))
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

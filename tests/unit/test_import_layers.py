"""Imports go one way (docs/architecture.md, "Layers"): every module's headwater imports, read with `ast`,
against the rules that section draws. A new import that crosses a layer fails here, not in review."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# a package -> the only headwater packages it may import (besides itself)
ONLY = {
    "model": {"errors"},
    "expressions": {"model", "errors"},
    "pricing": set(),
}
# a package -> the headwater packages it must never import
NEVER = {
    "storage": {"api", "http", "core", "streams", "triggers", "commands", "console", "process", "cli"},
    "core": {"api", "http", "commands", "cli", "console", "process"},
    "api": {"http", "commands", "cli", "console", "process"},
    "streams": {"api", "http", "core"},
    "consumer": {"storage", "http", "core"},
    "triggers": {"storage"},
    "auth": {"http", "storage", "core"},
    "console": {"core", "storage", "api", "triggers", "metrics"},
}
# only storage itself, the composition root, the public API (headwater/__init__.py) and the operator's
# backup pick a backend;
# everyone else sees storage.base
BACKENDS = ("headwater.storage.sqlite", "headwater.storage.postgres")
BACKEND_USERS = {"headwater", "storage", "app", "commands"}  # commands: the operator's backup


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(module: str, source: str, *, is_package: bool) -> Iterator[str]:
    """The headwater modules `source` (module `module`) imports, relative imports made absolute."""
    package = module.split(".")
    if not is_package:
        package = package[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("headwater."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.startswith("headwater."):
                yield target


def layer(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def crossings(module: str, text: str, *, is_package: bool = False) -> list[str]:
    source = layer(module)
    found = []
    for target in imports(module, text, is_package=is_package):
        destination = layer(target)
        if destination == source:
            continue
        allowed = ONLY.get(source)
        if allowed is not None and destination not in allowed:
            found.append(f"{source} may import only {sorted(allowed)}: {target}")
        if destination in NEVER.get(source, set()):
            found.append(f"{source} must not import {destination}: {target}")
        if target.startswith(BACKENDS) and source not in BACKEND_USERS:
            found.append(f"{source} must use storage.base, not a backend: {target}")
    return found


MODULES = sorted((SRC / "headwater").rglob("*.py"))


@pytest.mark.timeout(60)
def test_every_module_imports_along_the_layers() -> None:
    problems = {
        module_name(path): found
        for path in MODULES
        if (
            found := crossings(
                module_name(path), path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py"
            )
        )
    }
    assert not problems, problems


@pytest.mark.timeout(10)
def test_crossing_imports_are_found() -> None:
    """The check can fail: relative and absolute imports across a layer are reported."""
    assert crossings("headwater.model.probe", "from ..core import tables\n") == [
        "model may import only ['errors']: headwater.core"
    ]
    assert crossings("headwater.triggers", "import headwater.storage.base\n", is_package=True) == [
        "triggers must not import storage: headwater.storage.base"
    ]
    assert crossings("headwater.api.dynamodb.probe", "from ...storage.sqlite import writes\n") == [
        "api must use storage.base, not a backend: headwater.storage.sqlite"
    ]
    assert crossings("headwater.core.probe", "from .tables import x\nfrom ..model import y\n") == []

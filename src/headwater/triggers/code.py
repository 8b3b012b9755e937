"""Function code on disk: ZIP packages extracted under the state directory (by content hash), or a
local directory used in place (hot reload). With several nodes on one database, each uploaded package is
kept in the database too (`Packages`), and a node unpacks it the first time it runs the function."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .errors import InvalidParameterValueException
from .worker_user import WorkerUser

HOT_RELOAD_BUCKET = "hot-reload"  # Code={"S3Bucket": "hot-reload", "S3Key": "/abs/dir"} = a local directory
MAX_UNZIPPED = 250 * 1024 * 1024


class Packages(Protocol):
    """Uploaded ZIP packages where every node finds them, by key (the composition root's choice)."""

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Code:
    kind: str  # "zip" | "dir"
    path: str
    sha256: str
    size: int


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def package_dir(root: Path, function_name: str, sha256: str) -> Path:
    """Where this node unpacks the package of CodeSha256 `sha256` (the same on every node, under its own
    `root`)."""
    return root / function_name / base64.b64decode(sha256).hex()[:16]


def from_zip(root: Path, function_name: str, data: bytes) -> Code:
    digest = sha256_b64(data)
    folder = package_dir(root, function_name, digest)
    if not folder.is_dir():
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                total = sum(info.file_size for info in archive.infolist())
                if total > MAX_UNZIPPED:
                    raise InvalidParameterValueException(
                        f"Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
                    )
                for info in archive.infolist():
                    target = (tmp / info.filename).resolve()
                    if not str(target).startswith(str(tmp.resolve())):
                        raise InvalidParameterValueException(
                            "Could not unzip uploaded file. Please check your file, then try to upload again."
                        )
                archive.extractall(tmp)
            share(tmp)
            traversable(root.parent, tmp.parent)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            shutil.rmtree(tmp, ignore_errors=True)
            raise InvalidParameterValueException(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
            ) from None
        tmp.rename(folder)
    return Code("zip", str(folder), digest, len(data))


def share(tree: Path) -> None:
    """Make an unpacked package readable by every user, whatever the umask (with `--worker-user` the
    server runs with umask 077 and the handlers' user must read the code): directories 0755, files 0644,
    or 0755 when executable."""
    for folder, _, files in os.walk(tree):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)


def traversable(top: Path, bottom: Path) -> None:
    """Every directory from `top` down to `bottom` may be passed through (not listed) by every user."""
    for folder in (bottom, *bottom.parents):
        if folder != top and top not in folder.parents:
            return  # never above `top`
        folder.chmod(folder.stat().st_mode | 0o111)
        if folder == top:
            return


def from_directory(path: str, allowed: tuple[Path, ...]) -> Code:
    """A local directory used in place (hot reload), only inside a directory the operator allowed when
    starting the server (`--allow-code-dir`), symlinks resolved: a client cannot name any other. The
    allowance is checked before anything else, so a client learns nothing about other paths."""
    folder = Path(path).expanduser()
    if not folder.is_absolute():
        raise InvalidParameterValueException(
            f"Hot-reload code must be an absolute path to an existing directory: {path}"
        )
    real = Path(os.path.realpath(folder))
    check_allowed(real, allowed, path)
    if not real.is_dir():
        raise InvalidParameterValueException(
            f"Hot-reload code must be an absolute path to an existing directory: {path}"
        )
    return Code("dir", str(real), sha256_b64(str(real).encode()), 0)


def from_request(
    root: Path, function_name: str, code: Any, allowed: tuple[Path, ...], worker_user: WorkerUser | None
) -> tuple[Code, bytes | None]:
    """A request's `Code` (CreateFunction) or UpdateFunctionCode's members -> the code and, for an uploaded
    package, its bytes."""
    if not isinstance(code, dict):
        raise InvalidParameterValueException("Code is required")
    if code.get("ZipFile") is not None:
        try:
            data = base64.b64decode(code["ZipFile"], validate=False)
        except (ValueError, TypeError):
            raise InvalidParameterValueException(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
            ) from None
        return from_zip(root, function_name, data), data
    if code.get("S3Bucket") == HOT_RELOAD_BUCKET and code.get("S3Key"):
        found = from_directory(str(code["S3Key"]), allowed)
        problem = worker_user.cannot_read(Path(found.path)) if worker_user is not None else None
        if worker_user is not None and problem is not None:
            raise InvalidParameterValueException(
                f"Handlers run as {worker_user.name} (--worker-user), who cannot read the code: {problem}"
            )
        return found, None
    if code.get("S3Bucket") or code.get("ImageUri"):
        raise InvalidParameterValueException(
            "Headwater takes function code as a ZipFile, or as a local directory with "
            f'S3Bucket "{HOT_RELOAD_BUCKET}" and S3Key set to its absolute path.'
        )
    raise InvalidParameterValueException("Please provide a source for function code.")


def check_allowed(real: Path, allowed: tuple[Path, ...], shown: str | None = None) -> None:
    """InvalidParameterValueException unless `real` (a resolved path) lies inside an allowed directory;
    the message names `shown` (the path as the client gave it), never what it resolves to."""
    if not allowed:
        raise InvalidParameterValueException(
            "This server runs function code from uploaded ZipFiles only: hot reload from a local directory "
            "is off unless the server is started with --allow-code-dir DIR (or HEADWATER_ALLOW_CODE_DIR)."
        )
    if not any(real == root or root in real.parents for root in allowed):
        roots = ", ".join(str(root) for root in allowed)
        raise InvalidParameterValueException(
            f"The code directory {shown or real} is outside the directories this server was started with "
            f"(--allow-code-dir {roots}; symlinks resolved): upload the code as a ZipFile, or restart the "
            "server with --allow-code-dir naming a directory that contains it."
        )


def sweep_unused(root: Path, keep: set[str]) -> None:
    """Delete every unpacked package under `root` (<function>/<version>) that is not in `keep`."""
    if not root.is_dir():
        return
    for function_dir in root.iterdir():
        if not function_dir.is_dir():
            continue
        for version in function_dir.iterdir():
            if str(version) not in keep:
                shutil.rmtree(version, ignore_errors=True)
        with contextlib.suppress(OSError):
            function_dir.rmdir()  # only when nothing is left


def tree_size(path: str) -> int:
    """The bytes of every file under `path` (a package's unzipped size)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total

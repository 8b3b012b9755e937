"""Uploaded function packages where every node finds them (several nodes on one database): a package is
kept before the function's document names it, dropped with its version, and unpacked into a node's own
folder the first time that node runs a version another node took."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from . import code as code_store
from .errors import ServiceException
from .model import FunctionConfig


class SharedCode:
    """Without `packages` (one node) packages live only in this node's folder: nothing is kept or
    dropped, and a package missing from the folder is an error."""

    def __init__(
        self, packages: code_store.Packages | None, code_root: Path, account: str, region: str
    ) -> None:
        self._packages = packages
        self._code_root = code_root
        self._prefix = f"{account}/{region}/function"
        self._unpacking = asyncio.Lock()  # one package unpacked at a time (they share .tmp names)

    def key(self, fn: FunctionConfig) -> str:
        return f"{self._prefix}/{fn.name}/{base64.b64decode(fn.code_sha256).hex()}"

    async def unpack(self, fn: FunctionConfig) -> str | None:
        """Unpack `fn`'s package into this node's folder unless it is there: the folder made, or None."""
        if fn.code_kind != "zip" or Path(fn.code_path).is_dir():
            return None
        async with self._unpacking:
            if Path(fn.code_path).is_dir():
                return None
            data = None if self._packages is None else await self._packages.get(self.key(fn))
            if data is None or code_store.sha256_b64(data) != fn.code_sha256:
                raise ServiceException(f"The code of function {fn.name} is missing")
            found = await asyncio.to_thread(code_store.from_zip, self._code_root, fn.name, data)
            return found.path

    async def keep(self, fn: FunctionConfig, data: bytes | None) -> None:
        """Before the function's document names it: any node that sees the function finds its code."""
        if self._packages is not None and data is not None:
            await self._packages.put(self.key(fn), data)

    async def drop(self, fn: FunctionConfig) -> None:
        if self._packages is not None and fn.code_kind == "zip":
            await self._packages.delete(self.key(fn))

"""The catalog as one group of the single writer has left it so far: the committed entries plus the group's
own changes. A backend's `_commit_group` resolves each operation against it (storage/group_commit.py)."""

from __future__ import annotations

from collections.abc import Mapping

from .base import CATALOG_KIND, WriteSet


class CatalogOverlay:
    """The catalog as one group has left it so far: the committed entries plus the group's changes."""

    def __init__(self, committed: Mapping[str, bytes]) -> None:
        self._committed = committed
        self._changes: dict[str, bytes | None] = {}

    def get(self, name: str, /) -> bytes | None:
        if name in self._changes:
            return self._changes[name]
        return self._committed.get(name)

    def add(self, ws: WriteSet) -> None:
        for mw in ws.meta:
            if mw.kind == CATALOG_KIND:
                self._changes[mw.key] = mw.value

    @property
    def changed(self) -> bool:
        """Whether the group changes a table definition."""
        return bool(self._changes)

    def committed(self) -> Mapping[str, bytes]:
        """The catalog once the group has committed (a new mapping if it changed anything)."""
        if not self._changes:
            return self._committed
        merged = dict(self._committed)
        for name, value in self._changes.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return merged

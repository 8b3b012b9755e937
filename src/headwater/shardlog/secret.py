"""The per-database secret that signs shard iterators of every log, created once and kept in meta."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ResourceNotFoundException
from ..storage.base import CatalogView, ItemKey, MetaWrite, Storage, WriteSet

SECRET_KIND = "streams"
SECRET_KEY = "iterator_secret"


@dataclass(frozen=True, slots=True)
class _PutSecret:
    """Store the iterator secret unless one exists (first start wins); result: the stored secret."""

    candidate: bytes
    current: bytes | None

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> _PutSecret:
        return self  # no table definition involved

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        if self.current is not None:
            return WriteSet(result=self.current)
        return WriteSet(meta=[MetaWrite(SECRET_KIND, SECRET_KEY, self.candidate)], result=self.candidate)


class IteratorSecret:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._value: bytes | None = None

    async def start(self) -> None:
        """Load (or create and persist) the secret."""
        stored = self._storage.meta_get(SECRET_KIND, SECRET_KEY)
        if stored is None:
            stored = await self._storage.write(_PutSecret(os.urandom(32), None))
        self._value = stored

    @property
    def value(self) -> bytes:
        if self._value is None:
            stored = self._storage.meta_get(SECRET_KIND, SECRET_KEY)
            if stored is None:
                raise ResourceNotFoundException("Streams are not ready")
            self._value = stored
        return self._value

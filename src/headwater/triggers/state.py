"""Where functions, mappings, checkpoints and failure records persist: small JSON documents by
(kind, key). The composition root supplies the implementation (triggers never touch storage)."""

from __future__ import annotations

from typing import Any, Protocol

Doc = dict[str, Any]

FUNCTION_KIND = "lambda.function"
MAPPING_KIND = "lambda.mapping"
CHECKPOINT_KIND = "lambda.checkpoint"  # key: "<mapping uuid>/<shard id>"
FAILURE_KIND = "lambda.failure"  # key: "<mapping uuid>/<epoch ms>-<request id>"


class StateStore(Protocol):
    async def get(self, kind: str, key: str) -> Doc | None: ...

    async def put(self, kind: str, key: str, doc: Doc) -> None: ...

    async def delete(self, kind: str, key: str) -> None: ...

    async def list(self, kind: str) -> list[tuple[str, Doc]]: ...


class MemoryStateStore:
    """For unit tests and in-memory runs of the runner without a database."""

    def __init__(self) -> None:
        self._docs: dict[tuple[str, str], Doc] = {}

    async def get(self, kind: str, key: str) -> Doc | None:
        return self._docs.get((kind, key))

    async def put(self, kind: str, key: str, doc: Doc) -> None:
        self._docs[(kind, key)] = doc

    async def delete(self, kind: str, key: str) -> None:
        self._docs.pop((kind, key), None)

    async def list(self, kind: str) -> list[tuple[str, Doc]]:
        return sorted((k, v) for (c, k), v in self._docs.items() if c == kind)


class Tables(Protocol):
    """The table operations the runner needs (on-failure destinations), supplied by the composition root."""

    async def describe_table(self, name: str) -> Doc | None:
        """The wire TableDescription, or None when there is no such table."""
        ...

    async def put_item(self, request: Doc) -> None: ...


class ScopedStateStore:
    """One namespace's documents in a store shared by every namespace: its keys carry the namespace's
    prefix (`<account>/<region>/`), which its users never see."""

    def __init__(self, store: StateStore, prefix: str) -> None:
        self._store = store
        self._prefix = prefix

    async def get(self, kind: str, key: str) -> Doc | None:
        return await self._store.get(kind, self._prefix + key)

    async def put(self, kind: str, key: str, doc: Doc) -> None:
        await self._store.put(kind, self._prefix + key, doc)

    async def delete(self, kind: str, key: str) -> None:
        await self._store.delete(kind, self._prefix + key)

    async def list(self, kind: str) -> list[tuple[str, Doc]]:
        cut = len(self._prefix)
        return [(key[cut:], doc) for key, doc in await self._store.list(kind) if key.startswith(self._prefix)]

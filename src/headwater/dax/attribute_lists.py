"""Attribute lists: DAX sends an item's non-key attribute names once, as a list the server numbers, and
then only the number with the values; a client keeps the numbers for as long as it runs.

A list's number is derived from its names (52 bits of their SHA-256: a JavaScript client refuses
numbers past 2**53), so it is the same after a restart; each cluster keeps its lists in the metadata
(written before the number is answered), so a client that outlives a restart goes on working. 1 is the
empty list."""

from __future__ import annotations

import hashlib
from typing import Final

import orjson

from ..storage.base import MetaWrite, Storage

KIND: Final = "dax_attribute_list"
EMPTY_ID: Final = 1
ID_BITS: Final = 52
MAX_LISTS: Final = 200_000  # distinct lists a cluster remembers (a client-controlled number, so bounded)
MAX_NAMES: Final = 10_000  # names in one list (an item of 400 KB cannot have more)


class TooManyLists(Exception):
    pass


def _number(names: tuple[str, ...]) -> int:
    digest = hashlib.sha256(orjson.dumps(names)).digest()
    return max(int.from_bytes(digest[:8], "big") >> (64 - ID_BITS), EMPTY_ID + 1)


class AttributeLists:
    """One cluster's lists (`prefix`: the cluster's ARN), read from storage on first use."""

    def __init__(self, storage: Storage, prefix: str) -> None:
        self._storage = storage
        self._prefix = prefix + "|"
        self._ids: dict[tuple[str, ...], int] = {(): EMPTY_ID}
        self._lists: dict[int, tuple[str, ...]] = {EMPTY_ID: ()}
        self._loaded = False
        self.pending: list[MetaWrite] = []  # lists numbered since the last `take_pending`

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for key, value in self._storage.meta_list(KIND):
            if key.startswith(self._prefix):
                names = tuple(str(name) for name in orjson.loads(value))
                number = int(key[len(self._prefix) :])
                self._ids[names] = number
                self._lists[number] = names

    def id_of(self, names: tuple[str, ...]) -> int:
        self._load()
        found = self._ids.get(names)
        if found is not None:
            return found
        if len(self._ids) >= MAX_LISTS or len(names) > MAX_NAMES:
            raise TooManyLists()
        number = _number(names)
        while number in self._lists:  # another list's number (2**-52 odds): the next free one
            number = number + 1 if number + 1 < 2**ID_BITS else EMPTY_ID + 1
        self._ids[names] = number
        self._lists[number] = names
        self.pending.append(MetaWrite(KIND, f"{self._prefix}{number:016d}", orjson.dumps(list(names))))
        return number

    def names(self, list_id: int) -> tuple[str, ...] | None:
        self._load()
        return self._lists.get(list_id)

    def take_pending(self) -> list[MetaWrite]:
        found, self.pending = self.pending, []
        return found

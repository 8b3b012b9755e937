"""Attribute lists: DAX sends an item's non-key attribute names once, as a list the server numbers, and
then only the number with the values. Numbers are the server's for its lifetime and shared by every
connection (a client caches them per node); 1 is the empty list. Each start numbers from a random base,
so a number a client kept from before a restart is almost always unknown there (an error) rather than
another list's."""

from __future__ import annotations

import secrets
from typing import Final

EMPTY_ID: Final = 1
MAX_LISTS: Final = 200_000  # distinct lists a server remembers (a client-controlled number, so bounded)
MAX_NAMES: Final = 10_000  # names in one list (an item of 400 KB cannot have more)


class TooManyLists(Exception):
    pass


class AttributeLists:
    def __init__(self) -> None:
        # one of 2048 bases, room for 2**20 lists above each, every id below 2**31 (JavaScript clients
        # refuse numbers past 2**53, other clients may keep them in 32 bits)
        self._base = 2 + (secrets.randbits(11) << 20)
        self._ids: dict[tuple[str, ...], int] = {(): EMPTY_ID}
        self._lists: dict[int, tuple[str, ...]] = {EMPTY_ID: ()}

    def id_of(self, names: tuple[str, ...]) -> int:
        found = self._ids.get(names)
        if found is not None:
            return found
        if len(self._ids) >= MAX_LISTS or len(names) > MAX_NAMES:
            raise TooManyLists()
        found = self._ids[names] = self._base + len(self._ids)
        self._lists[found] = names
        return found

    def names(self, list_id: int) -> tuple[str, ...] | None:
        return self._lists.get(list_id)

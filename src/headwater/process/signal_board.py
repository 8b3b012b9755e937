"""A few counters the core process publishes and front processes read, in one small shared memory file.

The catalog version tells a front that a table definition changed: it is raised by the core after the
change commits and before the change is acknowledged, so a client that saw the acknowledgement finds
the new definition through any front on its next request (each front looks at the counter once per
request: one memory read).
"""

from __future__ import annotations

import mmap
import os
import struct
from typing import Final

_LAYOUT: Final = struct.Struct("<QQ")  # catalog version, last committed sequence number
SIZE: Final = _LAYOUT.size


class SignalBoard:
    def __init__(self, path: str, *, create: bool) -> None:
        self.path = path
        flags = os.O_RDWR | (os.O_CREAT | os.O_TRUNC if create else 0)
        fd = os.open(path, flags, 0o600)
        try:
            if create:
                os.ftruncate(fd, SIZE)
            self._map = mmap.mmap(fd, SIZE)
        finally:
            os.close(fd)

    @property
    def catalog_version(self) -> int:
        return int(struct.unpack_from("<Q", self._map, 0)[0])

    def bump_catalog(self) -> int:
        version = self.catalog_version + 1
        struct.pack_into("<Q", self._map, 0, version)
        return version

    @property
    def last_sequence(self) -> int:
        return int(struct.unpack_from("<Q", self._map, 8)[0])

    def publish_sequence(self, seq: int) -> None:
        struct.pack_into("<Q", self._map, 8, seq)

    def close(self) -> None:
        self._map.close()

"""The database's StreamService (one per database, created on first use)."""

from __future__ import annotations

from ...core.database import Database
from ...streams import StreamService

_KEY = "streams"


def stream_service(db: Database) -> StreamService:
    service = db.extensions.get(_KEY)
    if not isinstance(service, StreamService):
        service = StreamService(db.storage, db.clock, db.settings)
        db.extensions[_KEY] = service
    return service

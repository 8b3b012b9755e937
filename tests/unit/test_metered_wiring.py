"""--enforce-capacity and --meter-usage wrap the item handlers once at start; without them the handler
table is the plain one, so a request pays for neither."""

from __future__ import annotations

from headwater.api.context import Handler
from headwater.api.registry import operations
from headwater.app import metered_handlers
from headwater.clock import FakeClock
from headwater.config import Settings
from headwater.core.database import Database
from headwater.storage.sqlite import SqliteStorage

Handlers = dict[tuple[str, str], Handler]


def _wired(enforce: bool = False, meter: bool = False) -> tuple[Handlers, Handlers, Database]:
    settings = Settings(in_memory=True, enforce_capacity=enforce, meter_usage=meter)
    db = Database(settings, SqliteStorage(None), FakeClock())
    plain = operations()
    return plain, metered_handlers(db, plain), db


def test_without_the_flags_the_handlers_are_the_plain_ones() -> None:
    plain, wired, db = _wired()
    assert wired is plain
    assert db.usage is None


def test_with_either_flag_the_item_operations_are_wrapped() -> None:
    for enforce, meter in ((True, False), (False, True)):
        plain, wired, db = _wired(enforce, meter)
        assert db.usage is not None
        assert wired["dynamodb", "PutItem"] is not plain["dynamodb", "PutItem"]
        assert wired["dynamodb", "Query"] is not plain["dynamodb", "Query"]
        assert wired["dynamodb", "CreateTable"] is plain["dynamodb", "CreateTable"]

"""A table lookup that misses looks again after asking the storage to catch up with other nodes, whatever
the storage answers: the writer may have taken another node's change between the first look and the
version check, so the versions agree although the first look missed the table."""

from __future__ import annotations

from collections.abc import Mapping

from headwater.core.catalog import Catalog, catalog_key
from headwater.core.codec import encode_spec
from tests.unit.core.helpers import NAMESPACE, table


class CaughtUpMeanwhile:
    """The part of a storage a lookup uses: the catalog gains the table as the refresh starts, and the
    refresh then finds nothing left to do (the race seen with several PostgreSQL nodes)."""

    def __init__(self, document: tuple[str, bytes]) -> None:
        self._document = document
        self._catalog: dict[str, bytes] = {}
        self.refreshes = 0

    def catalog(self) -> Mapping[str, bytes]:
        return self._catalog

    def refresh_catalog(self) -> bool:
        self.refreshes += 1
        self._catalog = dict([self._document])  # published by the writer meanwhile
        return False  # the versions agree by now


def test_a_table_published_during_the_refresh_is_found() -> None:
    spec = table()
    storage = CaughtUpMeanwhile((catalog_key(spec), encode_spec(spec)))
    catalog = Catalog(storage, NAMESPACE)  # type: ignore[arg-type]  # the two calls a lookup makes
    found = catalog.get(spec.name)
    assert found is not None and found.table_id == spec.table_id
    assert storage.refreshes == 1


def test_a_missing_table_stays_missing() -> None:
    spec = table()
    storage = CaughtUpMeanwhile(("000000000000/us-east-1/other", encode_spec(spec)))
    assert Catalog(storage, NAMESPACE).get(spec.name) is None  # type: ignore[arg-type]

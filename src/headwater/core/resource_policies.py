"""Where resource-based policies live: in their table's catalog document (`extra`), the table's own and
one per stream label. So they are written through the single writer with the table, reach the front
processes with the catalog, and are gone when the table is deleted.

An entry is `{"Policy": canonical JSON text, "RevisionId": epoch milliseconds}`; after a deletion only
the RevisionId of the deletion is left (DeleteResourcePolicy answers it again).
"""

from __future__ import annotations

from ..model.schema import TableSpec

TABLE_POLICY = "resource_policy"
STREAM_POLICIES = "stream_policies"

Entry = dict[str, str]


def entry(table: TableSpec, stream_label: str | None = None) -> Entry | None:
    """The entry of the table (or of one of its streams), a tombstone included."""
    extra = table.extra
    found = extra.get(STREAM_POLICIES, {}).get(stream_label) if stream_label else extra.get(TABLE_POLICY)
    return dict(found) if isinstance(found, dict) else None


def policy(table: TableSpec, stream_label: str | None = None) -> Entry | None:
    """The entry in force, if any (a deletion's tombstone is not one). Not a copy: do not change it."""
    extra = table.extra
    found = extra.get(STREAM_POLICIES, {}).get(stream_label) if stream_label else extra.get(TABLE_POLICY)
    return found if isinstance(found, dict) and "Policy" in found else None


def with_entry(table: TableSpec, stream_label: str | None, new: Entry) -> TableSpec:
    extra = dict(table.extra)
    if stream_label is None:
        extra[TABLE_POLICY] = new
    else:
        extra[STREAM_POLICIES] = {**extra.get(STREAM_POLICIES, {}), stream_label: new}
    return table.evolve(extra=extra)

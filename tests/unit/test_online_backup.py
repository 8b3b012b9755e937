"""The operator's backup file: what `restore` refuses (a tampered copy, foreign entries, a directory in
use), checked on files made here."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from headwater.storage.base import ItemKey, ItemWrite, WriteSet
from headwater.storage.sqlite import SqliteStorage
from headwater.storage.sqlite.online_backup import BackupError, backup, restore
from tests.storage.ops import Raw


def data_dir(tmp_path: Path) -> Path:
    where = tmp_path / "data"
    storage = SqliteStorage.in_data_dir(where)
    storage.open()
    try:
        writes = [ItemWrite(ItemKey(1, i, b"k%d" % i), b"v") for i in range(10)]
        storage.write_sync(Raw(WriteSet(items=writes)))
    finally:
        storage.close()
    (where / "triggers" / "000000000000").mkdir(parents=True)
    (where / "triggers" / "000000000000" / "code.zip").write_bytes(b"zip")
    return where


def rewrite(archive: Path, change: dict[str, bytes]) -> None:
    """Rewrite the archive with some members' contents replaced (or added)."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    members.update(change)
    with tarfile.open(archive, "w") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))


def test_round_trip(tmp_path: Path) -> None:
    manifest = backup(data_dir(tmp_path), tmp_path / "b.tar")
    assert manifest.counts["items"] == 10
    restored = restore(tmp_path / "b.tar", tmp_path / "again")
    assert restored == manifest
    assert (tmp_path / "again" / "triggers" / "000000000000" / "code.zip").read_bytes() == b"zip"
    with pytest.raises(BackupError, match="already holds a database"):
        restore(tmp_path / "b.tar", tmp_path / "again")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        restore(tmp_path / "b.tar", tmp_path / "busy")
    with pytest.raises(BackupError, match="no Headwater database"):
        backup(tmp_path / "busy", tmp_path / "c.tar")


def test_a_tampered_backup_is_refused(tmp_path: Path) -> None:
    backup(data_dir(tmp_path), tmp_path / "b.tar")
    with tarfile.open(tmp_path / "b.tar") as tar:
        doc = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    doc["counts"]["items"] = 11
    rewrite(tmp_path / "b.tar", {"manifest.json": json.dumps(doc).encode()})
    with pytest.raises(BackupError, match="differ from the backup's manifest"):
        restore(tmp_path / "b.tar", tmp_path / "r1")
    assert not (tmp_path / "r1").exists()
    rewrite(tmp_path / "b.tar", {"headwater.db": b"not a database" * 100})
    with pytest.raises(BackupError):
        restore(tmp_path / "b.tar", tmp_path / "r2")
    assert not (tmp_path / "r2").exists()


def test_foreign_entries_are_refused(tmp_path: Path) -> None:
    backup(data_dir(tmp_path), tmp_path / "b.tar")
    rewrite(tmp_path / "b.tar", {"../escape": b"x"})
    with pytest.raises(BackupError, match="unexpected entry"):
        restore(tmp_path / "b.tar", tmp_path / "r")
    assert not (tmp_path / "escape").exists()
    (tmp_path / "junk.tar").write_bytes(b"junk")
    with pytest.raises(BackupError, match="cannot be read"):
        restore(tmp_path / "junk.tar", tmp_path / "r")

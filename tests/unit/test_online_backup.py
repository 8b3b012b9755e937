"""The operator's backup file: what `restore` refuses (a tampered copy, foreign entries, a directory in
use), checked on files made here."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from headwater.storage.base import ItemKey, ItemWrite, WriteSet
from headwater.storage.sqlite import SqliteStorage, online_backup
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


class Recorder:
    """A backup's or a restore's Progress, kept: each stage's message, total and advances."""

    def __init__(self, on_advance: Callable[[], None] | None = None) -> None:
        self.stages: list[tuple[str, int | None, list[int]]] = []
        self.on_advance = on_advance

    def stage(self, message: str, total: int | None = None) -> None:
        self.stages.append((message, total, []))

    def advance(self, done: int) -> None:
        self.stages[-1][2].append(done)
        if self.on_advance is not None:
            self.on_advance()

    def stage_named(self, prefix: str) -> tuple[int | None, list[int]]:
        _, total, done = next(stage for stage in self.stages if stage[0].startswith(prefix))
        return total, done


def test_progress_is_told_bytes_up_to_each_stages_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(online_backup, "STEP_PAGES", 2)  # a copy of several steps
    where = data_dir(tmp_path)
    told = Recorder()
    backup(where, tmp_path / "b.tar", told)
    assert [message.split(" ")[0] for message, _, _ in told.stages] == ["copying", "verifying", "writing"]
    total, done = told.stage_named("copying")
    assert total == (where / "headwater.db").stat().st_size  # every page of the database
    assert len(done) > 1 and done == sorted(done) and done[-1] == total
    total, done = told.stage_named("verifying")
    assert done == [total]
    total, done = told.stage_named("writing")
    assert total is not None and done == sorted(done) and done[-1] == (tmp_path / "b.tar").stat().st_size

    told = Recorder()
    restore(tmp_path / "b.tar", tmp_path / "again", told)
    assert [message.split(" ")[0] for message, _, _ in told.stages] == ["reading", "verifying"]
    total, done = told.stage_named("reading")
    assert total is not None and total > 0 and done[-1] == total
    total, done = told.stage_named("verifying")
    assert done == [total]


def test_a_copy_in_steps_is_the_database_at_one_instant_while_writes_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes committed between the copy's steps are not in it, and do not start it over."""
    monkeypatch.setattr(online_backup, "STEP_PAGES", 1)
    where = data_dir(tmp_path)
    storage = SqliteStorage.in_data_dir(where)
    storage.open()
    written = 0

    def write() -> None:
        nonlocal written
        if written < 100:  # bounded: a copy that started over after each would still end, and be wrong
            item = ItemWrite(ItemKey(1, 1000 + written, b"w%d" % written), b"v" * 3000)
            storage.write_sync(Raw(WriteSet(items=[item])))
            written += 1

    told = Recorder(write)
    try:
        manifest = backup(where, tmp_path / "b.tar", told)
    finally:
        storage.close()
    _, done = told.stage_named("copying")
    assert written >= 2 and len(done) >= 2
    assert manifest.counts["items"] == 10  # as when the copy began
    assert restore(tmp_path / "b.tar", tmp_path / "again").counts["items"] == 10

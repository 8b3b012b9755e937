"""The operator's backup of a SQLite data directory, taken while the server runs, and its restore.

A backup is one tar file: `headwater.db` (SQLite's online backup API, in steps within one read
transaction held open, so the copy is the database as committed at one instant while the server's writer
goes on in WAL mode, and the steps' progress can be shown), the `triggers/` directory (function packages
and layers: immutable files the database refers to), and `manifest.json` (format, time, row counts per
table, the SHA-256 of the database copy).

Both directions verify what they wrote: `PRAGMA integrity_check`, the row counts and the checksum. The
backup is written beside its target under a temporary name and renamed over it only once complete and
fsynced, so a backup killed half-way leaves the previous backup untouched (and the server, which it
only reads, unaffected). A restore extracts into a temporary directory inside the target's parent and
renames it into place: the data directory appears whole or not at all.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from headwater.storage.sqlite.schema import DB_FILENAME

FORMAT = "headwater-backup/1"
MANIFEST = "manifest.json"
TRIGGERS = "triggers"
COUNTED = ("items", "index_entries", "counters", "meta", "stream_records")
STEP_PAGES = 1024  # pages the online copy takes per step (progress is told between steps)


class Progress(Protocol):
    """Told what a backup or restore is doing (the command shows it)."""

    def stage(self, message: str, total: int | None = None) -> None:
        """A new stage of the work; `total`: the bytes it will go through, when known."""

    def advance(self, done: int) -> None:
        """Bytes of the current stage gone through so far."""


class BackupError(Exception):
    """A backup or restore that could not be made, or that did not verify."""


@dataclass(frozen=True)
class Manifest:
    created_at: float
    counts: dict[str, int]
    sequence: int
    sha256: str

    def to_json(self) -> bytes:
        doc = {
            "format": FORMAT,
            "created_at": self.created_at,
            "counts": self.counts,
            "sequence": self.sequence,
            "sha256": self.sha256,
        }
        return json.dumps(doc, indent=2).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            doc: dict[str, Any] = json.loads(data)
            if doc.get("format") != FORMAT:
                raise BackupError(f"not a Headwater backup (format {doc.get('format')!r})")
            return cls(doc["created_at"], dict(doc["counts"]), int(doc["sequence"]), str(doc["sha256"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"the backup's manifest is unreadable: {exc}") from None


class _Quiet:
    def stage(self, message: str, total: int | None = None) -> None:
        return

    def advance(self, done: int) -> None:
        return


class _Counting:
    """The archive being written (tarfile's file object), telling `progress` the bytes written so far."""

    def __init__(self, file: IO[bytes], progress: Progress) -> None:
        self.file = file
        self.progress = progress

    def write(self, data: bytes, /) -> int:
        written = self.file.write(data)
        self.progress.advance(self.file.tell())
        return written

    def read(self, size: int, /) -> bytes:
        return self.file.read(size)

    def tell(self) -> int:
        return self.file.tell()

    def seek(self, pos: int, /) -> int:
        return self.file.seek(pos)

    def close(self) -> None:
        self.file.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def verify_database(path: Path) -> tuple[dict[str, int], int]:
    """Integrity check, then (rows per table, last sequence number); BackupError if it is damaged."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"{path} fails SQLite's integrity check: {'; '.join(problems[:5])}")
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COUNTED}
        row = conn.execute("SELECT last FROM sequence WHERE id = 0").fetchone()
        return counts, int(row[0]) if row else 0
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a Headwater database: {exc}") from None
    finally:
        conn.close()


def backup(data_dir: Path, target: Path, progress: Progress | None = None) -> Manifest:
    """Write a backup of the data directory `data_dir` (its server may be running) to `target`."""
    progress = progress or _Quiet()
    source = data_dir / DB_FILENAME
    if not source.is_file():
        raise BackupError(f"no Headwater database in {data_dir} (expected {source})")
    target = target.absolute()
    if target.is_dir():
        raise BackupError(f"{target} is a directory; give the backup's file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        copy = work / DB_FILENAME
        _online_copy(source, copy, progress)
        progress.stage("verifying the copy", copy.stat().st_size)
        counts, sequence = verify_database(copy)
        manifest = Manifest(round(time.time(), 3), counts, sequence, _sha256(copy))
        progress.advance(copy.stat().st_size)
        archive = work / "backup.tar"
        triggers = data_dir / TRIGGERS
        files = [copy, *(triggers.rglob("*") if triggers.is_dir() else ())]
        progress.stage(f"writing {target}", sum(f.stat().st_size for f in files if f.is_file()))
        with archive.open("wb") as out, tarfile.open(fileobj=_Counting(out, progress), mode="w") as tar:
            tar.add(copy, DB_FILENAME)
            if triggers.is_dir():
                tar.add(triggers, TRIGGERS)
            info = tarfile.TarInfo(MANIFEST)
            body = manifest.to_json()
            info.size, info.mtime = len(body), int(manifest.created_at)
            tar.addfile(info, io.BytesIO(body))
        _fsync(archive)
        os.replace(archive, target)
        _fsync(target.parent)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _online_copy(source: Path, copy: Path, progress: Progress) -> None:
    """Copy the database as committed at one instant. The steps run inside one read transaction of the
    source connection: SQLite restarts a stepped backup when another connection commits between two
    steps, unless the source's read transaction (its snapshot of the WAL) stays open across them."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30, isolation_level=None)
    dst = sqlite3.connect(copy)
    try:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the read transaction starts here
        page_size = int(src.execute("PRAGMA page_size").fetchone()[0])
        progress.stage(f"copying {source}", int(src.execute("PRAGMA page_count").fetchone()[0]) * page_size)

        def copied(status: int, remaining: int, total: int) -> None:
            progress.advance((total - remaining) * page_size)

        src.backup(dst, pages=STEP_PAGES, progress=copied)
        src.execute("COMMIT")
        dst.execute("PRAGMA journal_mode = DELETE")  # a self-contained file, no WAL beside it
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy {source}: {exc}") from None
    finally:
        dst.close()
        src.close()


def restore(archive: Path, data_dir: Path, progress: Progress | None = None) -> Manifest:
    """Bring the backup `archive` back as the data directory `data_dir` (which must not hold a database)."""
    progress = progress or _Quiet()
    if (data_dir / DB_FILENAME).exists():
        raise BackupError(f"{data_dir} already holds a database; restore into a new directory")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty; restore into a new or empty directory")
    data_dir = data_dir.absolute()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restoring-", dir=data_dir.parent))
    try:
        manifest = _extract(archive, work, progress)
        database = work / DB_FILENAME
        progress.stage("verifying the database", database.stat().st_size)
        counts, sequence = verify_database(database)
        if _sha256(database) != manifest.sha256:
            raise BackupError("the database in the backup does not match its checksum")
        progress.advance(database.stat().st_size)
        if counts != manifest.counts or sequence != manifest.sequence:
            raise BackupError(f"row counts {counts} differ from the backup's manifest {manifest.counts}")
        (work / MANIFEST).unlink()
        _fsync(work / DB_FILENAME)
        if data_dir.exists():
            data_dir.rmdir()  # empty, checked above
        os.replace(work, data_dir)
        _fsync(data_dir.parent)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _extract(archive: Path, into: Path, progress: Progress) -> Manifest:
    try:
        with tarfile.open(archive, "r") as tar:
            members = tar.getmembers()
            names = {m.name for m in members}
            if DB_FILENAME not in names or MANIFEST not in names:
                raise BackupError(f"{archive} is not a Headwater backup (no {DB_FILENAME} or {MANIFEST})")
            for member in members:
                top = member.name.split("/", 1)[0]
                if top not in (DB_FILENAME, MANIFEST, TRIGGERS):
                    raise BackupError(f"{archive} holds an unexpected entry: {member.name}")
            progress.stage(f"reading {archive}", sum(m.size for m in members))
            done = 0
            for member in members:
                tar.extract(member, into, filter="data")  # no absolute paths, no '..', no links out
                done += member.size
                progress.advance(done)
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{archive} cannot be read: {exc}") from None
    return Manifest.from_json((into / MANIFEST).read_bytes())

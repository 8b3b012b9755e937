"""S3 buckets as folders: with no S3 at hand, export and import read and write `<root>/<bucket>/<key>`
(`--s3-dir`; `<data dir>/s3` by default). Bucket names and key prefixes come from clients: they are
checked so that a path can never leave its bucket's folder. A bucket's folder is made when it is first
written; one that does not exist is an empty bucket."""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from ..config import Settings
from ..errors import ValidationException
from .object_store import Listed

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")  # S3's bucket naming rules


def root(settings: Settings) -> Path:
    if settings.s3_dir is not None:
        return settings.s3_dir
    if settings.in_memory:
        raise ValidationException("S3 buckets are folders of --s3-dir, which this server was not given")
    return settings.data_dir / "s3"


def bucket_folder(settings: Settings, bucket: str) -> Path:
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ValidationException(f"Invalid S3 bucket name: {bucket}")
    return root(settings) / bucket


def key_path(folder: Path, key: str) -> Path:
    """A key (or prefix) inside a bucket's folder."""
    parts = [part for part in key.split("/") if part]
    if key.startswith("/") or any(part in (".", "..") for part in parts) or "\0" in key:
        raise ValidationException(f"Invalid S3 key prefix: {key}")
    return folder.joinpath(*parts)


class FolderBucket:
    """A bucket (object_store.Bucket) that is a folder; keys are paths inside it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, key: str, body: bytes) -> None:
        path = key_path(self.folder, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def listing(self, prefix: str) -> list[Listed]:
        """S3's semantics: every key that starts with `prefix` ("a/b" lists "a/b.csv" and "a/bc/x" too)."""
        start = key_path(self.folder, prefix)
        if not self.folder.is_dir():
            return []  # never a walk of the folder's parent: it holds the other buckets
        wanted = start.relative_to(self.folder).as_posix() if start != self.folder else ""
        if prefix.endswith("/") and wanted:
            wanted += "/"
        parent = start if prefix.endswith("/") or start == self.folder else start.parent
        found = [
            Listed(key, path.stat().st_size)
            for path in parent.rglob("*")
            if path.is_file() and (key := path.relative_to(self.folder).as_posix()).startswith(wanted)
        ]
        return sorted(found, key=lambda listed: listed.key)

    def open(self, key: str) -> BinaryIO:
        return key_path(self.folder, key).open("rb")

"""A bucket that is a folder (core/s3_folders.FolderBucket): S3's prefix semantics over its files, and
never a file of another bucket."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.core.s3_folders import FolderBucket
from headwater.errors import ValidationException


def keys(bucket: FolderBucket, prefix: str) -> list[str]:
    return [listed.key for listed in bucket.listing(prefix)]


def test_a_folders_keys_by_prefix(tmp_path: Path) -> None:
    bucket = FolderBucket(tmp_path / "exports")
    for key in ("a/b/1.json", "a/bc/2.json", "a/b.csv", "c.csv"):
        bucket.put(key, key.encode())
    assert keys(bucket, "") == ["a/b.csv", "a/b/1.json", "a/bc/2.json", "c.csv"]
    assert keys(bucket, "a/b") == ["a/b.csv", "a/b/1.json", "a/bc/2.json"]  # S3's: the keys' start
    assert keys(bucket, "a/b/") == ["a/b/1.json"]
    assert keys(bucket, "a/b.csv") == ["a/b.csv"]
    assert keys(bucket, "nothing/") == []
    with bucket.open("a/b/1.json") as stream:
        assert stream.read() == b"a/b/1.json"
    assert [listed.size for listed in bucket.listing("c")] == [5]


def test_a_missing_bucket_is_empty_and_never_lists_another(tmp_path: Path) -> None:
    FolderBucket(tmp_path / "imports-old").put("x.csv", b"pk\n1\n")
    assert keys(FolderBucket(tmp_path / "imports"), "") == []
    assert keys(FolderBucket(tmp_path / "imports"), "x") == []


def test_a_key_never_leaves_its_folder(tmp_path: Path) -> None:
    bucket = FolderBucket(tmp_path / "b")
    for bad in ("../x", "/etc/passwd", "a/../../x", "a\0b"):
        with pytest.raises(ValidationException):
            bucket.put(bad, b"")
        with pytest.raises(ValidationException):
            bucket.listing(bad)

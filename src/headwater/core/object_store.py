"""Where export and import read and write: a bucket of an S3-compatible object store (`--s3-endpoint`,
core/s3_store.py) or, with none, a folder of `--s3-dir` (core/s3_folders.py). Both behind one small
interface, so the exporter and the importer never know which.

Every call blocks (files, HTTP): callers run them off the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol

from ..config import Settings


class StoreError(Exception):
    """The store refused: `code` is what DynamoDB names it in a job's FailureCode (S3NoSuchBucket,
    S3AccessDenied...), the message what S3 said."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Listed:
    key: str
    size: int


@dataclass(frozen=True, slots=True)
class Encryption:
    """How objects are written: S3SseAlgorithm (AES256 or KMS) and S3SseKmsKeyId, as the request asked."""

    algorithm: str | None = None
    kms_key_id: str | None = None


class Bucket(Protocol):
    def put(self, key: str, body: bytes) -> None:
        """Write one whole object (StoreError if the store refuses)."""
        ...

    def listing(self, prefix: str) -> list[Listed]:
        """The objects whose keys start with `prefix`, in key order (StoreError if the store refuses)."""
        ...

    def open(self, key: str) -> BinaryIO:
        """One object, to read as a stream (StoreError if the store refuses; OSError while reading)."""
        ...


def check_request(settings: Settings, bucket: str, prefix: str) -> None:
    """What a request names, checked before it is answered: a folder's bucket name and key prefix must
    stay inside `--s3-dir` (ValidationException). An object store checks its own names."""
    if settings.s3_endpoint is None:
        from . import s3_folders

        s3_folders.key_path(s3_folders.bucket_folder(settings, bucket), prefix)


def bucket(
    settings: Settings, name: str, owner: str | None = None, encryption: Encryption = Encryption()
) -> Bucket:
    """The bucket `name` (S3Bucket) of the store this server was configured with; `owner`
    (S3BucketOwner) is the account that must own it."""
    if settings.s3_endpoint is not None:
        from . import s3_store

        return s3_store.S3Bucket(settings, name, owner, encryption)
    from . import s3_folders

    return s3_folders.FolderBucket(s3_folders.bucket_folder(settings, name))

"""A bucket of an S3-compatible object store (`--s3-endpoint`), through botocore's S3 client: what export
and import read and write when the server was given an endpoint instead of a folder.

Requests are path-style (`http://host/bucket/key`), which every S3-compatible server understands. The
credentials are `--s3-access-key-id`/`--s3-secret-access-key`, or else botocore's usual chain (the
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables, a profile...). S3's refusals become
StoreErrors whose code is DynamoDB's FailureCode and whose message is S3's, as DynamoDB reports them."""

from __future__ import annotations

import functools
import io
from typing import Any, BinaryIO

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..config import Settings
from .object_store import Encryption, Listed, StoreError

# S3's error codes DynamoDB names in an export's or import's FailureCode
_FAILURE_CODES = {
    "NoSuchBucket": "S3NoSuchBucket",
    "AccessDenied": "S3AccessDenied",
    "InvalidAccessKeyId": "S3AccessDenied",
    "SignatureDoesNotMatch": "S3AccessDenied",
    "AllAccessDisabled": "S3AccessDenied",
}
_SSE = {"AES256": "AES256", "KMS": "aws:kms"}  # S3SseAlgorithm -> S3's x-amz-server-side-encryption


def client(settings: Settings) -> Any:
    """A botocore S3 client for the configured endpoint (untyped: botocore has no type information)."""
    session = botocore.session.get_session()
    return session.create_client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name=settings.s3_region or settings.region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def failure(exc: ClientError | BotoCoreError) -> StoreError:
    """S3's refusal as DynamoDB's export and import describe it (FailureCode, FailureMessage)."""
    if isinstance(exc, BotoCoreError):  # no answer at all: the endpoint is down, a timeout...
        return StoreError("S3Unavailable", str(exc))
    error, meta = exc.response.get("Error", {}), exc.response.get("ResponseMetadata", {})
    code = str(error.get("Code", "Unknown"))
    status = meta.get("HTTPStatusCode")
    message = (
        f"{error.get('Message', code)} (Service: Amazon S3; Status Code: {status}; Error Code: {code}; "
        f"Request ID: {meta.get('RequestId')}; S3 Extended Request ID: {meta.get('HostId')})"
    )
    return StoreError(_FAILURE_CODES.get(code, "S3AccessDenied" if status == 403 else f"S3{code}"), message)


class S3Bucket:
    """One bucket of the store (object_store.Bucket); `owner` is sent as ExpectedBucketOwner."""

    def __init__(self, settings: Settings, name: str, owner: str | None, encryption: Encryption) -> None:
        self.settings = settings
        self.name = name
        self.checks: dict[str, str] = {"ExpectedBucketOwner": owner} if owner else {}
        self.writes: dict[str, str] = {}
        if encryption.algorithm is not None:
            self.writes["ServerSideEncryption"] = _SSE[encryption.algorithm]
        if encryption.kms_key_id is not None:
            self.writes["SSEKMSKeyId"] = encryption.kms_key_id

    @functools.cached_property
    def s3(self) -> Any:
        """Made on first use, off the event loop (a client loads S3's service model)."""
        return client(self.settings)

    def put(self, key: str, body: bytes) -> None:
        try:
            self.s3.put_object(Bucket=self.name, Key=key, Body=body, **self.checks, **self.writes)
        except (ClientError, BotoCoreError) as exc:
            raise failure(exc) from exc

    def listing(self, prefix: str) -> list[Listed]:
        found: list[Listed] = []
        try:
            for page in self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.name, Prefix=prefix, **self.checks
            ):
                found.extend(Listed(entry["Key"], entry["Size"]) for entry in page.get("Contents", ()))
        except (ClientError, BotoCoreError) as exc:
            raise failure(exc) from exc
        return found  # S3 lists keys in order (their UTF-8 bytes')

    def open(self, key: str) -> BinaryIO:
        try:
            body = self.s3.get_object(Bucket=self.name, Key=key, **self.checks)["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise failure(exc) from exc
        return io.BufferedReader(_Streamed(body), buffer_size=1 << 16)


class _Streamed(io.RawIOBase):
    """An object's body as a raw stream (readline, gzip), its read errors as OSError."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data: bytes = self.body.read(len(buffer))
        except (BotoCoreError, ValueError) as exc:
            raise OSError(f"reading the object failed: {exc}") from exc
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.body.close()
        super().close()

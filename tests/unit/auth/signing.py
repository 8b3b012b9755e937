"""Requests signed exactly as boto3 signs them: a real botocore client whose send is intercepted."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from headwater.auth.credentials import AccessKey, KeyRing, Principal, Secret
from headwater.auth.sigv4 import SignedRequest

ACCOUNT = "111122223333"
ALICE = Principal(
    kind="user",
    account_id=ACCOUNT,
    name="alice",
    arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
    principal_arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
    user_id="AIDAALICEALICEALICE22",
)
WORKER = Principal(
    kind="role",
    account_id=ACCOUNT,
    name="worker",
    arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/session-1",
    principal_arn=f"arn:aws:iam::{ACCOUNT}:role/worker",
    user_id="AROAWORKERWORKERWORK2:session-1",
)
KEY_ID = "AKIAALICEALICE234567"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TEMP_KEY_ID = "ASIAWORKERWORKER2345"
TEMP_SECRET = "tempSecretTempSecretTempSecretTempSecret"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN//+=="


def key_ring(token_expires_at: float | None = None) -> KeyRing:
    return KeyRing.of(
        [
            AccessKey(KEY_ID, Secret(SECRET), ALICE),
            AccessKey(TEMP_KEY_ID, Secret(TEMP_SECRET), WORKER, Secret(TOKEN), token_expires_at),
        ]
    )


def signed(
    service: str,
    operation: str,
    params: dict[str, Any],
    *,
    region: str = "us-east-1",
    key_id: str = KEY_ID,
    secret: str = SECRET,
    token: str | None = None,
    endpoint: str = "http://127.0.0.1:8000",
) -> SignedRequest:
    """Call `operation` on a real botocore client and return the request it would have sent."""
    session = botocore.session.get_session()
    client = session.create_client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )
    captured: list[Any] = []

    def intercept(request: Any, **_: Any) -> AWSResponse:
        captured.append(request)
        return AWSResponse(request.url, 200, {}, _EmptyRaw())

    client.meta.events.register("before-send", intercept)
    getattr(client, operation)(**params)
    return from_prepared(captured[0])


class _EmptyRaw:
    def stream(self, **_: Any) -> list[bytes]:
        return [b"{}"]


def from_prepared(prepared: Any) -> SignedRequest:
    """What the server would see: the raw path and query of the URL, the headers plus Host."""
    url = urlsplit(prepared.url)
    headers = [(name, _text(value)) for name, value in prepared.headers.items()]
    headers.append(("Host", url.netloc))
    body = prepared.body
    if isinstance(body, str):
        body = body.encode()
    return SignedRequest(prepared.method, url.path, url.query, tuple(headers), body or b"")


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def with_header(request: SignedRequest, name: str, value: str | None) -> SignedRequest:
    """`request` with header `name` replaced (or removed when value is None)."""
    headers = tuple((n, v) for n, v in request.headers if n.lower() != name.lower())
    if value is not None:
        headers += ((name, value),)
    return SignedRequest(request.method, request.raw_path, request.raw_query, headers, request.body)


def header(request: SignedRequest, name: str) -> str:
    return next(v for n, v in request.headers if n.lower() == name.lower())

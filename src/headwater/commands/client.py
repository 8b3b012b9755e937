"""How `headwater` commands talk to a running server: with the caller's own AWS credentials (the
environment, `~/.aws`, a profile: botocore's chain, without asking the cloud's metadata services), so
they work against a server that verifies signatures (`--auth sigv4`); without any, a placeholder key that
a server running with `--auth off` accepts."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

PLACEHOLDER = Credentials("headwater", "headwater")
DEFAULT_REGION = "us-east-1"


def _session() -> botocore.session.Session:
    session = botocore.session.get_session()
    resolver = session.get_component("credential_provider")
    for remote in ("container-role", "iam-role"):  # no network round trip to find none
        if resolver.get_provider(remote) is not None:
            resolver.remove(remote)
    return session


def credentials() -> Credentials:
    found = _session().get_credentials()
    if found is None:
        return PLACEHOLDER
    frozen = found.get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


def region(default: str | None = None) -> str:
    configured = _session().get_config_variable("region")
    return default or (str(configured) if configured else DEFAULT_REGION)


def client(service: str, endpoint: str, region_name: str | None = None, **config: Any) -> Any:
    """A botocore client for `service` at `endpoint`, signing with the caller's credentials."""
    creds = credentials()
    return botocore.session.get_session().create_client(
        service,
        endpoint_url=endpoint,
        region_name=region(region_name),
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
        config=Config(**config) if config else None,
    )


def signed_headers(
    method: str, url: str, body: bytes, headers: dict[str, str], service: str = "dynamodb"
) -> dict[str, str]:
    """Headers for a request to one of Headwater's own routes, signed for `service` (the admin routes
    are signed for `dynamodb`, the Lambda routes for `lambda`)."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(credentials(), service, region()).add_auth(request)
    return dict(request.headers.items())

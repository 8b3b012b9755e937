"""How `headwater` commands talk to a running server, signed like an SDK's calls: with the caller's own AWS
credentials (the environment, `~/.aws`, a profile: botocore's chain, without asking the cloud's metadata
services), so they work against a server that verifies signatures (`--auth sigv4`); without any, a
placeholder key that a server running with `--auth off` accepts. The Lambda extensions and admin routes
refuse unsigned requests either way (http/cross_site.py). The region a command signs for is the namespace
the server answers it in (`--region`; else the configured one; else us-east-1)."""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # botocore loads slowly: only commands that call pay for it
    import botocore.session
    from botocore.credentials import Credentials

PLACEHOLDER_KEY = "headwater"
DEFAULT_REGION = "us-east-1"


def _session() -> botocore.session.Session:
    import botocore.session

    session = botocore.session.get_session()
    resolver = session.get_component("credential_provider")
    for remote in ("container-role", "iam-role"):  # no network round trip to find none
        if resolver.get_provider(remote) is not None:
            resolver.remove(remote)
    return session


def credentials() -> Credentials:
    """The caller's AWS credentials, or the placeholder key when there are none."""
    from botocore.credentials import Credentials

    found = _session().get_credentials()
    if found is None:
        return Credentials(PLACEHOLDER_KEY, PLACEHOLDER_KEY)
    frozen = found.get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


def region(chosen: str | None = None) -> str:
    """`chosen` (a command's --region), else the caller's configured region, else us-east-1."""
    if chosen:
        return chosen
    configured = _session().get_config_variable("region")
    return str(configured) if configured else DEFAULT_REGION


def client(service: str, endpoint: str, region_name: str | None = None, **config: Any) -> Any:
    """A botocore client for `service` at `endpoint`, signing with the caller's credentials."""
    import botocore.session
    from botocore.config import Config

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


def signed_request(
    url: str, method: str, body: bytes | None, service: str, region_name: str | None = None
) -> urllib.request.Request:
    """A urllib request for `url` carrying a SigV4 Authorization for `service` ("lambda", "dynamodb";
    the admin routes are signed for dynamodb) in `region_name` (see `region`)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    headers = {"Host": urlsplit(url).netloc}
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
    SigV4Auth(credentials(), service, region(region_name)).add_auth(request)
    prepared = dict(request.headers.items())
    prepared.pop("Host", None)  # urllib sends its own, the same
    return urllib.request.Request(url, data=body, method=method, headers=prepared)


def call_json(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    service: str = "lambda",
    region: str | None = None,
) -> Any:
    """The decoded JSON answer; urllib.error.HTTPError / URLError for the caller to word."""
    with urllib.request.urlopen(signed_request(url, method, body, service, region), timeout=30) as response:
        return json.loads(response.read())

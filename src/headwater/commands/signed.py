"""Raw HTTP calls to a running server's Lambda extensions and admin routes, SigV4-signed like an SDK's:
those routes refuse unsigned requests (http/cross_site.py)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlsplit

ACCESS_KEY = "headwater"
SECRET_KEY = "headwater"
REGION = "us-east-1"


def signed_request(
    url: str, method: str, body: bytes | None, service: str, region: str = REGION
) -> urllib.request.Request:
    """A urllib request for `url` carrying a SigV4 Authorization for `service` ("lambda", "dynamodb") in
    `region` (the namespace the server answers it in)."""
    from botocore.auth import SigV4Auth  # botocore loads slowly: only commands that call pay for it
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {"Host": urlsplit(url).netloc}
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, region).add_auth(request)
    prepared = dict(request.headers.items())
    prepared.pop("Host", None)  # urllib sends its own, the same
    return urllib.request.Request(url, data=body, method=method, headers=prepared)


def call_json(
    url: str, method: str = "GET", body: bytes | None = None, service: str = "lambda", region: str = REGION
) -> Any:
    """The decoded JSON answer; urllib.error.HTTPError / URLError for the caller to word."""
    with urllib.request.urlopen(signed_request(url, method, body, service, region), timeout=30) as response:
        return json.loads(response.read())

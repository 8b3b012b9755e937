"""The Lambda and admin routes' guard: what a browser could send cross-site is refused, what SDKs send
passes."""

from __future__ import annotations

import orjson
import pytest

from headwater.http.cross_site import CrossSiteGuard
from headwater.http.messages import Request

SIGNED = (
    b"AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x"
)


def request(headers: dict[bytes, bytes], *, secure: bool = False) -> Request:
    joined = {b"host": b"127.0.0.1:8000", **headers}
    return Request("POST", "/2015-03-31/functions", b"", joined, list(joined.items()), b"{}", "", secure)


def refused(headers: dict[bytes, bytes], *, loopback_only: bool = True, secure: bool = False) -> str | None:
    found = CrossSiteGuard(loopback_only=loopback_only).check(request(headers, secure=secure))
    return found.error_type if found is not None else None


def test_what_sdks_send_passes() -> None:
    assert refused({b"authorization": SIGNED, b"content-type": b"application/json"}) is None
    assert refused({b"authorization": SIGNED}) is None  # GET, DELETE and Invoke without a payload
    assert refused({b"authorization": SIGNED, b"content-type": b"binary/octet-stream"}) is None
    assert refused({b"authorization": SIGNED, b"host": b"localhost:8000"}) is None
    assert refused({b"authorization": SIGNED, b"host": b"[::1]:8000"}) is None
    same_origin = {b"authorization": SIGNED, b"origin": b"http://127.0.0.1:8000"}
    assert refused(same_origin) is None
    assert refused({**same_origin, b"sec-fetch-site": b"same-origin"}) is None
    tls = {b"authorization": SIGNED, b"origin": b"https://127.0.0.1:8000"}
    assert refused(tls, secure=True) is None
    default_port = {b"authorization": SIGNED, b"host": b"localhost", b"origin": b"http://localhost:80"}
    assert refused(default_port) is None


def test_no_authorization_is_refused() -> None:
    assert refused({}) == "MissingAuthenticationTokenException"
    assert refused({b"authorization": b""}) == "MissingAuthenticationTokenException"
    assert refused({b"content-type": b"application/json"}) == "MissingAuthenticationTokenException"


@pytest.mark.parametrize(
    "content_type",
    [
        b"text/plain",
        b"text/plain;charset=UTF-8",
        b"Text/Plain",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=----x",
        b" text/plain ",
    ],
)
def test_simple_content_types_are_refused(content_type: bytes) -> None:
    assert refused({b"authorization": SIGNED, b"content-type": content_type}) == "AccessDeniedException"


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example",
        b"http://127.0.0.1:9999",  # another port is another origin
        b"https://127.0.0.1:8000",  # another scheme too
        b"null",  # sandboxed frames, file:// pages
        b"",
        b"http://[bad",
    ],
)
def test_a_foreign_origin_is_refused(origin: bytes) -> None:
    headers = {b"authorization": SIGNED, b"content-type": b"application/json", b"origin": origin}
    assert refused(headers) == "AccessDeniedException"


@pytest.mark.parametrize("site", [b"cross-site", b"same-site", b"Cross-Site"])
def test_a_browser_marked_cross_site_request_is_refused(site: bytes) -> None:
    assert refused({b"authorization": SIGNED, b"sec-fetch-site": site}) == "AccessDeniedException"


def test_a_rebound_dns_name_is_refused_on_a_loopback_server() -> None:
    rebound = {
        b"authorization": SIGNED,
        b"host": b"evil.example:8000",
        b"origin": b"http://evil.example:8000",  # same-origin as far as the browser knows
    }
    assert refused(rebound) == "AccessDeniedException"
    assert refused({b"authorization": SIGNED, b"host": b"evil.example:8000"}) == "AccessDeniedException"
    # a server listening on the network is reached by names it cannot know in advance
    assert refused(rebound, loopback_only=False) is None


def test_the_refusal_is_a_403_in_lambdas_error_shape() -> None:
    found = CrossSiteGuard(loopback_only=True).check(request({b"origin": b"http://evil.example"}))
    assert found is not None
    response = found.response()
    assert response.status == 403
    assert dict(response.headers)[b"x-amzn-errortype"] == b"MissingAuthenticationTokenException"
    body = orjson.loads(response.body)
    assert body["Type"] == "User"
    assert "signed requests only" in body["message"]
    found = CrossSiteGuard(loopback_only=True).check(
        request({b"authorization": SIGNED, b"origin": b"http://evil.example"})
    )
    assert found is not None
    message = orjson.loads(found.response().body)["message"]
    assert message.endswith("Origin http://evil.example is not this server's origin (http://127.0.0.1:8000).")


def read_refused(headers: dict[bytes, bytes]) -> str | None:
    """GET /metrics: a scraper's bare GET passes; a page of another site or a rebound name does not."""
    found = CrossSiteGuard(loopback_only=True).check_read(request(headers))
    return found.error_type if found is not None else None


def test_a_bare_scrape_passes_the_read_check() -> None:
    assert read_refused({}) is None
    assert read_refused({b"origin": b"http://127.0.0.1:8000"}) is None


def test_the_read_check_refuses_pages_of_other_sites() -> None:
    assert read_refused({b"sec-fetch-site": b"cross-site"}) == "AccessDeniedException"
    assert read_refused({b"origin": b"http://evil.example"}) == "AccessDeniedException"
    assert read_refused({b"host": b"evil.example:8000"}) == "AccessDeniedException"

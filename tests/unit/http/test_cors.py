"""CORS headers as DynamoDB answers them: none without an Origin; any origin allowed; the preflight's
requested method and headers echoed, with a max age; DynamoDB's exposed headers."""

from __future__ import annotations

from headwater.http.cors import EXPOSE, cors_headers, is_preflight


def test_no_origin_no_cors_headers() -> None:
    assert cors_headers({}, preflight=False) == []
    assert cors_headers({b"access-control-request-method": b"POST"}, preflight=True) == []
    assert not is_preflight("OPTIONS", {})
    assert not is_preflight("OPTIONS", {b"origin": b""})
    assert not is_preflight("POST", {b"origin": b"http://example.com"})


def test_a_preflight_echoes_what_it_asks_for() -> None:
    request = {
        b"origin": b"http://example.com",
        b"access-control-request-method": b"dog",
        b"access-control-request-headers": b"cat, meerkat, mouse",
    }
    assert is_preflight("OPTIONS", request)
    assert dict(cors_headers(request, preflight=True)) == {
        b"access-control-allow-origin": b"*",
        b"access-control-allow-methods": b"dog",
        b"access-control-allow-headers": b"cat, meerkat, mouse",
        b"access-control-expose-headers": EXPOSE,
        b"access-control-max-age": b"172800",
    }
    # a preflight that asks for nothing gets no Allow-Methods / Allow-Headers
    assert set(dict(cors_headers({b"origin": b"x"}, preflight=True))) == {
        b"access-control-allow-origin",
        b"access-control-expose-headers",
        b"access-control-max-age",
    }


def test_an_actual_request_gets_the_origin_and_exposed_headers_only() -> None:
    request = {b"origin": b"http://example.com", b"access-control-request-method": b"POST"}
    assert dict(cors_headers(request, preflight=False)) == {
        b"access-control-allow-origin": b"*",
        b"access-control-expose-headers": b"x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date",
    }

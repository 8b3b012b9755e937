"""CORS on the DynamoDB endpoint, as DynamoDB answers it, so that browsers (the JavaScript SDK) can call
it: any origin, the preflight's requested method and headers echoed back, DynamoDB's exposed headers.

Only the DynamoDB/Streams JSON endpoint: the Lambda and admin routes stay closed to cross-site requests.
"""

from __future__ import annotations

from typing import Final

Headers = list[tuple[bytes, bytes]]

EXPOSE: Final = b"x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
MAX_AGE: Final = b"172800"  # two days, DynamoDB's


def is_preflight(method: str, request: dict[bytes, bytes]) -> bool:
    return method == "OPTIONS" and bool(request.get(b"origin"))


def cors_headers(request: dict[bytes, bytes], preflight: bool) -> Headers:
    """The response's CORS headers: none unless the request names its Origin."""
    if not request.get(b"origin"):
        return []
    out: Headers = [(b"access-control-allow-origin", b"*")]
    if preflight:
        requested_headers = request.get(b"access-control-request-headers")
        if requested_headers:
            out.append((b"access-control-allow-headers", requested_headers))
        requested_method = request.get(b"access-control-request-method")
        if requested_method:
            out.append((b"access-control-allow-methods", requested_method))
    out.append((b"access-control-expose-headers", EXPOSE))
    if preflight:
        out.append((b"access-control-max-age", MAX_AGE))
    return out

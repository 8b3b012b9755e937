"""What crosses the process channel: an API call to carry out, or a whole HTTP request for the control
routes, and their answers. Kinds are the frame codes of channel.py; fields are byte strings."""

from __future__ import annotations

from typing import Final

from ..core.namespace import Namespace
from ..http.messages import Headers, Request, Response

CALL: Final = 1  # account, region, service, operation, JSON body -> status, JSON body
HTTP: Final = 2  # a Request -> a Response (the Lambda and admin routes)
READY: Final = 3  # a front has bound its socket and loaded the catalog -> 200
METRICS: Final = 4  # a front's index, pid and request counts (metrics/requests.py, each second) -> 200


def call_fields(namespace: Namespace, service: str, operation: str, body: bytes) -> list[bytes]:
    return [namespace.account.encode(), namespace.region.encode(), service.encode(), operation.encode(), body]


def encode_headers(headers: Headers) -> bytes:
    return b"".join(b"%s\x00%s\x00" % (name, value) for name, value in headers)


def decode_headers(blob: bytes) -> Headers:
    parts = blob.split(b"\x00")
    return [(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]


def request_fields(request: Request) -> list[bytes]:
    return [
        request.method.encode(),
        request.path.encode("latin-1"),
        request.query,
        encode_headers(request.raw_headers),
        request.body,
        request.client.encode(),
        b"1" if request.secure else b"",
    ]


def request_of(fields: list[bytes]) -> Request:
    method, path, query, headers, body, client, secure = fields
    raw = decode_headers(headers)
    joined: dict[bytes, bytes] = {}
    for name, value in raw:
        joined[name] = joined[name] + b"," + value if name in joined else value
    return Request(
        method.decode(), path.decode("latin-1"), query, joined, raw, body, client.decode(), secure == b"1"
    )


def response_fields(response: Response) -> tuple[int, list[bytes]]:
    return response.status, [encode_headers(response.headers), response.body]


def response_of(status: int, fields: list[bytes]) -> Response:
    headers, body = fields
    return Response(status, body, decode_headers(headers))

"""The outermost layer around every request: an exception that nothing else caught (a bug while reading,
parsing or validating a request, or while writing the answer) is logged and answered with a 500 and
DynamoDB's InternalServerError body, so a request never ends in a dropped connection.

Once the response has started nothing else can be sent: the exception goes on to the server, which closes
the connection (as starlette's ServerErrorMiddleware does).
"""

from __future__ import annotations

import logging

from ..errors import InternalServerError
from ..protocol.wire import crc32_header, error_body, new_request_id
from .asgi import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

CONTENT_TYPE = b"application/x-amz-json-1.0"


class CatchAll:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            body = error_body(InternalServerError())
            headers = [
                (b"content-type", CONTENT_TYPE),
                (b"content-length", str(len(body)).encode()),
                (b"x-amzn-requestid", new_request_id().encode()),
                (b"x-amz-crc32", crc32_header(body).encode()),
            ]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})

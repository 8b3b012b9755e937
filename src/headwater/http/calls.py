"""Carrying out API calls in this process: the operation's handler with the database, its answer encoded."""

from __future__ import annotations

import logging
from typing import Any

from ..api.context import Handler
from ..core.database import Database
from ..core.namespace import Namespace
from ..errors import DynamoDBError, InternalServerError, UnknownOperationException
from ..protocol.wire import encode_response, error_body

log = logging.getLogger(__name__)


class LocalCalls:
    def __init__(self, db: Database, operations: dict[tuple[str, str], Handler]) -> None:
        self.db = db
        self.operations = operations

    async def run(
        self, namespace: Namespace, service: str, operation: str, request: dict[str, Any], body: bytes
    ) -> tuple[int, bytes]:
        handler = self.operations.get((service, operation))
        try:
            if handler is None:
                raise UnknownOperationException()
            return 200, encode_response(await handler(self.db.scoped(namespace), request))
        except DynamoDBError as err:
            return err.status, error_body(err)
        except Exception:
            log.exception("%s failed", operation)
            return 500, error_body(InternalServerError())

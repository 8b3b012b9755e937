"""The DAX wire protocol's frames.

A connection opens with the magic bytes `gJ7yne5G`, then (as CBOR) 0, a session id or null, a map
of client facts (UserAgent) and 0. Requests follow back to back, each `1, <method id>, <arguments>` with
a fixed number of CBOR items per method; authorizeConnection has no answer, every other request is
answered in order: an empty array (0x80) and the method's result, or an error: an array of error codes,
the message, and [request id, DynamoDB error type, HTTP status (, cancellation reasons)].
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Final

from ..errors import DynamoDBError
from .auth import UnrecognizedClientException
from .cbor import Incomplete, Reader, Writer
from .methods import Item

MAGIC: Final = b"gJ7yne5G"
SUCCESS: Final = b"\x80"

AUTHORIZE, ENDPOINTS = 1489122155, 455855874
GET_ITEM, PUT_ITEM, UPDATE_ITEM, DELETE_ITEM = 263244906, -2106490455, 1425579023, 1013539361
QUERY, SCAN, BATCH_GET, BATCH_WRITE = -931250863, -1875390620, -697851100, 116217951
TRANSACT_GET, TRANSACT_WRITE = 1866287579, -1160037738
DEFINE_KEY_SCHEMA, DEFINE_LIST_ID, DEFINE_LIST = -742646399, -1230579644, 670678385
ARGUMENTS: Final = {
    AUTHORIZE: 5,
    ENDPOINTS: 0,
    GET_ITEM: 3,
    PUT_ITEM: 4,
    UPDATE_ITEM: 3,
    DELETE_ITEM: 3,
    QUERY: 3,
    SCAN: 2,
    BATCH_GET: 2,
    BATCH_WRITE: 2,
    TRANSACT_GET: 4,
    TRANSACT_WRITE: 9,
    DEFINE_KEY_SCHEMA: 1,
    DEFINE_LIST_ID: 1,
    DEFINE_LIST: 1,
}
OPERATIONS: Final = {
    GET_ITEM: "GetItem",
    PUT_ITEM: "PutItem",
    UPDATE_ITEM: "UpdateItem",
    DELETE_ITEM: "DeleteItem",
    QUERY: "Query",
    SCAN: "Scan",
    BATCH_GET: "BatchGetItem",
    BATCH_WRITE: "BatchWriteItem",
    TRANSACT_GET: "TransactGetItems",
    TRANSACT_WRITE: "TransactWriteItems",
}
# the client maps these code paths to DynamoDB's error types (4: a client error, then the path)
_ITEM_ERROR = (4, 37, 38, 39)
ERROR_CODES: Final = {
    "ProvisionedThroughputExceededException": (*_ITEM_ERROR, 40),
    "ResourceNotFoundException": (*_ITEM_ERROR, 41),
    "ConditionalCheckFailedException": (*_ITEM_ERROR, 43),
    "ResourceInUseException": (*_ITEM_ERROR, 45),
    "ValidationException": (*_ITEM_ERROR, 46),
    "InternalServerError": (*_ITEM_ERROR, 47),
    "ItemCollectionSizeLimitExceededException": (*_ITEM_ERROR, 48),
    "LimitExceededException": (*_ITEM_ERROR, 49),
    "ThrottlingException": (*_ITEM_ERROR, 50),
    "TransactionCanceledException": (*_ITEM_ERROR, 58),
    "RequestLimitExceeded": (*_ITEM_ERROR, 61),
    "AccessDeniedException": (4, 37, 38, 42),
}
AUTH_ERROR: Final = (4, 23, 31, 33)
OTHER_ERROR: Final = (4, 37, 38, 0)  # no path the client knows: it reports the DynamoDB type given


class ProtocolError(Exception):
    """The connection's bytes are not the protocol: answered, then the connection is closed."""


def error_frame(err: DynamoDBError, item_bytes: Callable[[Item], bytes] | None = None) -> bytes:
    """The error answer. A transaction's cancellation reasons follow as one flat array: code, message
    and the item (ReturnValuesOnConditionCheckFailure; its attributes as an attribute list) per action."""
    refused = isinstance(err, UnrecognizedClientException)
    codes = AUTH_ERROR if refused else ERROR_CODES.get(err.type_name, OTHER_ERROR)
    out = Writer().array(len(codes))
    for code in codes:
        out.integer(code)
    out.text(err.message or "")
    reasons = err.extra.get("CancellationReasons")
    out.array(4 if reasons is not None else 3).text(str(uuid.uuid4())).text(err.type_name).integer(err.status)
    if reasons is not None:
        out.array(3 * len(reasons))
        for reason in reasons:
            for field in ("Code", "Message"):
                value = reason.get(field)
                if value is None:
                    out.null()
                else:
                    out.text(str(value))
            item = reason.get("Item")
            if item and item_bytes is not None:
                out.binary(item_bytes(item))
            else:
                out.null()
    return out.done()


def read_preamble(reader: Reader) -> None:
    if bytes(reader.data[reader.pos : reader.pos + len(MAGIC)]) != MAGIC[: reader.end - reader.pos]:
        raise ProtocolError("Not a DAX client")
    if reader.end - reader.pos < len(MAGIC):
        raise Incomplete()
    reader.pos += len(MAGIC)
    layering, session, facts, types = (reader.value() for _ in range(4))
    if layering != 0 or not isinstance(session, (bytes, type(None))) or not isinstance(facts, dict):
        raise ProtocolError("Bad connection preamble")
    if types != 0:
        raise ProtocolError("Bad connection preamble")


def read_request(reader: Reader) -> tuple[int, list[Any]]:
    service, method = reader.value(), reader.value()
    if service != 1 or method not in ARGUMENTS:
        raise ProtocolError(f"Unknown method {method!r}")
    return method, [reader.value() for _ in range(ARGUMENTS[method])]

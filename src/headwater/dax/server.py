"""A cluster's listener: the DAX wire protocol on a TCP connection, framed as frames.py says (a preamble,
then requests back to back, answered in order).

Every request is bounded: its size (MAX_REQUEST_BYTES), its nesting (cbor.MAX_DEPTH), the time from its
first byte to its last (REQUEST_SECONDS), and an idle connection's life (IDLE_SECONDS). A request that
breaks the protocol is answered with an error and the connection closed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from time import monotonic
from typing import Any, Final

import orjson

from ..api.context import Handler
from ..auth.policy.evaluate import Decision, Reason
from ..core.catalog import MetaOp
from ..core.database import Database
from ..core.namespace import Namespace
from ..errors import DynamoDBError, InternalServerError, ResourceNotFoundException, ValidationException
from ..http.app import Authorization
from ..http.gate import Caller
from ..protocol.validate import validate_request
from .attribute_lists import AttributeLists, TooManyLists
from .auth import DaxAuthenticator, UnrecognizedClientException
from .cache import MISSING, ClusterCaches
from .catalog import CLUSTER_KIND, QUERY_TTL, RECORD_TTL
from .cbor import Incomplete, Malformed, Reader, Writer
from .errors import AccessDeniedException
from .expressions import BadExpression
from .frames import (
    AUTHORIZE,
    BATCH_GET,
    BATCH_WRITE,
    DEFINE_KEY_SCHEMA,
    DEFINE_LIST,
    DEFINE_LIST_ID,
    DELETE_ITEM,
    ENDPOINTS,
    GET_ITEM,
    OPERATIONS,
    PUT_ITEM,
    QUERY,
    SCAN,
    SUCCESS,
    TRANSACT_GET,
    UPDATE_ITEM,
    ProtocolError,
    error_frame,
    read_preamble,
    read_request,
)
from .methods import DataPlane, Item
from .names import GIB, NODE_MEMORY_GIB
from .values import KeySchema, encode_key

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES: Final = 17 * 1024 * 1024  # DynamoDB's 16 MB request, and room for the encoding
READ_CHUNK: Final = 256 * 1024
REQUEST_SECONDS: Final = 60.0
IDLE_SECONDS: Final = 15 * 60.0
PAUSE_SECONDS: Final = 0.2  # a pause this long in a request's bytes: try to parse what came
PARAMETERS_EVERY: Final = 1.0  # seconds between reads of a cluster's parameter group


class DaxServer:
    """Serves every cluster's connections (the runtime's handler)."""

    def __init__(
        self,
        db: Database,
        operations: Mapping[tuple[str, str], Handler],
        authenticator: DaxAuthenticator | None = None,
        authorization: Authorization | None = None,
        cache_bytes: int | None = None,
    ) -> None:
        self.db = db
        self.operations = operations
        self.authenticator = authenticator
        self.authorization = authorization
        self.cache_bytes = cache_bytes
        self.lists: dict[str, AttributeLists] = {}  # by cluster ARN
        self.connections = 0  # open now, at most --max-connections

    async def serve(self, arn: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.connections >= self.db.settings.max_connections:  # every cluster's together
            writer.close()
            return
        self.connections += 1
        peer = writer.get_extra_info("peername")
        connection = _Connection(self, arn, reader, writer, peer[0] if peer else "")
        try:
            await connection.run()
        except (ConnectionError, TimeoutError):
            pass
        except Exception:
            log.exception("DAX connection to %s failed", arn)
        finally:
            self.connections -= 1
            writer.close()

    def caches(self, arn: str, cluster: dict[str, Any]) -> ClusterCaches:
        """The cluster's caches, their TTLs read again from its parameter group now and then."""
        runtime = self.db.dax_runtime
        found = runtime.caches.get(arn)
        clock = self.db.clock
        if found is None:
            memory = int(NODE_MEMORY_GIB.get(cluster["NodeType"], 1.0) * GIB)
            if self.cache_bytes is not None:
                memory = min(memory, self.cache_bytes)
            found = runtime.caches[arn] = ClusterCaches(clock, memory, 300.0, 300.0)
        now = clock.now()
        if now - found.checked_at >= PARAMETERS_EVERY:
            found.checked_at = now
            view = self.db.scoped(_namespace(arn))
            group = view.dax.parameter_group(cluster["ParameterGroup"]["ParameterGroupName"])
            if group is not None:
                params = group["Parameters"]
                found.set_ttls(int(params[RECORD_TTL]) / 1000.0, int(params[QUERY_TTL]) / 1000.0)
        return found


def _namespace(arn: str) -> Namespace:
    _, _, _, region, account, _ = arn.split(":", 5)
    return Namespace(account, region)


class _Connection:
    def __init__(
        self,
        server: DaxServer,
        arn: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: str,
    ) -> None:
        self.server = server
        self.arn = arn
        self.name = arn.rsplit("/", 1)[1]
        self.namespace = _namespace(arn)
        self.db = server.db.scoped(self.namespace)
        self.reader = reader
        self.writer = writer
        self.peer = peer
        self.buffer = bytearray()
        self.caller: Caller | None = None
        self.refused: UnrecognizedClientException | None = None
        lists = server.lists.get(arn)
        if lists is None:
            lists = server.lists[arn] = AttributeLists(server.db.storage, arn)
        self.lists = lists
        self.plane = DataPlane(lists, self.call, self.schema, self.check)

    # reading ------------------------------------------------------------------------------------------

    async def _next(self, parse: Callable[[Reader], Any]) -> Any:
        """The next thing `parse` reads, once enough bytes arrived; None at a clean end of the stream.

        A request arriving in many reads is parsed again only when a read came up short or no more bytes
        came for a moment (the sender paused: likely the request's end), or the buffer doubled since the
        last try, so a large request costs a few parses, not one per read."""
        started: float | None = None
        tried_at, short = 0, True
        while True:
            size = len(self.buffer)
            if size and (short or size >= 2 * tried_at):
                started = started if started is not None else monotonic()
                reader = Reader(bytes(self.buffer))
                try:
                    found = parse(reader)
                except Incomplete:
                    tried_at = size
                else:
                    del self.buffer[: reader.pos]
                    return found
            if size > MAX_REQUEST_BYTES:
                raise ProtocolError("Request too large")
            timeout = IDLE_SECONDS if started is None else REQUEST_SECONDS - (monotonic() - started)
            if timeout <= 0:
                raise ProtocolError("Request took too long")
            untried = size > tried_at
            try:
                chunk = await asyncio.wait_for(
                    self.reader.read(READ_CHUNK), min(timeout, PAUSE_SECONDS) if untried else timeout
                )
            except TimeoutError:
                if not untried:
                    raise
                short = True  # nothing more for now: try what is there
                continue
            if not chunk:
                if self.buffer:
                    raise ProtocolError("Connection closed inside a request")
                return None
            short = len(chunk) < READ_CHUNK
            self.buffer += chunk

    async def run(self) -> None:
        try:
            if await self._next(read_preamble) is None and not self.buffer:
                pass
            while True:
                request = await self._next(read_request)
                if request is None:
                    return
                answer = await self._answer(*request)
                if answer is not None:
                    self.writer.write(answer)
                    await self.writer.drain()
        except (ProtocolError, Malformed) as err:
            self.writer.write(error_frame(ValidationException(f"Malformed request: {err}")))
            await self.writer.drain()

    # answering ----------------------------------------------------------------------------------------

    async def _answer(self, method: int, args: list[Any]) -> bytes | None:
        if method == AUTHORIZE:
            self._authenticate(args)
            return None
        answer = await self._outcome(method, args)
        pending = self.lists.take_pending()
        if pending:  # attribute lists this answer numbered: stored before their numbers go out
            await self.server.db.storage.write(MetaOp(tuple(pending)))
        return answer

    async def _outcome(self, method: int, args: list[Any]) -> bytes:
        try:
            self._check_caller(method)
            return SUCCESS + await self._method(method, args)
        except DynamoDBError as err:
            return error_frame(err, lambda item: self.plane.values_bytes(item, ()))
        except BadExpression as err:
            return error_frame(ValidationException(f"Invalid expression: {err}"))
        except TooManyLists:
            return error_frame(ValidationException("Too many attribute lists"))
        except (Malformed, KeyError, TypeError, ValueError) as err:
            raise ProtocolError(str(err)) from None
        except Exception:
            log.exception("DAX method %s failed", method)
            return error_frame(InternalServerError())

    def _authenticate(self, args: list[Any]) -> None:
        if self.server.authenticator is None:
            self.caller = Caller(self.namespace, None, self.peer)
            return
        access_key, signature, to_sign, token, _ = args
        if not (isinstance(access_key, str) and isinstance(signature, str) and isinstance(to_sign, bytes)):
            raise ProtocolError("authorizeConnection")
        try:
            principal, _ = self.server.authenticator.verify(
                access_key, signature, to_sign, token if isinstance(token, str) else None
            )
        except UnrecognizedClientException as refused:
            self.caller, self.refused = None, refused
            return
        self.caller, self.refused = Caller(self.namespace, principal, self.peer), None

    def _check_caller(self, method: int) -> None:
        if self.server.authenticator is None:
            return
        if self.caller is None:
            raise self.refused or UnrecognizedClientException("Request is missing Authentication Token")
        operation = OPERATIONS.get(method)
        principal = self.caller.principal
        if operation is None or principal is None:
            return
        if principal.account_id != self.namespace.account:  # DAX has no resource policies to share a cluster
            denial = Decision(False, Reason.NO_RESOURCE_ALLOW, principal.arn, f"dax:{operation}", self.arn)
            raise AccessDeniedException(denial.message)
        if self.server.authorization is not None:
            self.server.authorization.check(self.caller, "dax", operation, {"ClusterName": self.name})

    def cluster(self) -> dict[str, Any]:
        found = self.db.dax.get(CLUSTER_KIND, self.name)
        if found is None or found["ClusterArn"] != self.arn:
            raise ResourceNotFoundException(f"Cluster {self.name} not found")
        return found

    async def check(self, operation: str, request: dict[str, Any]) -> None:
        """What the HTTP API checks before an operation's handler runs (the table must exist too)."""
        validate_request("dynamodb", operation, request)
        for table in request.get("RequestItems", {request.get("TableName", "")}):
            self.db.catalog.require(str(table))

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        validate_request("dynamodb", operation, request)
        answer = await self.server.operations[("dynamodb", operation)](self.db, request)
        return dict(orjson.loads(answer)) if isinstance(answer, bytes) else answer

    def schema(self, table: str) -> KeySchema:
        spec = self.db.catalog.require(table)
        key = spec.key
        found = [(key.hash.name, key.hash.type)]
        if key.range is not None:
            found.append((key.range.name, key.range.type))
        return found

    async def _method(self, method: int, args: list[Any]) -> bytes:
        plane = self.plane
        if method == ENDPOINTS:
            return self._endpoints()
        if method == DEFINE_KEY_SCHEMA:
            out = Writer()
            schema = self.schema(args[0].decode("utf-8") if isinstance(args[0], bytes) else str(args[0]))
            out.map(len(schema))
            for name, kind in schema:
                out.text(name).text(kind)
            return out.done()
        if method == DEFINE_LIST_ID:
            names = args[0]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise Malformed("attribute names")
            return Writer().integer(plane.lists.id_of(tuple(names))).done()
        if method == DEFINE_LIST:
            found = plane.lists.names(args[0]) if isinstance(args[0], int) else None
            if found is None:
                raise ValidationException(f"Unknown attribute list id {args[0]}")
            out = Writer().array(len(found))
            for name in found:
                out.text(name)
            return out.done()
        caches = self.server.caches(self.arn, self.cluster())
        if method == GET_ITEM:
            return await self._get_item(args, caches)
        if method in (QUERY, SCAN):
            request, paths, _ = plane.query_request(args, scan=method == SCAN)
            operation = "Scan" if method == SCAN else "Query"
            if request.get("ConsistentRead"):
                return plane.query_answer(await self.call(operation, request), request, paths)
            key = orjson.dumps([operation, request], option=orjson.OPT_SORT_KEYS)
            cached = caches.queries.get(key)
            if cached is MISSING:
                cached = plane.query_answer(await self.call(operation, dict(request)), request, paths)
                caches.queries.put(key, cached, len(key) + len(cached))
            return bytes(cached)
        if method == BATCH_GET:
            return await self._batch_get(args, caches)
        if method == TRANSACT_GET:
            return await plane.transact_get_items(args)
        if method in (PUT_ITEM, UPDATE_ITEM, DELETE_ITEM):
            write = {PUT_ITEM: plane.put_item, UPDATE_ITEM: plane.update_item, DELETE_ITEM: plane.delete_item}
            answer, item, table = await write[method](args)
            if method == PUT_ITEM:
                self._remember(caches, table, item, item)
            elif method == DELETE_ITEM:
                self._remember(caches, table, item, None)
            else:
                await self._refresh(caches, table, item)
            return answer
        if method == BATCH_WRITE:
            answer, written = await plane.batch_write_item(args)
            for table, item, is_put in written:
                self._remember(caches, table, item, item if is_put else None)
            return answer
        answer, written = await plane.transact_write_items(args)
        for table, item, is_put in written:
            if is_put:
                self._remember(caches, table, item, item)
            else:
                caches.items.discard(self._item_key(table, item))
        return answer

    # the item cache -----------------------------------------------------------------------------------

    def _item_key(self, table: str, item: Item) -> tuple[str, bytes]:
        return table, encode_key(item, self.schema(table))

    def _remember(self, caches: ClusterCaches, table: str, key_of: Item, item: Item | None) -> None:
        """Write-through: what a write through this cluster left, cached (None: known to be absent)."""
        size = len(orjson.dumps(item)) if item is not None else 0
        key = self._item_key(table, key_of)
        caches.items.put(key, item, len(key[0]) + len(key[1]) + size)

    async def _refresh(self, caches: ClusterCaches, table: str, key: Item) -> None:
        """After an update: the item as it now is (read through the same write path's storage)."""
        answer = await self.call("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
        self._remember(caches, table, key, answer.get("Item"))

    async def _cached_item(self, caches: ClusterCaches, table: str, key: Item) -> Item | None:
        cache_key = self._item_key(table, key)
        found = caches.items.get(cache_key)
        if found is MISSING:
            answer = await self.call("GetItem", {"TableName": table, "Key": key})
            found = answer.get("Item")
            self._remember(caches, table, key, found)
        return found  # type: ignore[no-any-return]

    async def _get_item(self, args: list[Any], caches: ClusterCaches) -> bytes:
        plane = self.plane
        request, paths, schema = plane.get_request(args)
        if request.get("ConsistentRead"):  # straight through, and not cached
            answer = await self.call("GetItem", request)
            return plane.get_answer(answer.get("Item"), paths, schema)
        await self.check("GetItem", request)
        item = await self._cached_item(caches, request["TableName"], request["Key"])
        return plane.get_answer(item, paths, schema)

    async def _batch_get(self, args: list[Any], caches: ClusterCaches) -> bytes:
        asked = args[0]
        if not isinstance(asked, dict) or any(
            not isinstance(spec, list) or len(spec) != 3 or spec[0] for spec in asked.values()
        ):
            return await self.plane.batch_get_item(args)  # ConsistentRead somewhere: straight through
        return await self.plane.batch_get_cached(args, lambda t, k: self._cached_item(caches, t, k))

    def _endpoints(self) -> bytes:
        cluster = self.cluster()
        runtime = self.server.db.dax_runtime
        address = runtime.address
        try:
            packed = socket.inet_aton(socket.gethostbyname(address))
        except OSError:
            packed = socket.inet_aton("127.0.0.1")
        out = Writer().array(1).map(7)
        out.integer(0).integer(0).integer(1).text(address).integer(2).binary(packed).integer(3).integer(
            cluster["Port"]
        )
        out.integer(4).integer(1).integer(5).text(
            cluster["Nodes"][0]["AvailabilityZone"] if cluster["Nodes"] else ""
        )
        out.integer(6).integer(0)
        return out.done()


Serve = Callable[[str, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

"""The DAX data plane's methods: each request's CBOR arguments become the DynamoDB request Headwater's
HTTP API would receive (run by the same handlers: one write path), and the answer goes back in DAX's
encoding (keys as key bytes, other attributes as an attribute list id and values, projections as
{ordinal: value})."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from ..errors import ValidationException
from .attribute_lists import AttributeLists
from .cbor import Malformed, Reader, Writer
from .expressions import Rendering
from .values import KeySchema, decode_key, decode_values, encode_key, to_av, write_av

# DaxDataRequestParam: the keys of a request's keyword-argument map
PROJECTION, NAMES, CONSISTENT, CONSUMED, CONDITION, VALUES, METRICS, RETURN_VALUES = range(8)
UPDATE, START_KEY, FILTER, INDEX, KEY_CONDITION, LIMIT, FORWARD, SELECT = range(8, 16)
SEGMENT, TOTAL_SEGMENTS, REQUEST_ITEMS, CLIENT_TOKEN = range(16, 20)
# DaxResponseParam
R_ITEM, R_CONSUMED, R_ATTRIBUTES, R_METRICS, R_RESPONSES, R_UNPROCESSED_KEYS = range(6)
R_UNPROCESSED_ITEMS, R_ITEMS, R_COUNT, R_LAST_KEY, R_SCANNED = range(6, 11)

RETURN_VALUES_NAMES: Final = {1: "NONE", 2: "ALL_OLD", 3: "UPDATED_OLD", 4: "ALL_NEW", 5: "UPDATED_NEW"}
SELECT_NAMES: Final = {
    1: "ALL_ATTRIBUTES",
    2: "ALL_PROJECTED_ATTRIBUTES",
    3: "COUNT",
    4: "SPECIFIC_ATTRIBUTES",
}
TRANSACT_PUT, TRANSACT_DELETE, TRANSACT_UPDATE, TRANSACT_CHECK = 2, 7, 9, 12

Item = dict[str, Any]
Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
Check = Callable[[str, dict[str, Any]], Awaitable[None]]
Path = list[str | int]


def _text(value: Any, what: str) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed(f"{what} is not UTF-8") from None
    if isinstance(value, str):
        return value
    raise Malformed(f"{what} must be a string")


def _kwargs(value: Any) -> dict[int, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, int) for k in value):
        raise Malformed("request parameters")
    return value


def _bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise Malformed(f"{what} must be bytes")
    return value


def value_at(item: Item, path: Path) -> dict[str, Any] | None:
    found: Any = item.get(str(path[0]))
    for part in path[1:]:
        if found is None:
            return None
        if isinstance(part, int):
            items = found.get("L")
            found = items[part] if isinstance(items, list) and 0 <= part < len(items) else None
        else:
            members = found.get("M")
            found = members.get(part) if isinstance(members, dict) else None
    return found if isinstance(found, dict) else None


class DataPlane:
    """One cluster's view: `call` runs a DynamoDB operation in the cluster's namespace; `schema` gives a
    table's key schema."""

    def __init__(
        self, lists: AttributeLists, call: Call, schema: Callable[[str], KeySchema], check: Check
    ) -> None:
        self.lists = lists
        self.call = call
        self.schema = schema
        self.check = check  # validates a request as `call` would, without running it

    # encoding answers ------------------------------------------------------------------------------

    def values_bytes(self, item: Item, key_names: Sequence[str]) -> bytes:
        names = tuple(sorted(name for name in item if name not in key_names))
        out = Writer().integer(self.lists.id_of(names))
        for name in names:
            write_av(out, item[name])
        return out.done()

    def write_item(self, out: Writer, item: Item, schema: KeySchema) -> None:
        """An item with its key: [key bytes, attributes]."""
        out.array(2).binary(encode_key(item, schema)).binary(self.values_bytes(item, [n for n, _ in schema]))

    @staticmethod
    def write_projected(out: Writer, item: Item, paths: list[Path]) -> None:
        found = [(i, value_at(item, path)) for i, path in enumerate(paths)]
        present = [(i, v) for i, v in found if v is not None]
        out.map(len(present))
        for ordinal, av in present:
            out.integer(ordinal)
            write_av(out, av)

    def item_from(self, key: bytes, values: bytes, schema: KeySchema) -> Item:
        item = decode_key(key, schema)
        list_id, found = decode_values(values)
        names = self.lists.names(list_id)
        if names is None or len(names) != len(found):
            raise ValidationException(f"Unknown attribute list id {list_id}")
        item.update(zip(names, found, strict=True))
        return item

    # single items ---------------------------------------------------------------------------------

    def get_request(self, args: list[Any]) -> tuple[dict[str, Any], list[Path] | None, KeySchema]:
        table = _text(args[0], "table name")
        schema = self.schema(table)
        kwargs = _kwargs(args[2])
        request: dict[str, Any] = {"TableName": table, "Key": decode_key(_bytes(args[1], "key"), schema)}
        if CONSISTENT in kwargs:
            request["ConsistentRead"] = bool(kwargs[CONSISTENT])
        paths = self._projection(request, kwargs, Rendering())
        return request, paths, schema

    def get_answer(self, item: Item | None, paths: list[Path] | None, schema: KeySchema) -> bytes:
        if item is None:
            return Writer().null().done()
        out = Writer().map_stream().integer(R_ITEM)
        if paths is not None:
            self.write_projected(out, item, paths)
        else:
            out.binary(self.values_bytes(item, [n for n, _ in schema]))
        return out.end().done()

    async def get_item(self, args: list[Any]) -> bytes:
        request, paths, schema = self.get_request(args)
        answer = await self.call("GetItem", request)
        return self.get_answer(answer.get("Item"), paths, schema)

    def _projection(
        self, request: dict[str, Any], kwargs: dict[int, Any], names: Rendering
    ) -> list[Path] | None:
        if PROJECTION not in kwargs:
            names.attach(request)
            return None
        text, paths = names.projection(_bytes(kwargs[PROJECTION], "projection"))
        request["ProjectionExpression"] = text
        names.attach(request)
        return paths

    def _write_options(self, request: dict[str, Any], kwargs: dict[int, Any], rendering: Rendering) -> str:
        returns = RETURN_VALUES_NAMES.get(kwargs.get(RETURN_VALUES, 1), "NONE")
        if returns != "NONE":
            request["ReturnValues"] = returns
        if isinstance(kwargs.get(CONDITION), bytes):
            request["ConditionExpression"] = rendering.condition(kwargs[CONDITION])
        if isinstance(kwargs.get(UPDATE), bytes):
            request["UpdateExpression"] = rendering.update(kwargs[UPDATE])
        rendering.attach(request)
        return returns

    def _attributes(self, answer: dict[str, Any], returns: str, schema: KeySchema) -> bytes:
        attributes = answer.get("Attributes")
        if not attributes:
            return Writer().null().done()
        out = Writer().map_stream().integer(R_ATTRIBUTES)
        if returns in ("UPDATED_OLD", "UPDATED_NEW"):
            names = tuple(sorted(attributes))
            inner = Writer().integer(self.lists.id_of(names)).map(len(names))
            for ordinal, name in enumerate(names):
                inner.integer(ordinal)
                write_av(inner, attributes[name])
            out.binary(inner.done())
        else:
            out.binary(self.values_bytes(attributes, [n for n, _ in schema]))
        return out.end().done()

    async def put_item(self, args: list[Any]) -> tuple[bytes, Item, str]:
        table = _text(args[0], "table name")
        schema = self.schema(table)
        item = self.item_from(_bytes(args[1], "key"), _bytes(args[2], "values"), schema)
        request: dict[str, Any] = {"TableName": table, "Item": item}
        returns = self._write_options(request, _kwargs(args[3]), Rendering())
        answer = await self.call("PutItem", request)
        return self._attributes(answer, returns, schema), item, table

    async def update_item(self, args: list[Any]) -> tuple[bytes, Item, str]:
        return await self._keyed_write("UpdateItem", args)

    async def delete_item(self, args: list[Any]) -> tuple[bytes, Item, str]:
        return await self._keyed_write("DeleteItem", args)

    async def _keyed_write(self, operation: str, args: list[Any]) -> tuple[bytes, Item, str]:
        table = _text(args[0], "table name")
        schema = self.schema(table)
        key = decode_key(_bytes(args[1], "key"), schema)
        request: dict[str, Any] = {"TableName": table, "Key": key}
        returns = self._write_options(request, _kwargs(args[2]), Rendering())
        answer = await self.call(operation, request)
        return self._attributes(answer, returns, schema), key, table

    # queries and scans ----------------------------------------------------------------------------

    def query_request(self, args: list[Any], *, scan: bool) -> tuple[dict[str, Any], list[Path] | None, str]:
        table = _text(args[0], "table name")
        kwargs = _kwargs(args[1] if scan else args[2])
        rendering = Rendering()
        request: dict[str, Any] = {"TableName": table}
        if not scan:
            request["KeyConditionExpression"] = rendering.condition(_bytes(args[1], "key condition"))
        if INDEX in kwargs:
            request["IndexName"] = _text(kwargs[INDEX], "index name")
        if SELECT in kwargs:
            request["Select"] = SELECT_NAMES.get(kwargs[SELECT], "?")
        for param, name in ((LIMIT, "Limit"), (SEGMENT, "Segment"), (TOTAL_SEGMENTS, "TotalSegments")):
            if param in kwargs:
                request[name] = kwargs[param]
        if CONSISTENT in kwargs:
            request["ConsistentRead"] = bool(kwargs[CONSISTENT])
        if FORWARD in kwargs:
            request["ScanIndexForward"] = bool(kwargs[FORWARD])
        if START_KEY in kwargs:
            raw = _bytes(kwargs[START_KEY], "ExclusiveStartKey")
            if INDEX in kwargs:
                found = Reader(raw).value()
                if not isinstance(found, dict):
                    raise Malformed("ExclusiveStartKey")
                request["ExclusiveStartKey"] = {str(k): to_av(v) for k, v in found.items()}
            else:
                request["ExclusiveStartKey"] = decode_key(raw, self.schema(table))
        if isinstance(kwargs.get(FILTER), bytes):
            request["FilterExpression"] = rendering.condition(kwargs[FILTER])
        paths = self._projection(request, kwargs, rendering)
        return request, paths, table

    def query_answer(
        self, answer: dict[str, Any], request: dict[str, Any], paths: list[Path] | None
    ) -> bytes:
        table = request["TableName"]
        schema = self.schema(table)
        out = Writer().map_stream()
        if "Items" in answer:
            items = answer["Items"]
            out.integer(R_ITEMS).array(len(items))
            for item in items:
                if paths is not None:
                    self.write_projected(out, item, paths)
                else:
                    self.write_item(out, item, schema)
        out.integer(R_COUNT).integer(answer.get("Count", 0)).integer(R_SCANNED).integer(
            answer.get("ScannedCount", 0)
        )
        last = answer.get("LastEvaluatedKey")
        if last is not None:
            out.integer(R_LAST_KEY)
            if "IndexName" in request:
                inner = Writer().map_stream()
                for name, av in last.items():
                    inner.text(name)
                    write_av(inner, av)
                out.binary(inner.end().done())
            else:
                out.binary(encode_key(last, schema))
        return out.end().done()

    # batches and transactions -----------------------------------------------------------------------

    def batch_get_request(self, args: list[Any]) -> tuple[dict[str, Any], dict[str, list[Path] | None]]:
        asked = args[0]
        if not isinstance(asked, dict):
            raise Malformed("RequestItems")
        request_items: dict[str, Any] = {}
        projections: dict[str, list[Path] | None] = {}
        for name, spec in asked.items():
            table = _text(name, "table name")
            if not (isinstance(spec, list) and len(spec) == 3 and isinstance(spec[2], list)):
                raise Malformed("batch get entry")
            schema = self.schema(table)
            entry: dict[str, Any] = {
                "Keys": [decode_key(_bytes(key, "key"), schema) for key in spec[2]],
                "ConsistentRead": bool(spec[0]),
            }
            kwargs = {PROJECTION: spec[1]} if spec[1] is not None else {}
            projections[table] = self._projection(entry, kwargs, Rendering())
            request_items[table] = entry
        return request_items, projections

    def batch_get_answer(
        self,
        responses: dict[str, list[Item]],
        unprocessed: dict[str, Any],
        projections: dict[str, list[Path] | None],
    ) -> bytes:
        out = Writer().array(2)
        out.map(len(responses))
        for table, items in responses.items():
            out.text(table)
            paths = projections.get(table)
            schema = self.schema(table)
            out.array(len(items) if paths is not None else 2 * len(items))
            for item in items:
                if paths is not None:
                    self.write_projected(out, item, paths)
                else:
                    out.binary(encode_key(item, schema)).binary(
                        self.values_bytes(item, [n for n, _ in schema])
                    )
        out.map(len(unprocessed))
        for table, entry in unprocessed.items():
            schema = self.schema(table)
            out.text(table).array(len(entry["Keys"]))
            for key in entry["Keys"]:
                out.binary(encode_key(key, schema))
        return out.array(0).done()

    async def batch_get_item(self, args: list[Any]) -> bytes:
        request_items, projections = self.batch_get_request(args)
        answer = await self.call("BatchGetItem", {"RequestItems": request_items})
        return self.batch_get_answer(
            answer.get("Responses", {}), answer.get("UnprocessedKeys", {}), projections
        )

    async def batch_get_cached(
        self, args: list[Any], fetch: Callable[[str, Item], Awaitable[Item | None]]
    ) -> bytes:
        """An eventually consistent BatchGetItem, each item from `fetch` (the item cache)."""
        request_items, projections = self.batch_get_request(args)
        validate = {"RequestItems": request_items}
        await self.check("BatchGetItem", validate)
        responses: dict[str, list[Item]] = {}
        for table, entry in request_items.items():
            found = [await fetch(table, key) for key in entry["Keys"]]
            responses[table] = [item for item in found if item is not None]
        return self.batch_get_answer(responses, {}, projections)

    async def batch_write_item(self, args: list[Any]) -> tuple[bytes, list[tuple[str, Item, bool]]]:
        asked = args[0]
        if not isinstance(asked, dict):
            raise Malformed("RequestItems")
        request_items: dict[str, list[dict[str, Any]]] = {}
        written: list[tuple[str, Item, bool]] = []
        for name, flat in asked.items():
            table = _text(name, "table name")
            if not isinstance(flat, list) or len(flat) % 2:
                raise Malformed("batch write entry")
            schema = self.schema(table)
            writes = request_items[table] = []
            for key, values in zip(flat[::2], flat[1::2], strict=True):
                if values is None:
                    item = decode_key(_bytes(key, "key"), schema)
                    writes.append({"DeleteRequest": {"Key": item}})
                    written.append((table, item, False))
                else:
                    item = self.item_from(_bytes(key, "key"), _bytes(values, "values"), schema)
                    writes.append({"PutRequest": {"Item": item}})
                    written.append((table, item, True))
        answer = await self.call("BatchWriteItem", {"RequestItems": request_items})
        unprocessed = answer.get("UnprocessedItems", {})
        out = Writer().map(len(unprocessed))
        for table, writes in unprocessed.items():
            schema = self.schema(table)
            out.text(table).array(2 * len(writes))
            for write in writes:
                if "PutRequest" in write:
                    item = write["PutRequest"]["Item"]
                    out.binary(encode_key(item, schema)).binary(
                        self.values_bytes(item, [n for n, _ in schema])
                    )
                else:
                    out.binary(encode_key(write["DeleteRequest"]["Key"], schema)).null()
        return out.array(0).map(0).done(), written

    async def transact_get_items(self, args: list[Any]) -> bytes:
        tables, keys, projections = args[0], args[1], args[2]
        if not (isinstance(tables, list) and isinstance(keys, list) and len(tables) == len(keys)):
            raise Malformed("TransactItems")
        if projections is not None and (not isinstance(projections, list) or len(projections) != len(keys)):
            raise Malformed("projections")
        items: list[dict[str, Any]] = []
        paths: list[list[Path] | None] = []
        for i, (name, key) in enumerate(zip(tables, keys, strict=True)):
            table = _text(name, "table name")
            get: dict[str, Any] = {
                "TableName": table,
                "Key": decode_key(_bytes(key, "key"), self.schema(table)),
            }
            projection = projections[i] if projections is not None else None
            paths.append(self._projection(get, {PROJECTION: projection} if projection else {}, Rendering()))
            items.append({"Get": get})
        answer = await self.call("TransactGetItems", {"TransactItems": items})
        responses = answer.get("Responses", [])
        out = Writer().array(2).array(len(responses))
        for response, table_name, wanted in zip(responses, tables, paths, strict=False):
            item = response.get("Item")
            if item is None:
                out.null()
            elif wanted is not None:
                self.write_projected(out, item, wanted)
            else:
                schema = self.schema(_text(table_name, "table name"))
                out.binary(self.values_bytes(item, [n for n, _ in schema]))
        return out.array(0).done()

    async def transact_write_items(self, args: list[Any]) -> tuple[bytes, list[tuple[str, Item, bool]]]:
        operations, tables, keys, values, _, on_failure, conditions, updates = args[:8]
        count = len(operations) if isinstance(operations, list) else -1
        for column in (tables, keys):
            if not isinstance(column, list) or len(column) != count:
                raise Malformed("TransactItems")
        items: list[dict[str, Any]] = []
        written: list[tuple[str, Item, bool]] = []
        for i, operation in enumerate(operations):
            table = _text(tables[i], "table name")
            schema = self.schema(table)
            key = _bytes(keys[i], "key")
            rendering = Rendering()
            entry: dict[str, Any] = {"TableName": table}
            condition = _column(conditions, i)
            if condition is not None:
                entry["ConditionExpression"] = rendering.condition(_bytes(condition, "condition"))
            if _column(on_failure, i) == 2:
                entry["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            if operation == TRANSACT_PUT:
                entry["Item"] = self.item_from(key, _bytes(_column(values, i), "values"), schema)
                written.append((table, entry["Item"], True))
                kind = "Put"
            else:
                entry["Key"] = decode_key(key, schema)
                if operation == TRANSACT_UPDATE:
                    entry["UpdateExpression"] = rendering.update(_bytes(_column(updates, i), "update"))
                    written.append((table, entry["Key"], False))
                    kind = "Update"
                elif operation == TRANSACT_DELETE:
                    written.append((table, entry["Key"], False))
                    kind = "Delete"
                elif operation == TRANSACT_CHECK:
                    kind = "ConditionCheck"
                else:
                    raise Malformed(f"transaction operation {operation}")
            items.append({kind: rendering.attach(entry)})
        kwargs = _kwargs(args[8])
        request: dict[str, Any] = {"TransactItems": items}
        if isinstance(kwargs.get(CLIENT_TOKEN), str):
            request["ClientRequestToken"] = kwargs[CLIENT_TOKEN]
        await self.call("TransactWriteItems", request)
        return Writer().array(3).null().array(0).map(0).done(), written


def _column(column: Any, index: int) -> Any:
    if column is None:
        return None
    if not isinstance(column, list) or index >= len(column):
        raise Malformed("TransactItems column")
    return column[index]

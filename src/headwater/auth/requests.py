"""From one DynamoDB or Streams request to every authorization check it needs: (action, resource ARN,
condition context). Batch and transaction requests check every table (and every item) they touch.

The request has already passed validation; the caller passes the partition key attribute names of the
tables involved (`TableKeys`), so this module needs no catalog. Context keys follow AWS's "Actions,
resources, and condition keys for Amazon DynamoDB":

- dynamodb:LeadingKeys - the partition key values of every item the request reads or writes (for Query,
  the key condition's partition value); a multi-valued key, meant for ForAllValues:
- dynamodb:Attributes - the top-level attribute names the request names: item attributes, key
  attributes, and every attribute an expression (or legacy parameter) mentions
- dynamodb:Select, dynamodb:ReturnValues, dynamodb:ReturnConsumedCapacity - as the request gives them
- dynamodb:EnclosingOperation - TransactWriteItems / TransactGetItems for their items
- the global keys: aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid, aws:username
  (users), aws:SourceIp, aws:CurrentTime, aws:EpochTime, aws:SecureTransport, aws:RequestedRegion

Actions that AWS lets no policy scope to a resource (ListTables, DescribeLimits, DescribeEndpoints) are
checked against `*`. ListStreams is checked against the narrowest stream ARN pattern instead
(`table/T/stream/*`, or `table/*/stream/*` without TableName), so that the usual stream-reader policy,
which grants it on the stream ARN, works as written.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from headwater.auth.credentials import Principal
from headwater.auth.policy.context import ContextValue
from headwater.auth.policy.evaluate import ResourcePolicy, evaluate
from headwater.errors import DynamoDBError
from headwater.expressions.ast import KeyTerm, Path
from headwater.expressions.compile import CompiledExpressions, compile_request
from headwater.expressions.errors import ExpressionError
from headwater.model.values import validate_value
from headwater.partiql import parse as parse_statement
from headwater.partiql.access import Access
from headwater.partiql.access import access as partiql_access

_UNSCOPED = frozenset(
    {"ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups", "ListExports", "ListImports"}
)
_BY_BACKUP_ARN = frozenset({"DescribeBackup", "DeleteBackup"})
_BY_OWN_ARN = {
    "DescribeExport": "ExportArn",
    "DescribeImport": "ImportArn",
    "ExportTableToPointInTime": "TableArn",
}
_BY_RESOURCE_ARN = frozenset(
    {
        "TagResource",
        "UntagResource",
        "ListTagsOfResource",
        "PutResourcePolicy",
        "GetResourcePolicy",
        "DeleteResourcePolicy",
    }
)
_STREAM_OPERATIONS = frozenset({"DescribeStream", "GetShardIterator", "GetRecords"})
_ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem"})
_TRANSACT_WRITE_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_PARTIQL_OPERATIONS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})


@dataclass(frozen=True, slots=True)
class TableKeys:
    """A table's partition key attribute name, and each index's."""

    partition: str
    indexes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Caller:
    """The request-wide facts behind the global condition keys."""

    principal: Principal
    region: str
    now: float
    source_ip: str | None = None
    secure_transport: bool = False
    account_id: str | None = None
    """The account whose resources the request addresses (default: the principal's own)."""

    @property
    def namespace_account(self) -> str:
        return self.account_id or self.principal.account_id


@dataclass(frozen=True, slots=True)
class Check:
    """One authorization question: may the caller perform `action` on `resource` in `context`?"""

    action: str
    resource: str
    context: Mapping[str, ContextValue]


# Headwater's own request member of Scan and GetRecords that asks for global tables' last-writer-wins
# stamps (streams/records.py; its name repeated here: auth imports no storage or streams module)
REPLICATION_STAMPS = "HeadwaterReplicationStamps"
READ_REPLICATION_STAMPS = "headwater:ReadReplicationStamps"


def table_arn(region: str, account: str, table: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{table}"


@lru_cache(maxsize=4)
def _times(second: int) -> tuple[str, str]:
    """aws:CurrentTime and aws:EpochTime of one second (formatted once: requests come many a second)."""
    moment = dt.datetime.fromtimestamp(second, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), str(second)


def global_context(caller: Caller) -> dict[str, ContextValue]:
    principal = caller.principal
    current, epoch = _times(int(caller.now))
    context: dict[str, ContextValue] = {
        "aws:PrincipalArn": principal.principal_arn,
        "aws:PrincipalAccount": principal.account_id,
        "aws:PrincipalType": "User" if principal.kind == "user" else "AssumedRole",
        "aws:userid": principal.user_id,
        "aws:CurrentTime": current,
        "aws:EpochTime": epoch,
        "aws:SecureTransport": "true" if caller.secure_transport else "false",
        "aws:RequestedRegion": caller.region,
    }
    if principal.username is not None:
        context["aws:username"] = principal.username
    if caller.source_ip is not None:
        context["aws:SourceIp"] = caller.source_ip
    return context


def checks(
    operation: str,
    request: Mapping[str, Any],
    caller: Caller,
    keys: Mapping[str, TableKeys],
    *,
    stream_arn: str | None = None,
) -> tuple[Check, ...]:
    """Every check `operation` needs. `keys` maps the tables involved to their key names (a table missing
    from it gets no LeadingKeys: the operation will answer ResourceNotFoundException itself);
    `stream_arn` is the stream a GetRecords iterator belongs to (decoded by the caller)."""
    return tuple(_Builder(caller, keys, global_context(caller)).build(operation, request, stream_arn))


def _no_resource_policy(arn: str) -> ResourcePolicy | None:
    return None


def authorize(
    principal: Principal,
    found: Iterable[Check],
    resource_policy: Callable[[str], ResourcePolicy | None] = _no_resource_policy,
) -> None:
    """Evaluate every check; the first denial raises AccessDeniedException with AWS's message.

    `resource_policy` gives the resource-based policy that governs an ARN (a table's policy also governs
    its indexes; a stream has its own), or None.
    """
    for check in found:
        policy = resource_policy(check.resource)
        evaluate(principal, check.action, check.resource, check.context, policy).raise_if_denied()


def partiql_statements(request: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """The statements of a PartiQL request (ExecuteStatement's one, a batch's or a transaction's)."""
    if "Statement" in request:
        return (request,)
    found = request.get("Statements") or request.get("TransactStatements") or ()
    return [entry for entry in found if isinstance(entry, Mapping)]


def statement_access(entry: Mapping[str, Any]) -> Access | None:
    """What a PartiQL statement (with its Parameters) touches; None when it does not parse."""
    try:
        parameters = [validate_value(value) for value in entry.get("Parameters") or ()]
        return partiql_access(parse_statement(str(entry.get("Statement", "")), parameters))
    except (DynamoDBError, ExpressionError):
        return None


class _Builder:
    def __init__(self, caller: Caller, keys: Mapping[str, TableKeys], base: dict[str, ContextValue]) -> None:
        self.caller = caller
        self.keys = keys
        self.base = base

    def arn(self, table: str) -> str:
        """A table named by name (in the caller's namespace) or by its ARN (any account's)."""
        if table.startswith("arn:"):
            return table
        return table_arn(self.caller.region, self.caller.namespace_account, table)

    def check(self, operation: str, resource: str, **context: ContextValue) -> Check:
        merged = dict(self.base)
        merged.update((f"dynamodb:{k}", v) for k, v in context.items() if v is not None)
        return Check(f"dynamodb:{operation}", resource, merged)

    def build(self, operation: str, request: Mapping[str, Any], stream_arn: str | None) -> Iterator[Check]:
        if operation in _UNSCOPED:
            yield self.check(operation, "*")
        elif operation in _BY_RESOURCE_ARN:
            yield self.check(operation, str(request.get("ResourceArn", "*")))
        elif operation in _BY_OWN_ARN:
            yield self.check(operation, str(request.get(_BY_OWN_ARN[operation], "*")))
        elif operation == "ImportTable":
            parameters = request.get("TableCreationParameters") or {}
            yield self.check(operation, self.arn(str(parameters.get("TableName", "*"))))
        elif operation in _BY_BACKUP_ARN:
            yield self.check(operation, str(request.get("BackupArn", "*")))
        elif operation == "RestoreTableFromBackup":
            # the backup read and the table made from it
            yield self.check(operation, str(request.get("BackupArn", "*")))
            yield self.check(operation, self.arn(str(request.get("TargetTableName", "*"))))
        elif operation == "RestoreTableToPointInTime":
            source = request.get("SourceTableArn") or request.get("SourceTableName") or "*"
            yield self.check(operation, self.arn(str(source)))
            yield self.check(operation, self.arn(str(request.get("TargetTableName", "*"))))
        elif operation == "ListStreams":
            table = request.get("TableName")
            yield self.check(operation, self.arn(f"{table or '*'}") + "/stream/*")
        elif operation in _STREAM_OPERATIONS:
            arn = stream_arn if operation == "GetRecords" else request.get("StreamArn")
            yield self.check(operation, str(arn or "*"))
            if operation == "GetRecords" and REPLICATION_STAMPS in request:
                yield self.replication(str(arn or "*").partition("/stream/")[0])
        elif operation in _ITEM_OPERATIONS:
            yield self.item(operation, request["TableName"], request)
        elif operation in ("Query", "Scan"):
            yield self.read(operation, request)
            if operation == "Scan" and REPLICATION_STAMPS in request:
                yield self.replication(self.arn(request["TableName"]))
        elif operation == "BatchGetItem":
            yield from self.batch_get(request)
        elif operation == "BatchWriteItem":
            yield from self.batch_write(request)
        elif operation == "TransactGetItems":
            for entry in request.get("TransactItems", []):
                yield self.item("GetItem", entry["Get"]["TableName"], entry["Get"], "TransactGetItems")
        elif operation == "TransactWriteItems":
            for entry in request.get("TransactItems", []):
                kind, item = next(iter(entry.items()))
                action = _TRANSACT_WRITE_ACTIONS[kind]
                yield self.item(action, item["TableName"], item, "TransactWriteItems")
        elif operation in _PARTIQL_OPERATIONS:
            for entry in partiql_statements(request):
                yield from self.statement(entry)
        else:
            # Table-level operations: CreateTable, DescribeTable, UpdateTable, DeleteTable, TTL...
            table = self.arn(request.get("TableName", "*"))
            yield self.check(operation, table)
            if operation == "CreateTable" and request.get("ResourcePolicy") is not None:
                # a table created with its resource policy: both permissions, as AWS documents
                yield self.check("PutResourcePolicy", table)

    def replication(self, table: str) -> Check:
        """What Headwater's own REPLICATION_STAMPS member needs besides the operation's permission: it
        is for the peers replicating a global table (their `--peer-credentials`), no other client."""
        return Check(READ_REPLICATION_STAMPS, table, self.base)

    def item(
        self, action: str, table: str, request: Mapping[str, Any], enclosing: str | None = None
    ) -> Check:
        """A single-item request (or one item of a transaction)."""
        record = request.get("Item") if action == "PutItem" else request.get("Key")
        record = record or {}
        compiled = compile_request(
            dict(request), operation="PutItem" if action == "ConditionCheckItem" else action
        )
        return self.check(
            action,
            self.arn(table),
            LeadingKeys=self.leading_keys(table, None, [record]),
            Attributes=_attributes(record, compiled),
            ReturnValues=request.get("ReturnValues"),
            ReturnConsumedCapacity=request.get("ReturnConsumedCapacity"),
            EnclosingOperation=enclosing,
        )

    def statement(self, entry: Mapping[str, Any]) -> Iterator[Check]:
        """A PartiQL statement: dynamodb:PartiQLSelect/Insert/Update/Delete on its table (or index), with
        the partition key values it pins as LeadingKeys and, for a SELECT, whether it scans the whole
        table (dynamodb:FullTableScan: no partition key value pinned). One that does not parse needs no
        check: the operation refuses it without reading or writing anything."""
        found = statement_access(entry)
        if found is None:
            return
        resource = self.arn(found.table) + (f"/index/{found.index}" if found.index else "")
        leading = self.leading_keys(found.table, found.index, [found.values])
        full_scan = None
        if found.kind == "select" and leading is not None:
            full_scan = "false" if leading else "true"
        yield self.check(
            found.action.removeprefix("dynamodb:"),
            resource,
            LeadingKeys=leading,
            FullTableScan=full_scan,
            Attributes=tuple(sorted(found.values)),
        )

    def read(self, operation: str, request: Mapping[str, Any]) -> Check:
        table = request["TableName"]
        index = request.get("IndexName")
        resource = self.arn(table) + (f"/index/{index}" if index else "")
        compiled = compile_request(dict(request), operation=operation)
        leading: tuple[str, ...] | None = None
        if operation == "Query" and compiled.key_condition is not None:
            partition = self.partition_name(table, index)
            leading = (
                tuple(
                    _scalar(term.values[0])
                    for term in compiled.key_condition.terms
                    if term.name == partition and term.op == "EQ" and term.values
                )
                if partition is not None
                else None
            )
        return self.check(
            operation,
            resource,
            LeadingKeys=leading,
            Attributes=_attributes({}, compiled),
            Select=request.get("Select"),
            ReturnConsumedCapacity=request.get("ReturnConsumedCapacity"),
        )

    def batch_get(self, request: Mapping[str, Any]) -> Iterator[Check]:
        for table, entry in request.get("RequestItems", {}).items():
            records = entry.get("Keys", [])
            compiled = compile_request(dict(entry), operation="GetItem")
            names: set[str] = set(_attributes({}, compiled))
            for record in records:
                names.update(record)
            yield self.check(
                "BatchGetItem",
                self.arn(table),
                LeadingKeys=self.leading_keys(table, None, records),
                Attributes=tuple(sorted(names)),
                ReturnConsumedCapacity=request.get("ReturnConsumedCapacity"),
            )

    def batch_write(self, request: Mapping[str, Any]) -> Iterator[Check]:
        for table, writes in request.get("RequestItems", {}).items():
            records = [
                w["PutRequest"]["Item"] if "PutRequest" in w else w["DeleteRequest"]["Key"] for w in writes
            ]
            names = sorted({name for record in records for name in record})
            yield self.check(
                "BatchWriteItem",
                self.arn(table),
                LeadingKeys=self.leading_keys(table, None, records),
                Attributes=tuple(names),
                ReturnConsumedCapacity=request.get("ReturnConsumedCapacity"),
            )

    def partition_name(self, table: str, index: str | None) -> str | None:
        keys = self.keys.get(table)
        if keys is None:
            return None
        return keys.indexes.get(index) if index else keys.partition

    def leading_keys(
        self, table: str, index: str | None, records: list[Mapping[str, Any]]
    ) -> tuple[str, ...] | None:
        partition = self.partition_name(table, index)
        if partition is None:
            return None
        values: list[str] = []
        for record in records:
            value = record.get(partition)
            if value is not None:
                text = _scalar(value)
                if text not in values:
                    values.append(text)
        return tuple(values)


def _scalar(value: Mapping[str, Any]) -> str:
    """A key attribute value as the string a condition compares: S and N as given, B in base64."""
    kind, raw = next(iter(value.items()))
    if kind == "B" and isinstance(raw, (bytes, bytearray)):
        return base64.b64encode(raw).decode()
    return str(raw)


def _attributes(record: Mapping[str, Any], compiled: CompiledExpressions) -> tuple[str, ...]:
    """Top-level attribute names named by the item/key and by every compiled expression."""
    names = set(record)
    parts = (
        compiled.condition,
        compiled.update,
        compiled.projection,
        compiled.key_condition,
        compiled.filter,
    )
    for part in parts:
        if part is not None:
            names.update(_top_level_names(part))
    return tuple(sorted(names))


def _top_level_names(node: Any) -> Iterator[str]:
    """The first element of every document path in an expression tree (and key-condition names)."""
    if isinstance(node, Path):
        if node.elements and isinstance(node.elements[0], str):
            yield node.elements[0]
        return
    if isinstance(node, (tuple, list)):
        for child in node:
            yield from _top_level_names(child)
        return
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        if isinstance(node, KeyTerm):
            yield node.name
            return
        for item in dataclasses.fields(node):
            yield from _top_level_names(getattr(node, item.name))

"""Headwater's own admin calls (not part of any AWS API), for tests and operators:

    POST /_headwater/namespace         {}                  the server's default account and region
    POST /_headwater/streams/rollover  {"TableName": "T", "Region"?}  close the open shards of T's stream now
    POST /_headwater/ttl/sweep         {}                  delete every expired item now (every namespace)
    POST /_headwater/sinks/add         {"TableName", "Nats", "Subject", "Name"?, "Region"?}   add a NATS
                                                           JetStream sink
    POST /_headwater/sinks/remove      {"Name"}            remove a sink and its checkpoints
    POST /_headwater/sinks/list        {}                  every sink
    POST /_headwater/sinks/status      {"Name"?}           sinks with published counts, lag, last error
    POST /_headwater/replicas/status   {"TableName"?}      global tables' replication links: applied
                                                           changes, latency, caught up, last error
    POST /_headwater/replicas/join     {"Spec", "Region", "Replicas", "Source", "Settings"}  from another
                                                           server: make a global table's replica here
    POST /_headwater/replicas/membership  {"TableArn", "Add" | "Remove"}  from another server: a region
                                                           joined or left the global table
    POST /_headwater/replicas/settings    {"TableArn", "TimeToLiveSpecification" |
                                           "GlobalSecondaryIndexUpdates"}  from another server: a global
                                                           table's TTL or index change
    POST /_headwater/usage             {"Since"?, "Region"?}  per table: consumed units (--meter-usage),
                                                           provisioned capacity, stream reads, storage
    POST /_headwater/dax/status        {"ClusterName", "Region"?}  a DAX cluster's item and query cache
                                                           counters: hits, misses, evictions, entries
    POST /_headwater/clock/advance     {"Seconds"}         move the server's clock (a test server with
                                                           HEADWATER_TEST_CLOCK only)

A call that names a table takes the table's region (`Region`, the server's `--region` by default) and
finds it in the server's default account, or with `--auth sigv4` in the verified caller's account.

Answers are JSON; errors use DynamoDB's error shape.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from ..api.dax.statistics import cache_statistics
from ..api.dynamodb._replica_settings import apply_settings
from ..api.dynamodb._replicas import join, membership
from ..clock import FakeClock
from ..core.database import Database
from ..core.namespace import Namespace
from ..core.ttl import sweep
from ..core.usage_report import usage_report
from ..errors import DynamoDBError, ResourceNotFoundException, UnknownOperationException, ValidationException
from ..protocol.wire import error_body
from ..replication.service import ReplicationService
from ..sinks.service import SinkService
from ..streams.background import force_rollover

ADMIN_PREFIX = "/_headwater/"
_REGION = re.compile(r"[a-z0-9-]{1,32}")


class AdminRoutes:
    def __init__(
        self, db: Database, sinks: SinkService | None = None, replication: ReplicationService | None = None
    ) -> None:
        self.db = db
        self.sinks = sinks
        self.replication = replication

    async def handle(
        self, method: str, path: str, body: bytes, account: str | None = None
    ) -> tuple[int, bytes]:
        """`account`: the verified caller's (`--auth sigv4`); None: the server's default account."""
        try:
            if method != "POST":
                raise UnknownOperationException()
            request = orjson.loads(body) if body.strip() else {}
            if not isinstance(request, dict):
                raise ValidationException("The request body must be a JSON object")
            if path == ADMIN_PREFIX + "namespace":
                namespace = self.db.namespace
                return 200, orjson.dumps({"AccountId": namespace.account, "Region": namespace.region})
            if path == ADMIN_PREFIX + "streams/rollover":
                return 200, orjson.dumps(await self._rollover(request, account))
            if path == ADMIN_PREFIX + "ttl/sweep":
                return 200, orjson.dumps({"Deleted": await sweep(self.db)})
            if path == ADMIN_PREFIX + "usage":
                return 200, orjson.dumps(usage_report(self.db, request, account))
            if path == ADMIN_PREFIX + "dax/status":
                return 200, orjson.dumps(cache_statistics(self._db(request, account), request))
            if path == ADMIN_PREFIX + "clock/advance" and isinstance(self.db.clock, FakeClock):
                seconds = request.get("Seconds")
                if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
                    raise ValidationException("Seconds must be a number of seconds, not negative")
                self.db.clock.advance(float(seconds))
                return 200, orjson.dumps({"Now": self.db.clock.now()})
            if path == ADMIN_PREFIX + "replicas/join":
                return 200, orjson.dumps(await join(self.db, request))
            if path == ADMIN_PREFIX + "replicas/membership":
                return 200, orjson.dumps(await membership(self.db, request))
            if path == ADMIN_PREFIX + "replicas/settings":
                return 200, orjson.dumps(await apply_settings(self.db, request))
            if path == ADMIN_PREFIX + "replicas/status" and self.replication is not None:
                links = self.replication.status()
                name = request.get("TableName")
                return 200, orjson.dumps({"Links": [x for x in links if name in (None, x["TableName"])]})
            if path.startswith(ADMIN_PREFIX + "sinks/") and self.sinks is not None:
                return 200, orjson.dumps(
                    await self._sinks(self.sinks, path.rpartition("/")[2], request, account)
                )
            raise UnknownOperationException()
        except orjson.JSONDecodeError:
            return 400, error_body(ValidationException("The request body must be JSON"))
        except DynamoDBError as err:
            return err.status, error_body(err)

    async def _rollover(self, request: dict[str, Any], account: str | None) -> dict[str, Any]:
        name = request.get("TableName")
        if not isinstance(name, str):
            raise ValidationException("TableName is required")
        table = self._db(request, account).catalog.require_table(name)
        if not table.stream.enabled or table.stream_id is None:
            raise ResourceNotFoundException(f"Table {name} has no enabled stream")
        await force_rollover(self.db.streams, table.stream_id)
        return {"TableName": name, "StreamLabel": table.extra.get("stream_label")}

    def _db(self, request: dict[str, Any], account: str | None) -> Database:
        """`account`'s view (the default account's) in the request's `Region` (the server's by default)."""
        default = self.db.namespace
        region = request.get("Region", default.region)
        if not isinstance(region, str) or _REGION.fullmatch(region) is None:
            raise ValidationException(f"Region must be a region name such as us-east-1, not {region!r}")
        namespace = Namespace(account or default.account, region)
        return self.db if namespace == default else self.db.scoped(namespace)

    async def _sinks(
        self, sinks: SinkService, action: str, request: dict[str, Any], account: str | None
    ) -> dict[str, Any]:
        if action == "add":
            db = self._db(request, account)
            if db is not self.db and isinstance(request.get("TableName"), str):
                # the sink names its table by ARN: the table of that region
                table = request["TableName"]
                name = request.get("Name") or f"{table}-{request.get('Subject')}"
                arn = db.namespace.arn("dynamodb", f"table/{table}")
                request = {**request, "TableName": arn, "Name": name}
            return {"Sink": sinks.status(await sinks.add(request))}
        if action == "remove":
            return {"Sink": (await sinks.remove(str(request.get("Name")))).to_wire()}
        if action == "list":
            return {"Sinks": [config.to_wire() for _, config in sorted(sinks.sinks.items())]}
        if action == "status":
            chosen = [sinks.require(request["Name"])] if request.get("Name") else list(sinks.sinks.values())
            return {"Sinks": [sinks.status(config) for config in sorted(chosen, key=lambda c: c.name)]}
        raise UnknownOperationException()

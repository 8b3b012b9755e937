"""`headwater streams tail TABLE`: follow every shard of a table's latest stream and print its records.

Shards are followed parents before children (a child is read only once its parent is exhausted or gone),
so for any one item the records print in the order of its changes.
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any

import click
import orjson

from .admin import region_of, region_option
from .signed import client

log = logging.getLogger(__name__)


def _client(service: str, endpoint: str, region: str) -> Any:
    return client(service, endpoint, region)


def format_record(record: dict[str, Any]) -> str:
    """One readable line: time, event, keys, then the new (or old) image."""
    d = record["dynamodb"]
    when = d.get("ApproximateCreationDateTime")
    stamp = when.isoformat() if isinstance(when, datetime.datetime) else str(when)
    line = f"{stamp} {record['eventName']:<6} {d['SequenceNumber']} {orjson.dumps(d['Keys']).decode()}"
    if "NewImage" in d:
        line += " new=" + orjson.dumps(d["NewImage"]).decode()
    if "OldImage" in d:
        line += " old=" + orjson.dumps(d["OldImage"]).decode()
    if "userIdentity" in record:
        line += " (ttl)"
    return line


def _json_line(record: dict[str, Any]) -> str:
    def default(value: object) -> object:
        if isinstance(value, datetime.datetime):
            return int(value.timestamp())
        raise TypeError

    return orjson.dumps(record, default=default).decode()


class Follower:
    """Per-shard iterators over one stream, lineage-ordered."""

    def __init__(self, streams: Any, arn: str, start: str) -> None:
        self.streams = streams
        self.arn = arn
        self.start = start
        self.iterators: dict[str, str] = {}
        self.done: set[str] = set()
        self.known: dict[str, str | None] = {}

    def _shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self.arn}
        while True:
            desc = self.streams.describe_stream(**request)["StreamDescription"]
            shards += desc["Shards"]
            if "LastEvaluatedShardId" not in desc:
                return shards
            request["ExclusiveStartShardId"] = desc["LastEvaluatedShardId"]

    def poll(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        first_listing = not self.known
        for shard in self._shards():
            sid, parent = shard["ShardId"], shard.get("ParentShardId")
            self.known.setdefault(sid, parent)
            if sid in self.done or (parent in self.known and parent not in self.done):
                continue  # the parent must be read to its end first
            if sid not in self.iterators:
                # LATEST applies to the shards open when tailing starts; children are read from the start
                kind = "LATEST" if self.start == "LATEST" and first_listing else "TRIM_HORIZON"
                self.iterators[sid] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=sid, ShardIteratorType=kind
                )["ShardIterator"]
            while True:
                page = self.streams.get_records(ShardIterator=self.iterators[sid])
                out += page["Records"]
                nxt = page.get("NextShardIterator")
                if nxt is None:
                    self.done.add(sid)
                    del self.iterators[sid]
                    break
                self.iterators[sid] = nxt
                if not page["Records"]:
                    break
        return out


@click.group()
def streams() -> None:
    """Read DynamoDB Streams."""


@streams.command()
@click.argument("table")
@click.option(
    "--from", "start", type=click.Choice(["trim-horizon", "latest"]), default="latest", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="One JSON record per line.")
@click.option(
    "--endpoint-url", envvar="HEADWATER_ENDPOINT", default="http://127.0.0.1:8000", show_default=True
)
@region_option
@click.option("--interval", default=0.5, show_default=True, type=float, help="Seconds between polls.")
@click.option("--exit-when-idle", is_flag=True, hidden=True, help="Stop after a poll that finds nothing.")
def tail(
    table: str,
    start: str,
    as_json: bool,
    endpoint_url: str,
    region: str | None,
    interval: float,
    exit_when_idle: bool,
) -> None:
    """Follow TABLE's latest stream and print records as they arrive."""
    region = region_of(endpoint_url, region)
    ddb = _client("dynamodb", endpoint_url, region)
    arn = ddb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
    if arn is None:
        raise click.ClickException(f"table {table} has no stream")
    follower = Follower(
        _client("dynamodbstreams", endpoint_url, region), arn, start.upper().replace("-", "_")
    )
    while True:
        records = follower.poll()
        for record in records:
            click.echo(_json_line(record) if as_json else format_record(record))
        if not records:
            if exit_when_idle:
                return
            time.sleep(interval)

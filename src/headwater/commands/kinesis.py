"""`headwater kinesis tail STREAM`: follow every shard of a Kinesis stream and print its records.

Shards are followed parents before children (both parents of a merged shard), so for any one partition
key the records print in the order they were written."""

from __future__ import annotations

import base64
import datetime
import time
from typing import Any

import click
import orjson

from .admin import region_of, region_option
from .streams import _client


def format_record(shard_id: str, record: dict[str, Any]) -> str:
    when = record.get("ApproximateArrivalTimestamp")
    stamp = when.isoformat() if isinstance(when, datetime.datetime) else str(when)
    data: bytes = record["Data"]
    try:
        shown = data.decode("utf-8")
    except UnicodeDecodeError:
        shown = "base64:" + base64.b64encode(data).decode()
    return f"{stamp} {shard_id} {record['SequenceNumber']} {record['PartitionKey']} {shown}"


def json_line(shard_id: str, record: dict[str, Any]) -> str:
    when = record.get("ApproximateArrivalTimestamp")
    return orjson.dumps(
        {
            "ShardId": shard_id,
            "SequenceNumber": record["SequenceNumber"],
            "PartitionKey": record["PartitionKey"],
            "ApproximateArrivalTimestamp": when.timestamp() if isinstance(when, datetime.datetime) else when,
            "Data": base64.b64encode(record["Data"]).decode(),
        }
    ).decode()


class Follower:
    """Per-shard iterators over one Kinesis stream, lineage-ordered."""

    def __init__(self, client: Any, stream: str, start: str) -> None:
        self.client = client
        self.stream = stream
        self.start = start
        self.iterators: dict[str, str] = {}
        self.done: set[str] = set()
        self.known: set[str] = set()

    def _shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamName": self.stream}
        while True:
            page = self.client.list_shards(**request)
            shards += page["Shards"]
            if not page.get("NextToken"):
                return shards
            request = {"NextToken": page["NextToken"]}

    def poll(self) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        first_listing = not self.known
        shards = self._shards()
        self.known.update(s["ShardId"] for s in shards)
        for shard in shards:
            sid = shard["ShardId"]
            parents = {shard.get("ParentShardId"), shard.get("AdjacentParentShardId")} - {None}
            if sid in self.done or any(p in self.known and p not in self.done for p in parents):
                continue
            if sid not in self.iterators:
                closed = "EndingSequenceNumber" in shard["SequenceNumberRange"]
                if self.start == "LATEST" and first_listing and closed:
                    self.done.add(sid)
                    continue
                kind = "LATEST" if self.start == "LATEST" and first_listing else "TRIM_HORIZON"
                self.iterators[sid] = self.client.get_shard_iterator(
                    StreamName=self.stream, ShardId=sid, ShardIteratorType=kind
                )["ShardIterator"]
            while True:
                page = self.client.get_records(ShardIterator=self.iterators[sid])
                out += [(sid, r) for r in page["Records"]]
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
def kinesis() -> None:
    """Read Kinesis data streams."""


@kinesis.command()
@click.argument("stream")
@click.option(
    "--from", "start", type=click.Choice(["trim-horizon", "latest"]), default="latest", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="One JSON record per line (Data in base64).")
@click.option(
    "--endpoint-url", envvar="HEADWATER_ENDPOINT", default="http://127.0.0.1:8000", show_default=True
)
@region_option
@click.option("--interval", default=1.0, show_default=True, type=float, help="Seconds between polls.")
@click.option("--exit-when-idle", is_flag=True, hidden=True, help="Stop after a poll that finds nothing.")
def tail(
    stream: str,
    start: str,
    as_json: bool,
    endpoint_url: str,
    region: str | None,
    interval: float,
    exit_when_idle: bool,
) -> None:
    """Follow STREAM and print records as they arrive."""
    region = region_of(endpoint_url, region)
    follower = Follower(_client("kinesis", endpoint_url, region), stream, start.upper().replace("-", "_"))
    while True:
        records = follower.poll()
        for shard_id, record in records:
            click.echo(json_line(shard_id, record) if as_json else format_record(shard_id, record))
        if not records:
            if exit_when_idle:
                return
            time.sleep(interval)

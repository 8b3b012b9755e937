"""A smoke test with the JavaScript SDK v3 (`@aws-sdk/client-kinesis`): its own JSON 1.1 serialisation,
blobs and error parsing against a live server (over HTTP/1.1: the client's default is HTTP/2). Installed
with npm into tests/.node on first use (tests/node_support.py)."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from tests.node_support import NODE_DIR, node_with

PACKAGE = "@aws-sdk/client-kinesis@3.1143.0"

SCRIPT = r"""
const k = require("@aws-sdk/client-kinesis");
const { NodeHttpHandler } = require("@smithy/node-http-handler");
// the Kinesis client speaks HTTP/2 by default (for SubscribeToShard); Headwater serves HTTP/1.1
const client = new k.KinesisClient({
  endpoint: process.env.ENDPOINT, region: "us-east-1", requestHandler: new NodeHttpHandler(),
  credentials: { accessKeyId: "js", secretAccessKey: "js" },
});
(async () => {
  const name = process.env.STREAM;
  await client.send(new k.CreateStreamCommand({ StreamName: name, ShardCount: 2 }));
  const put = await client.send(new k.PutRecordCommand({
    StreamName: name, PartitionKey: "p", Data: new TextEncoder().encode("from js") }));
  const batch = await client.send(new k.PutRecordsCommand({ StreamName: name,
    Records: [1, 2, 3].map(i => ({ PartitionKey: "p" + i, Data: new TextEncoder().encode("r" + i) })) }));
  const shards = (await client.send(new k.ListShardsCommand({ StreamName: name }))).Shards;
  const it = await client.send(new k.GetShardIteratorCommand({ StreamName: name, ShardId: put.ShardId,
    ShardIteratorType: "AT_SEQUENCE_NUMBER", StartingSequenceNumber: put.SequenceNumber }));
  const page = await client.send(new k.GetRecordsCommand({ ShardIterator: it.ShardIterator }));
  let missing = "";
  try { await client.send(new k.DescribeStreamCommand({ StreamName: name + "-nope" })); }
  catch (e) { missing = e.name + ": " + e.message; }
  const summary = await client.send(new k.DescribeStreamSummaryCommand({ StreamName: name }));
  await client.send(new k.DeleteStreamCommand({ StreamName: name }));
  console.log(JSON.stringify({
    shard: put.ShardId, failed: batch.FailedRecordCount, shards: shards.length,
    first: new TextDecoder().decode(page.Records[0].Data),
    arrival: page.Records[0].ApproximateArrivalTimestamp,
    missing, open: summary.StreamDescriptionSummary.OpenShardCount,
  }));
})().catch(e => { console.error(e); process.exit(1); });
"""


def node_with_sdk() -> str:
    return node_with(PACKAGE)


def test_javascript_sdk_v3_kinesis(server: Any, stream_name: str) -> None:
    node = node_with_sdk()
    env = {
        **os.environ,
        "ENDPOINT": server.endpoint,
        "STREAM": stream_name,
        "NODE_PATH": str(NODE_DIR / "node_modules"),
    }
    out = subprocess.run(
        [node, "-e", SCRIPT], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["shard"].startswith("shardId-") and result["failed"] == 0 and result["shards"] == 2
    assert result["first"] == "from js" and result["open"] == 2 and result["arrival"]
    assert (
        result["missing"]
        == f"ResourceNotFoundException: Stream {stream_name}-nope under account 000000000000 not found."
    )

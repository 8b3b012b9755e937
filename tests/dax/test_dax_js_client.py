"""A smoke test with the JavaScript DAX client (`amazon-dax-client` on npm): its own encoder, expression
compiler and error decoding against a cluster's listener."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.dax.support import make_cluster, make_table, unique
from tests.node_support import NODE_DIR, node_with
from tests.server import Server

pytestmark = pytest.mark.headwater_only

PACKAGE = "amazon-dax-client@1.2.10"

SCRIPT = r"""
const AmazonDaxClient = require("amazon-dax-client");
const dax = new AmazonDaxClient({ endpoints: [process.env.ENDPOINT], region: "us-east-1",
  accessKeyId: "test", secretAccessKey: "test" });
const call = (op, params) => new Promise((ok, fail) => dax[op](params, (e, d) => e ? fail(e) : ok(d)));
const t = process.env.TABLE;
const key = (sk) => ({ pk: { S: "js" }, sk: { N: String(sk) } });
(async () => {
  const out = {};
  await call("putItem", { TableName: t, Item: { ...key(1), v: { S: "from js" }, n: { N: "5" } } });
  out.get = (await call("getItem", { TableName: t, Key: key(1) })).Item;
  out.update = (await call("updateItem", { TableName: t, Key: key(1), UpdateExpression: "SET n = n + :one",
    ExpressionAttributeValues: { ":one": { N: "1" } }, ReturnValues: "UPDATED_NEW" })).Attributes;
  await call("batchWriteItem", { RequestItems: { [t]: [{ PutRequest: { Item: key(2) } }] } });
  out.batch = (await call("batchGetItem", { RequestItems: { [t]: { Keys: [key(2)] } } })).Responses[t];
  out.query = (await call("query", { TableName: t, KeyConditionExpression: "pk = :p AND sk > :s",
    ExpressionAttributeValues: { ":p": { S: "js" }, ":s": { N: "0" } } })).Count;
  out.scan = (await call("scan", { TableName: t })).Count;
  await call("transactWriteItems", { TransactItems: [{ Put: { TableName: t, Item: key(3) } }] });
  const got = await call("transactGetItems", { TransactItems: [{ Get: { TableName: t, Key: key(3) } }] });
  out.tget = got.Responses;
  try {
    await call("putItem", { TableName: t, Item: key(1), ConditionExpression: "attribute_not_exists(pk)" });
  } catch (e) { out.conditional = e.code; }
  try {
    await call("transactWriteItems", { TransactItems: [{ ConditionCheck: { TableName: t, Key: key(1),
      ConditionExpression: "attribute_not_exists(pk)" } }] });
  } catch (e) { out.cancelled = e.code; out.reasons = e.cancellationReasons; }
  out.deleted = (await call("deleteItem", { TableName: t, Key: key(3), ReturnValues: "ALL_OLD" })).Attributes;
  console.log(JSON.stringify(out));
  dax.shutdown();
})().catch(e => { console.error(e); process.exit(1); });
"""


def test_javascript_dax_client(server: Server) -> None:
    node = node_with(PACKAGE)
    url = make_cluster(server, unique("js"))
    table = make_table(server.client("dynamodb"), unique("daxjs"))
    env = {
        **os.environ,
        "ENDPOINT": url.removeprefix("dax://"),
        "TABLE": table,
        "NODE_PATH": str(NODE_DIR / "node_modules"),
    }
    out = subprocess.run(
        [node, "-e", SCRIPT], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["get"] == {"pk": {"S": "js"}, "sk": {"N": "1"}, "v": {"S": "from js"}, "n": {"N": "5"}}
    assert result["update"] == {"n": {"N": "6"}}
    assert result["batch"] == [{"pk": {"S": "js"}, "sk": {"N": "2"}}]
    assert (result["query"], result["scan"]) == (2, 2)
    assert result["tget"] == [{"Item": {"pk": {"S": "js"}, "sk": {"N": "3"}}}]
    assert result["conditional"] == "ConditionalCheckFailedException"
    assert result["cancelled"] == "TransactionCanceledException"
    assert result["reasons"] == [
        {"Item": None, "Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
    ]
    assert result["deleted"] == {"pk": {"S": "js"}, "sk": {"N": "3"}}

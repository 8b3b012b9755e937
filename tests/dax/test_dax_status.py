"""`headwater dax status CLUSTER` (POST /_headwater/dax/status): a cluster's cache counters, counted as the
real DAX client uses the cluster; DescribeClusters keeps AWS's shape (the counters are not added to it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import botocore.session
import pytest

from tests.dax.support import dax_client, make_cluster, make_table, unique
from tests.server import Server

pytestmark = pytest.mark.headwater_only


def dax_status(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headwater", "dax", "status", "--endpoint-url", server.endpoint, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
    )


def test_the_counters_follow_the_clients_reads(server: Server) -> None:
    cluster = unique("status")
    table = make_table(server.client("dynamodb"), unique("daxstatus"))
    with dax_client(make_cluster(server, cluster)) as dax:
        key: dict[str, Any] = {"pk": {"S": "a"}, "sk": {"N": "1"}}
        dax.put_item(TableName=table, Item={**key, "v": {"S": "x"}})  # written through: cached
        dax.get_item(TableName=table, Key=key)  # a hit
        dax.get_item(TableName=table, Key={"pk": {"S": "absent"}, "sk": {"N": "1"}})  # a miss, remembered
        dax.get_item(TableName=table, Key=key, ConsistentRead=True)  # passes through: not the cache's
    done = dax_status(server, cluster, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["ClusterName"], report["Status"], report["NodeType"]) == (
        cluster,
        "available",
        "dax.t3.small",
    )
    items = report["ItemCache"]
    assert (items["Hits"], items["Misses"], items["Evictions"], items["Entries"]) == (1, 1, 0, 2)
    assert items["TtlMillis"] == 300_000
    assert items["SizeBytes"] > 0 and items["CapacityBytes"] >= items["SizeBytes"]
    assert (report["QueryCache"]["Hits"], report["QueryCache"]["Entries"]) == (0, 0)
    shown = dax_status(server, cluster)
    assert shown.returncode == 0, shown.stderr
    assert "item cache: 1 hits, 1 misses (50% hits), 0 evictions; 2 entries" in shown.stdout

    # DescribeClusters answers AWS's shape only
    described = server.client("dax").describe_clusters(ClusterNames=[cluster])["Clusters"][0]
    shape = botocore.session.get_session().get_service_model("dax").shape_for("Cluster")
    assert set(described) <= set(shape.members)


def test_a_cluster_not_yet_used_has_zero_counters(server: Server) -> None:
    cluster = unique("idle")
    make_cluster(server, cluster)
    done = dax_status(server, cluster.upper(), "--json")  # names are not case-sensitive
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ItemCache"] == {"Hits": 0, "Misses": 0, "Evictions": 0, "Entries": 0, "SizeBytes": 0}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"ClusterName": "nosuchcluster"}, "ClusterNotFoundFault"),
        ({}, "ValidationException"),
        ({"ClusterName": 7}, "ValidationException"),
        ({"ClusterName": "x", "Region": "not a region"}, "ValidationException"),
    ],
)
def test_bad_requests_are_refused(server: Server, body: dict[str, Any], error: str) -> None:
    status, _, answer = server.request("POST", "/_headwater/dax/status", json.dumps(body).encode())
    assert status == 400
    assert json.loads(answer)["__type"].endswith(error)


def test_the_command_says_when_a_cluster_is_not_there(server: Server) -> None:
    done = dax_status(server, "nosuchcluster")
    assert done.returncode != 0
    assert "ClusterNotFoundFault: Cluster nosuchcluster not found." in done.stderr

"""DAX phase: GetItem through a DAX cluster's listener with the real `amazon-dax-client` (after a first
pass every key is in the item cache, so the measured window is cache hits), against plain `get` on the
same keys over HTTP. Headwater only; the client is synchronous, so the load runs on threads."""

from __future__ import annotations

import random
import threading
import time
from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from amazondax import AmazonDaxClient

from bench.loadgen import LoadResult
from bench.tables import key

if TYPE_CHECKING:
    from bench.phases import Bench, PhaseResult

ROLE = "arn:aws:iam::000000000000:role/bench-dax"
SAMPLE = 2_000  # distinct keys a client reads (all of them cached during the warm-up)


def _credentials(bench: Bench) -> tuple[str, str]:
    found = bench.endpoint.credentials
    if found is None:
        return "bench", "bench"
    return found.key_id, found.secret


def _cluster_url(bench: Bench, name: str) -> str:
    access, secret = _credentials(bench)
    dax = boto3.client(
        "dax",
        endpoint_url=bench.endpoint.url,
        region_name=bench.endpoint.region,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
    )
    try:
        dax.create_cluster(ClusterName=name, NodeType="dax.r5.large", ReplicationFactor=1, IamRoleArn=ROLE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = dax.describe_clusters(ClusterNames=[name])["Clusters"][0]
            if found["Status"] == "available":
                return str(found["ClusterDiscoveryEndpoint"]["URL"])
            time.sleep(0.1)
        raise TimeoutError(f"DAX cluster {name} not available")
    finally:
        dax.close()


def _reader(client: Any, table: str, keys: list[dict[str, Any]], rnd: random.Random) -> Callable[[], None]:
    def read() -> None:
        client.get_item(TableName=table, Key=rnd.choice(keys))

    return read


def get_dax(bench: Bench, r: PhaseResult) -> None:
    if bench.peer:
        r.status, r.note = "n/a", "Headwater only"
        return
    table, written = bench.keys(r)
    url = _cluster_url(bench, f"bench{bench.round}{random.randrange(10**6)}")
    access, secret = _credentials(bench)
    client = AmazonDaxClient(
        endpoint_url=url,
        region_name=bench.endpoint.region,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
    )
    settings = bench.settings
    rnd = random.Random(7)
    keys = [key(*written.sample(rnd)) for _ in range(SAMPLE)]
    for each in keys:  # every key into the item cache: the window measures hits
        client.get_item(TableName=table, Key=each)
    result = LoadResult(settings.duration)
    lock = threading.Lock()
    start = time.monotonic() + settings.warmup
    end = start + settings.duration

    def worker(seed: int) -> None:
        read = _reader(client, table, keys, random.Random(seed))
        latencies: array[float] = array("d")
        ok = total = 0
        while (t0 := time.monotonic()) < end:
            read()
            total += 1
            if t0 >= start:
                latencies.append(time.monotonic() - t0)
                ok += 1
        with lock:
            result.ok += ok
            result.ok_total += total
            result.latencies.extend(latencies)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(settings.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    r.absorb(result, "ops/s")
    r.metrics["cached_keys"] = SAMPLE
    bench.compare_with(r, "get")


PHASES: dict[str, Callable[[Bench, PhaseResult], None]] = {"get-dax": get_dax}

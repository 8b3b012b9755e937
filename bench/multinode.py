"""Several Headwater nodes on one PostgreSQL database (`make bench NODES=1,2`: `bench/run.py --nodes 1,2`).

For each node count N: a fresh database of one durable PostgreSQL cluster (bench/postgres.py), N `headwater
serve --storage-url` nodes on it, the clients spread evenly over them, and two phases:
- `put`: PutItem of new items into a table with a stream (NEW_AND_OLD_IMAGES): every commit numbers its
  records under the `sequence` row's lock, held until COMMIT, so the nodes' streamed commits take turns;
- `put-nostream`: the same without a stream: no sequence number, nothing shared but the catalog's lock
  (shared) and the items' key locks.
The gap between the two is what the stream's counter costs; the gap between N = 1 and N = 2 what a
second node adds or takes away. Each phase runs `--rounds` times, the node counts interleaved.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from bench.keys import KeySpace
from bench.loadgen import LoadResult, Session, Workload, run_async, run_load
from bench.postgres import describe, postgres_cluster
from bench.server import local_server, serve_command
from bench.tables import create_table
from bench.wire import Client, Endpoint, RequestBuilder
from bench.workloads import Put

PHASES = ("put", "put-nostream")


@dataclass(frozen=True, slots=True)
class Offset:
    """Another node's clients: their ids (and so their keys) after the first node's."""

    workload: Workload
    offset: int

    def session(self, client_id: int) -> Session:
        return self.workload.session(client_id + self.offset)


@dataclass(frozen=True)
class Measured:
    nodes: int
    phase: str
    round: int
    puts_per_second: float
    per_node: tuple[float, ...]
    errors: int


@contextlib.contextmanager
def _nodes(url: str, count: int) -> Iterator[list[Endpoint]]:
    with contextlib.ExitStack() as stack:
        endpoints = []
        for n in range(count):
            command = lambda port, data_dir: serve_command(None, port, data_dir, storage_url=url)  # noqa: E731
            endpoints.append(stack.enter_context(local_server(command, f"node{n}")).endpoint)
        yield endpoints


def _load(
    endpoints: list[Endpoint], phase: str, round_: int, clients: int, warmup: float, duration: float
) -> Measured:
    table = f"{phase.replace('-', '')}{round_}"
    run_async(create_table(Client(endpoints[0]), table, stream=phase == "put"))
    space = KeySpace.of(phase, round_)
    per_node = max(1, clients // len(endpoints))
    results: list[LoadResult | BaseException] = [LoadResult(duration=duration)] * len(endpoints)

    def drive(n: int) -> None:
        workload = Offset(Put(RequestBuilder(endpoints[n]), table, space), n * per_node)
        try:
            results[n] = run_load(
                endpoints[n], workload, clients=per_node, procs=1, warmup=warmup, duration=duration
            )
        except BaseException as exc:
            results[n] = exc

    threads = [threading.Thread(target=drive, args=(n,)) for n in range(len(endpoints))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rates, errors = [], 0
    for result in results:
        if isinstance(result, BaseException):
            raise RuntimeError(f"a load generator failed: {result!r}") from result
        rates.append(result.rate)
        errors += result.failed_total
    return Measured(len(endpoints), phase, round_, sum(rates), tuple(rates), errors)


def run(
    node_counts: list[int],
    *,
    rounds: int,
    clients: int,
    warmup: float,
    duration: float,
    pg_settings: tuple[str, ...] = (),
) -> list[Measured]:
    """Every phase on every node count, interleaved round by round."""
    out: list[Measured] = []
    with postgres_cluster(pg_settings) as pg:
        print(describe(pg_settings))
        for round_ in range(rounds):
            for count in node_counts:
                with _nodes(pg.create_database(), count) as endpoints:
                    for phase in PHASES:
                        measured = _load(endpoints, phase, round_, clients, warmup, duration)
                        out.append(measured)
                        per_node = " + ".join(f"{rate:,.0f}" for rate in measured.per_node)
                        rate = measured.puts_per_second
                        print(
                            f"round {round_ + 1}  nodes {count}  {phase:<13} {rate:>8,.0f} PutItem/s"
                            f"  ({per_node})  errors {measured.errors}"
                        )
    return out


def summary(results: list[Measured]) -> str:
    """Median PutItem/s per (nodes, phase), and what the stream's counter costs at each node count."""
    lines = ["nodes  put (stream)  put-nostream  stream costs"]
    by: dict[tuple[int, str], list[float]] = {}
    for m in results:
        by.setdefault((m.nodes, m.phase), []).append(m.puts_per_second)
    for nodes in sorted({m.nodes for m in results}):
        streamed = _median(by.get((nodes, "put"), []))
        plain = _median(by.get((nodes, "put-nostream"), []))
        cost = f"{1 - streamed / plain:.0%}" if plain else "n/a"
        lines.append(f"{nodes:>5}  {streamed:>12,.0f}  {plain:>12,.0f}  {cost:>12}")
    return "\n".join(lines)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0

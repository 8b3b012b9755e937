"""Headwater's benchmark: `make bench`, or `.venv/bin/python bench/run.py --help`.

By default it starts a private `headwater serve` on a free loopback port with a fresh data dir; with
--endpoint it measures an already running DynamoDB-compatible server instead.  --peers starts comparison
servers (dynalite, DynamoDB Local) the same way and runs the same phases against each, interleaved:
round 1 put on every server, then get on every server, ..., then round 2.  Each timed phase runs
--clients keep-alive connections for --duration seconds after --warmup seconds.  Results: tables on
stdout and a JSON file in bench/results/.  Exit status 1 when a check fails or a phase errors, 2 when a
server cannot be installed or started.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from bench.loadgen import run_async
from bench.peers import PEERS, Peer, ensure_installed
from bench.phases import DEFAULT_PHASES, PHASES, Bench, PhaseResult, Settings, final_check, run_phase, run_tag
from bench.postgres import describe, postgres_cluster
from bench.report import render, to_json, write_json
from bench.server import Partner, Server, local_server, new_credentials, serve_command, wait_ready
from bench.summary import ServerRun
from bench.tables import delete_table
from bench.wire import Endpoint

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", help="use this running server (http://host:port) instead of starting one")
    ap.add_argument(
        "--server-cmd",
        help="start this server instead of headwater; {port} and {data_dir} are filled in",
    )
    ap.add_argument("--server-pid", type=int, help="pid of the --endpoint server, for RSS sampling")
    ap.add_argument(
        "--peers",
        default="",
        help=f"comma-separated comparison servers, installed on demand: {', '.join(PEERS)}",
    )
    ap.add_argument(
        "--storage",
        default="sqlite",
        help="comma-separated Headwater backends, each its own server, interleaved like peers (the first is "
        "the one ratios are taken of): sqlite (the default), postgres (a throwaway PostgreSQL cluster)",
    )
    ap.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the throwaway PostgreSQL cluster (repeatable), e.g. commit_delay=100",
    )
    ap.add_argument(
        "--nodes",
        default=None,
        help="comma-separated node counts, e.g. 1,2: instead of the phases, PutItem/s of that many Headwater "
        "nodes on one PostgreSQL database, with and without a stream (bench/multinode.py)",
    )
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds (default 1)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent connections (default 16)")
    ap.add_argument("--procs", type=int, default=1, help="generator processes (default 1)")
    ap.add_argument("--duration", type=float, default=15.0, help="measured seconds per phase (default 15)")
    ap.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds per phase (default 5)")
    ap.add_argument(
        "--phases",
        default=",".join(DEFAULT_PHASES),
        help=f"comma-separated, run in this order: {', '.join(PHASES)} (default: all but bigpartition)",
    )
    ap.add_argument("--drain-items", type=int, default=100_000, help="items written for stream-drain")
    ap.add_argument("--big-items", type=int, default=1_000_000, help="items loaded for bigpartition")
    ap.add_argument(
        "--replication-rate",
        type=float,
        default=1000.0,
        help="PutItems a second of the replication-lag phases (default 1000)",
    )
    ap.add_argument(
        "--auth",
        choices=("off", "sigv4", "both"),
        default="off",
        help="sigv4: Headwater verifies and authorizes every request (a credentials file is written for "
        "the run) and the load generator signs each request for real; both: a second Headwater with sigv4 "
        "beside the one with auth off, phases interleaved, the ratio column the cost (default off)",
    )
    ap.add_argument("--label", default="", help="free text stored in the JSON result")
    ap.add_argument("--no-json", action="store_true", help="do not write bench/results/<stamp>.json")
    args = ap.parse_args(argv)
    args.phase_list = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = [p for p in args.phase_list if p not in PHASES]
    if unknown:
        ap.error(f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(PHASES)}")
    if len(set(args.phase_list)) != len(args.phase_list):
        ap.error("a phase may appear once in --phases; use --rounds to repeat")
    args.peer_list = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in args.peer_list if p not in PEERS]
    if unknown or len(set(args.peer_list)) != len(args.peer_list):
        ap.error(f"--peers: choose each of {', '.join(PEERS)} at most once")
    args.storage_list = [s.strip() for s in args.storage.split(",") if s.strip()]
    if not args.storage_list or any(s not in STORAGES for s in args.storage_list):
        ap.error(f"--storage: a comma-separated list of {', '.join(STORAGES)}")
    if len(set(args.storage_list)) != len(args.storage_list):
        ap.error("--storage: name each backend once")
    if (args.endpoint is not None or args.server_cmd is not None) and args.storage_list != ["sqlite"]:
        ap.error("--storage chooses the backends of servers the bench starts, not --endpoint/--server-cmd")
    if args.clients < 1 or args.procs < 1 or args.duration <= 0 or args.warmup < 0 or args.rounds < 1:
        ap.error("--clients, --procs and --rounds must be >= 1, --duration > 0 and --warmup >= 0")
    if args.replication_rate <= 0:
        ap.error("--replication-rate must be > 0")
    return args


STORAGES = ("sqlite", "postgres")


@contextlib.contextmanager
def targets(args: argparse.Namespace) -> Iterator[list[tuple[str, Server, str, Partner | None]]]:
    """The servers under test: (name, server, what it is, the partner it knows of), one per --storage."""
    if args.endpoint is not None:
        endpoint = Endpoint.parse(args.endpoint)
        wait_ready(endpoint, None, 5.0)
        yield [("target", Server(endpoint, args.server_pid, None), f"the server at {endpoint.url}", None)]
        return
    credentials = new_credentials() if args.auth == "sigv4" and args.server_cmd is None else None
    signed = ", --auth sigv4 (signed requests)" if credentials is not None else ""
    if args.server_cmd is not None:
        with local_server(lambda port, data_dir: serve_command(args.server_cmd, port, data_dir)) as server:
            yield [("target", server, f"{args.server_cmd}, pid {server.pid}", None)]
        return
    with contextlib.ExitStack() as stack:
        started: list[tuple[str, Server, str, Partner | None]] = []
        for storage in args.storage_list:
            partner = Partner.reserve()
            known = ((partner.region, partner.url),)
            if storage == "postgres":
                cluster = stack.enter_context(postgres_cluster(args.pg_setting))
                command = functools.partial(
                    serve_command,
                    None,
                    credentials=credentials,
                    storage_url=cluster.create_database(),
                    region_endpoints=known,
                )
                server = stack.enter_context(local_server(command, "headwater-pg", credentials))
                about = (
                    f"headwater serve --storage-url ({describe(args.pg_setting)}){signed}, pid {server.pid}"
                )
                started.append(("headwater-pg", server, about, partner))
            else:
                command = functools.partial(
                    serve_command, None, credentials=credentials, region_endpoints=known
                )
                server = stack.enter_context(local_server(command, "headwater", credentials))
                about = f"headwater serve, SQLite, --sync FULL{signed}, pid {server.pid}"
                started.append(("headwater", server, about, partner))
        yield started


def _signed_headwater(stack: contextlib.ExitStack, settings: Settings, tag: str) -> tuple[ServerRun, Bench]:
    """A second Headwater, with `--auth sigv4`, measured like a peer (`--auth both`)."""
    credentials = new_credentials()
    partner = Partner.reserve()

    def command(port: int, data_dir: Path) -> list[str]:
        return serve_command(
            None, port, data_dir, credentials, region_endpoints=((partner.region, partner.url),)
        )

    started = stack.enter_context(local_server(command, "headwater-sigv4", credentials))
    about = f"headwater serve, SQLite, --sync FULL, --auth sigv4 (signed requests), pid {started.pid}"
    return ServerRun("headwater-sigv4", about, peer=False), Bench(
        started.endpoint, settings, started.pid, tag, partner=partner
    )


def run_rounds(benches: list[tuple[ServerRun, Bench]], args: argparse.Namespace, log: Console) -> None:
    """Every phase on every server in turn, round after round."""
    for number in range(1, args.rounds + 1):
        for run, bench in benches:
            bench.begin_round(number)
            run.rounds.append({})
        for name in args.phase_list:
            for run, bench in benches:
                log.print(f"[cyan]round {number}/{args.rounds} {name}[/] on {run.name} …")
                result = run_phase(bench, name)
                run.rounds[-1][name] = result
                log.print(f"  {_line(result)}")


def _line(r: PhaseResult) -> str:
    rate = f"{r.rate or 0:,.0f} {r.unit}" if r.status == "ok" else ""
    changed = "" if r.writes is None else f"; {r.changed:,} of {r.writes:,} writes changed an item"
    mark = "" if r.passed else " [bold red]CHECK FAILED[/]"
    return f"{r.status} {rate}{changed}{mark} {r.note}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.nodes is not None:
        from bench import multinode

        counts = [int(n) for n in args.nodes.split(",") if n]
        results = multinode.run(
            counts,
            rounds=args.rounds,
            clients=args.clients,
            warmup=args.warmup,
            duration=args.duration,
            pg_settings=tuple(args.pg_setting),
        )
        print(multinode.summary(results))
        return 0
    log = Console(stderr=True)
    out = Console() if sys.stdout.isatty() else Console(width=200)  # logs and pipes: no 80-column wrap
    stamp = time.strftime("%Y%m%d-%H%M%S")
    settings = Settings(
        args.clients,
        args.procs,
        args.warmup,
        args.duration,
        args.drain_items,
        args.big_items,
        args.replication_rate,
    )
    peers: list[Peer] = [PEERS[name] for name in args.peer_list]
    tag = run_tag()
    runs: list[ServerRun] = []
    try:
        for peer in peers:
            log.print(f"peer {peer.name}: {peer.package}@{peer.version} in {peer.install_dir}")
            ensure_installed(peer)
        with contextlib.ExitStack() as stack:
            benches = [
                (
                    ServerRun(name, about, peer=False),
                    Bench(server.endpoint, settings, server.pid, tag, partner=partner),
                )
                for name, server, about, partner in stack.enter_context(targets(args))
            ]
            if args.auth == "both" and args.endpoint is None and args.server_cmd is None:
                benches.append(_signed_headwater(stack, settings, tag))
            for peer in peers:
                started = stack.enter_context(local_server(peer.command, peer.name))
                bench = Bench(started.endpoint, settings, started.pid, tag, peer=True)
                benches.append((ServerRun(peer.name, f"{peer.about}, pid {started.pid}", peer=True), bench))
            for run, bench in benches:
                log.print(f"[bold]{run.name}[/] at {bench.endpoint.url}: {run.about}")
            try:
                run_rounds(benches, args, log)
                for run, bench in benches:
                    run.final = final_check(bench)
            finally:
                if args.endpoint is not None:  # a server we started is removed with its data dir
                    _, target_bench = benches[0]
                    for table in target_bench.tables:
                        run_async(delete_table(target_bench.endpoint, table))
            runs = [run for run, _ in benches]
    except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as exc:
        log.print(f"[bold red]benchmark aborted:[/] {exc}")
        return 2
    header = (
        f"{args.clients} clients x {args.procs} procs, {args.warmup:g} s warm-up + {args.duration:g} s "
        f"per phase, {args.rounds} round(s)" + (" interleaved" if len(runs) > 1 else "")
    )
    render(runs, args.phase_list, header, out)
    meta = {
        "started": stamp,
        "label": args.label,
        "settings": {
            **dataclasses.asdict(settings),
            "phases": args.phase_list,
            "rounds": args.rounds,
            "peers": args.peer_list,
            "storage": args.storage_list,
            "pg_settings": args.pg_setting,
            "auth": args.auth,
        },
    }
    doc = to_json(runs, args.phase_list, meta)
    if not args.no_json:
        log.print(f"results written to {write_json(doc, RESULTS, stamp)}")
    broken = any(r.status == "error" for run in runs for results in run.rounds for r in results.values())
    return 0 if doc["all_checks_passed"] and not broken else 1


if __name__ == "__main__":
    sys.exit(main())

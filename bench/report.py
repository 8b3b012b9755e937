"""Presenting a run: rich tables on the terminal and a JSON file under bench/results/."""

from __future__ import annotations

import dataclasses
import platform
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from bench.phases import PhaseResult
from bench.summary import PhaseSummary, ServerRun, Spread, ratio, stream_overhead, summarize


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _rate(s: PhaseSummary) -> str:
    if s.status == "error":
        return "[red]error[/]"
    if s.rate is None:
        return "[yellow]n/a[/]"
    digits = 1 if s.rate.mean < 100 else 0
    plus = f" ±{s.rate.half_range_percent:.1f}%" if s.rate.n > 1 else ""
    return _num(s.rate.mean, digits) + plus


def _ratio(s: Spread | None) -> str:
    if s is None:
        return "-"
    return f"{s.mean:.2f}x" + (f" ±{s.half_range_percent:.0f}%" if s.n > 1 else "")


def _points(s: Spread | None) -> str:
    """A percentage whose spread is in percentage points: "12.3% ±4.1pt"."""
    if s is None:
        return "-"
    return f"{s.mean:.1f}%" + (f" ±{(s.high - s.low) / 2:.1f}pt" if s.n > 1 else "")


def _changed(s: PhaseSummary) -> str:
    if s.writes is None:
        return "-"
    mark = "[green]✓[/]" if s.passed else "[bold red]✗[/]"
    return f"{_num(s.changed)} of {_num(s.writes)} {mark}"


def render(runs: list[ServerRun], phases: list[str], header: str, console: Console) -> None:
    main, peers = runs[0], runs[1:]
    sums = {run.name: {p: summarize(run.of(p)) for p in phases} for run in runs}
    console.print(f"[bold]Headwater benchmark[/] — {header}")
    for run in runs:
        console.print(f" [bold]{run.name}[/]: {run.about}")

    console.print("[bold]Throughput[/]: mean ± half the range over rounds")
    table = Table()
    table.add_column("phase", style="bold", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    for run in runs:
        table.add_column(run.name, justify="right")
    for peer in peers:
        table.add_column(f"{main.name}/{peer.name}", justify="right")
    for p in phases:
        unit = next((sums[run.name][p].unit for run in runs if sums[run.name][p].unit), "")
        cells = [_rate(sums[run.name][p]) for run in runs]
        ratios = [_ratio(ratio(main.of(p), peer.of(p))) for peer in peers]
        table.add_row(p, unit, *cells, *ratios)
    if "put" in phases and "put-nostream" in phases:
        cells = [_points(stream_overhead(run)) for run in runs]
        table.add_row("stream overhead", "% of put", *cells, *["" for _ in peers])
    console.print(table)

    console.print("[bold]Latency[/], ms: p50 / p99 / p99.9, mean over rounds")
    latency = Table()
    latency.add_column("phase", style="bold", no_wrap=True)
    for run in runs:
        latency.add_column(run.name, justify="right")
    for p in phases:
        cells = []
        for run in runs:
            s = sums[run.name][p]
            figures = (s.p50_ms, s.p99_ms, s.p999_ms)
            cells.append(" / ".join(_num(f.mean if f else None, 2) for f in figures) if s.p50_ms else "-")
        if any(c != "-" for c in cells):
            latency.add_row(p, *cells)
    console.print(latency)

    _cpu_table(runs, phases, console)

    console.print("[bold]Writes that changed an item[/], all rounds (bench/README.md: how they are counted)")
    changed = Table()
    changed.add_column("phase", style="bold", no_wrap=True)
    for run in runs:
        changed.add_column(run.name, justify="right")
    for p in phases:
        cells = [_changed(sums[run.name][p]) for run in runs]
        if any(c != "-" for c in cells):
            changed.add_row(p, *cells)
    console.print(changed)

    for run in runs:
        for p in phases:
            s = sums[run.name][p]
            if s.errors and s.status != "n/a":
                errors = ", ".join(f"{kind} x{n}" for kind, n in s.errors.most_common())
                console.print(f" [red]{run.name} {p} errors:[/] {errors}")
            last = next((r for r in reversed(run.of(p)) if r.note), None)
            if last is not None:
                console.print(f" [bold]{run.name} {p}[/]: {last.note}")
    failed = [(run.name, label, c) for run in runs for label, c in run.checks() if not c.passed]
    total = sum(len(run.checks()) for run in runs)
    for name, label, c in failed:
        console.print(f" [bold red]✗ {name} {label}[/] — {c.detail}")
    if failed:
        console.print(f"[bold red]FAILED: {len(failed)} of {total} checks — see above[/]")
    else:
        console.print(f"[green]✓ all {total} checks passed[/]")


def _mean_metric(results: list[PhaseResult], name: str) -> float | None:
    got = [float(r.metrics[name]) for r in results if r.metrics.get(name) is not None]
    return sum(got) / len(got) if got else None


def _cpu_table(runs: list[ServerRun], phases: list[str], console: Console) -> None:
    """CPU per request of each server's process tree and of the generator, with the cores each kept
    busy: on a shared machine a side near its cores' limit is the ceiling of the figure above."""
    console.print("[bold]CPU per request[/], us (cores busy), mean over rounds: server / generator")
    table = Table()
    table.add_column("phase", style="bold", no_wrap=True)
    for run in runs:
        table.add_column(run.name, justify="right")
    for p in phases:
        cells = []
        for run in runs:
            results = run.of(p)
            server = _mean_metric(results, "server_cpu_us_per_request")
            cores = _mean_metric(results, "server_cores")
            generator = _mean_metric(results, "generator_cpu_us_per_request")
            gen_cores = _mean_metric(results, "generator_cores")
            if server is None or cores is None or generator is None or gen_cores is None:
                cells.append("-")
                continue
            cells.append(f"{server:,.0f} ({cores:.2f}) / {generator:,.0f} ({gen_cores:.2f})")
        if any(c != "-" for c in cells):
            table.add_row(p, *cells)
    console.print(table)


def _result_json(r: PhaseResult) -> dict[str, Any]:
    doc = dataclasses.asdict(r)
    doc["errors"] = dict(r.errors)
    doc["passed"] = r.passed
    del doc["name"]
    return doc


def to_json(runs: list[ServerRun], phases: list[str], meta: dict[str, Any]) -> dict[str, Any]:
    main = runs[0]
    servers = {}
    for run in runs:
        ratios = {}
        if run is not main:
            for p in phases:
                r = ratio(main.of(p), run.of(p))
                ratios[p] = None if r is None else r.to_json()
        overhead = stream_overhead(run)
        servers[run.name] = {
            "about": run.about,
            "summary": {p: summarize(run.of(p)).to_json() for p in phases},
            f"{main.name}_ratio": ratios or None,
            "stream_overhead_percent": None if overhead is None else overhead.to_json(),
            "rounds": [{p: _result_json(r) for p, r in results.items()} for results in run.rounds],
            "final_checks": [dataclasses.asdict(c) for c in run.final],
            "passed": run.passed,
        }
    return {
        **meta,
        "generator": {"python": platform.python_version(), "machine": platform.machine()},
        "servers": servers,
        "all_checks_passed": all(run.passed for run in runs),
    }


def write_json(doc: dict[str, Any], directory: Path, stamp: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stamp}.json"
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
    return path

"""Presenting a run: a rich table on the terminal and a JSON file under bench/results/."""

from __future__ import annotations

import dataclasses
import platform
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from bench.phases import Check, PhaseResult


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _status(result: PhaseResult) -> str:
    if result.status != "ok":
        return "[yellow]n/a[/]" if result.status == "n/a" else "[red]error[/]"
    if not result.checks:
        return "[green]ok[/]"
    return "[green]pass[/]" if result.passed else "[bold red]FAIL[/]"


def render(results: list[PhaseResult], final: list[Check], header: str, console: Console) -> None:
    table = Table(title=f"Headwater benchmark — {header}", title_justify="left")
    table.add_column("phase", style="bold", no_wrap=True)
    table.add_column("throughput", justify="right")
    table.add_column("unit", no_wrap=True)
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("ok", justify="right")
    table.add_column("errors (by __type)")
    table.add_column("checks")
    for r in results:
        errors = ", ".join(f"{kind} x{n}" for kind, n in r.errors.most_common()) or "0"
        table.add_row(
            r.name,
            _num(r.rate) if r.status == "ok" else "n/a",
            r.unit,
            _num(r.p50_ms, 2),
            _num(r.p99_ms, 2),
            _num(r.ok),
            f"[red]{errors}[/]" if r.errors else errors,
            _status(r),
        )
    console.print(table)
    for r in results:
        if r.note:
            console.print(f" [bold]{r.name}[/]: {r.note}")
    for r in results:
        for c in r.checks:
            _print_check(console, f"{r.name}: {c.name}", c)
    for c in final:
        _print_check(console, f"final: {c.name}", c)


def _print_check(console: Console, label: str, check: Check) -> None:
    mark = "[green]✓[/]" if check.passed else "[bold red]✗[/]"
    console.print(f" {mark} {label} — {check.detail}")


def to_json(results: list[PhaseResult], final: list[Check], meta: dict[str, Any]) -> dict[str, Any]:
    phases = {}
    for r in results:
        doc = dataclasses.asdict(r)
        doc["errors"] = dict(r.errors)
        doc["passed"] = r.passed
        del doc["name"]
        phases[r.name] = doc
    return {
        **meta,
        "generator": {"python": platform.python_version(), "machine": platform.machine()},
        "phases": phases,
        "final_checks": [dataclasses.asdict(c) for c in final],
        "all_checks_passed": all(r.passed for r in results) and all(c.passed for c in final),
    }


def write_json(doc: dict[str, Any], directory: Path, stamp: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stamp}.json"
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
    return path

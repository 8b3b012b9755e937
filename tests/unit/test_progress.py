"""Long jobs' progress counts (core/progress.py) and the commands' bars (commands/progress.py)."""

from __future__ import annotations

import io

from rich.console import Console

from headwater.commands.progress import progress_bar, stage_bars
from headwater.core.progress import FINISHED_KEPT, Jobs, counted


def test_a_finished_job_stays_until_later_ones_push_it_out() -> None:
    jobs: Jobs[str] = Jobs()
    first = jobs.start("first", 3)
    for _ in counted(range(3), first):
        pass
    jobs.finish("first")
    assert jobs.counts["first"].done == 3 and jobs.counts["first"].total == 3
    for n in range(FINISHED_KEPT):
        jobs.start(f"later{n}", None)
        jobs.finish(f"later{n}")
    assert "first" not in jobs.counts and len(jobs.counts) == FINISHED_KEPT


def test_a_running_job_is_never_pushed_out_and_a_restart_counts_from_zero() -> None:
    jobs: Jobs[str] = Jobs()
    running = jobs.start("running", None)
    running.done = 5
    for n in range(FINISHED_KEPT + 5):
        jobs.start(f"done{n}", 1)
        jobs.finish(f"done{n}")
    assert jobs.counts["running"].done == 5
    jobs.finish("running")
    assert jobs.start("running", 2).done == 0


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100, color_system=None), out


def test_a_bar_whose_work_outgrew_its_estimate_shows_the_work() -> None:
    console, out = terminal()
    with progress_bar("backfilling", console=console) as bar:
        bar.show("backfilling ix (CREATING)", 5, 10)
        bar.show("backfilling ix (ACTIVE)", 12, 10)  # items written while it ran
    assert "backfilling ix (ACTIVE)" in out.getvalue() and "12/12" in out.getvalue()


def test_stage_bars_fill_each_finished_stage() -> None:
    console, out = terminal()
    with stage_bars(console) as stages:
        stages.stage("copying", 4096)
        stages.advance(1024)
        stages.stage("writing", 2048)
        stages.advance(2048)
    shown = out.getvalue()
    assert "copying" in shown and "4.1/4.1 kB" in shown and "2.0/2.0 kB" in shown

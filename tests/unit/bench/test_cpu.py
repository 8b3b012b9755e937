"""bench.cpu: a process tree's CPU time, read from /proc."""

from __future__ import annotations

import subprocess
import sys

import pytest
from bench import cpu

# burns 0.3 s of its own CPU, says so, then waits to be killed (so its time is still counted)
BURNER = (
    "import time, sys\nwhile time.process_time() < 0.3: pass\nprint('burnt', flush=True)\ntime.sleep(60)\n"
)


@pytest.mark.timeout(60)
def test_a_tree_counts_its_childrens_cpu() -> None:
    # a parent that does nothing but start the burner: the tree's time is the child's
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BURNER!r}])"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline().strip() == "burnt"
        assert len(cpu.children(parent.pid)) == 1
        assert cpu.tree_seconds(parent.pid) >= 0.3 - 2 / cpu.TICKS  # counted in clock ticks
    finally:
        subprocess.run(["pkill", "-P", str(parent.pid)], check=False)
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_a_process_that_is_gone_counts_nothing() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert cpu.tree_seconds(gone.pid) == 0.0

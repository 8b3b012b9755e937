"""Entry point of `make bench` (`python bench/run.py --help`); the program is bench/cli.py."""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, sys.path[0] is bench/ itself: import the benchmark as the `bench` package instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    from bench.cli import main

    sys.exit(main())

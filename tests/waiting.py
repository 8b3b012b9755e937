"""Waiting on state instead of sleeping: poll until a check holds, with a deadline that only a failing
test (or a badly overloaded machine) ever reaches. Never sleep and then assert."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEADLINE = 30.0  # seconds; generous because it costs nothing when the test passes


def wait_until(
    check: Callable[[], T | None], timeout: float = DEADLINE, what: str = "", interval: float = 0.02
) -> T:
    """Call `check` until it returns something truthy and return that; AssertionError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what or repr(check), value)
        time.sleep(interval)


async def wait_until_async(
    check: Callable[[], T | None], timeout: float = DEADLINE, what: str = "", interval: float = 0.002
) -> T:
    """`wait_until` inside an event loop: the code under test runs while this waits."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what or repr(check), value)
        await asyncio.sleep(interval)


def _timed_out(timeout: float, what: str, value: object) -> AssertionError:
    return AssertionError(f"timed out after {timeout:g} s waiting for {what}; last value {value!r}")

"""Concurrency as Lambda documents it: an account limit on simultaneous invocations, reserved
concurrency per function (PutFunctionConcurrency), and the unreserved pool every other function shares,
which must keep at least 100.

An invocation holds a `Lease` while it runs. A synchronous Invoke that finds no room is throttled at once
(TooManyRequestsException); asynchronous invocations and event source mappings wait for room instead,
as Lambda's internal queue and pollers do, so nothing they carry is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..config import DEFAULT_CONCURRENCY_LIMIT
from .errors import InvalidParameterValueException, TooManyRequestsException

MIN_UNRESERVED: Final = 100
RESERVED_EXCEEDED: Final = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_EXCEEDED: Final = "ConcurrentInvocationLimitExceeded"


@dataclass(frozen=True, slots=True)
class Lease:
    """One running invocation, charged to its function's reservation or to the unreserved pool."""

    function_name: str
    reserved: bool


def throttled(reason: str) -> TooManyRequestsException:
    return TooManyRequestsException("Rate Exceeded.", reason=reason)


class Concurrency:
    def __init__(self, account_limit: int = DEFAULT_CONCURRENCY_LIMIT) -> None:
        self.account_limit = account_limit
        self._reserved: dict[str, int] = {}
        self._running: dict[str, int] = {}
        self._unreserved_running = 0
        self._changed = asyncio.Event()

    # reservations -------------------------------------------------------------------------------

    def reserved(self, function_name: str) -> int | None:
        return self._reserved.get(function_name)

    @property
    def unreserved(self) -> int:
        """UnreservedConcurrentExecutions: what functions without a reservation share."""
        return max(0, self.account_limit - sum(self._reserved.values()))

    def check_reservation(self, function_name: str, value: int) -> None:
        """PutFunctionConcurrency's rule: the unreserved pool keeps at least 100."""
        others = sum(v for name, v in self._reserved.items() if name != function_name)
        if self.account_limit - others - value < MIN_UNRESERVED:
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            )

    def set_reservation(self, function_name: str, value: int | None) -> None:
        """Applied as is (a server restarted with a lower limit keeps the reservations it stored)."""
        if value is None:
            self._reserved.pop(function_name, None)
        else:
            self._reserved[function_name] = value
        self._wake()

    def forget(self, function_name: str) -> None:
        """The function is gone: its reservation returns to the pool, its waiters stop waiting."""
        self.set_reservation(function_name, None)

    # invocations --------------------------------------------------------------------------------

    def running(self, function_name: str) -> int:
        return self._running.get(function_name, 0)

    def _reason(self, function_name: str) -> str | None:
        """Why one more invocation of the function would be throttled now, or None."""
        limit = self._reserved.get(function_name)
        if limit is not None:
            return RESERVED_EXCEEDED if self.running(function_name) >= limit else None
        return ACCOUNT_EXCEEDED if self._unreserved_running >= self.unreserved else None

    def _charge(self, function_name: str) -> Lease:
        self._running[function_name] = self.running(function_name) + 1
        reserved = function_name in self._reserved
        if not reserved:
            self._unreserved_running += 1
        return Lease(function_name, reserved)

    def try_enter(self, function_name: str) -> Lease:
        """A synchronous invocation: a Lease, or TooManyRequestsException with Lambda's reason."""
        reason = self._reason(function_name)
        if reason is not None:
            raise throttled(reason)
        return self._charge(function_name)

    async def enter(
        self, function_name: str, wanted: Callable[[], bool], patience: float | None = None
    ) -> Lease | None:
        """Wait for room, `patience` seconds at most (None: as long as it takes); None when there was
        none, or once `wanted()` says the invocation is no longer wanted (its function was deleted)."""
        deadline = None if patience is None else time.monotonic() + patience
        while wanted():
            if self._reason(function_name) is None:
                return self._charge(function_name)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return None

    def leave(self, lease: Lease) -> None:
        left = self.running(lease.function_name) - 1
        if left > 0:
            self._running[lease.function_name] = left
        else:
            self._running.pop(lease.function_name, None)
        if not lease.reserved:
            self._unreserved_running -= 1
        self._wake()

    def _wake(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

"""Reserved and unreserved concurrency as Lambda documents it: the 100 unreserved executions rule,
throttling reasons, and waiting callers woken when room appears."""

from __future__ import annotations

import asyncio

import pytest

from headwater.triggers.concurrency import (
    ACCOUNT_EXCEEDED,
    RESERVED_EXCEEDED,
    Concurrency,
)
from headwater.triggers.errors import InvalidParameterValueException, TooManyRequestsException

RULE = (
    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
    "below its minimum value of [100]."
)


def throttle_reason(concurrency: Concurrency, name: str) -> str:
    with pytest.raises(TooManyRequestsException) as err:
        concurrency.try_enter(name)
    assert err.value.status == 429
    assert err.value.to_wire() == {"Type": "User", "message": "Rate Exceeded.", "Reason": err.value.reason}
    return err.value.reason


def test_reservations_leave_at_least_100_unreserved() -> None:
    concurrency = Concurrency(1000)
    concurrency.check_reservation("a", 900)
    concurrency.set_reservation("a", 900)
    assert concurrency.unreserved == 100
    with pytest.raises(InvalidParameterValueException) as err:
        concurrency.check_reservation("b", 1)
    assert err.value.message == RULE
    concurrency.check_reservation("a", 899)  # the function's own reservation is replaced, not added
    concurrency.check_reservation("b", 0)  # 0 takes nothing
    with pytest.raises(InvalidParameterValueException):
        concurrency.check_reservation("a", 901)
    concurrency.forget("a")
    assert concurrency.unreserved == 1000


def test_an_account_under_100_can_reserve_nothing() -> None:
    concurrency = Concurrency(50)
    assert concurrency.unreserved == 50
    with pytest.raises(InvalidParameterValueException):
        concurrency.check_reservation("a", 0)


def test_reserved_functions_are_throttled_at_their_reservation() -> None:
    concurrency = Concurrency(1000)
    concurrency.set_reservation("zero", 0)
    assert throttle_reason(concurrency, "zero") == RESERVED_EXCEEDED
    concurrency.set_reservation("two", 2)
    first = concurrency.try_enter("two")
    concurrency.try_enter("two")
    assert throttle_reason(concurrency, "two") == RESERVED_EXCEEDED
    concurrency.leave(first)
    concurrency.try_enter("two")
    assert concurrency.running("two") == 2


def test_unreserved_functions_share_what_is_left() -> None:
    concurrency = Concurrency(102)
    concurrency.set_reservation("reserved", 100)  # left: 2, shared by every other function
    held = [concurrency.try_enter("a"), concurrency.try_enter("b")]
    assert throttle_reason(concurrency, "c") == ACCOUNT_EXCEEDED
    concurrency.try_enter("reserved")  # its own reservation is untouched by the others
    concurrency.leave(held[0])
    concurrency.try_enter("c")


def test_a_reservation_made_while_invocations_run_keeps_the_counts_right() -> None:
    concurrency = Concurrency(200)
    unreserved = concurrency.try_enter("f")  # charged to the unreserved pool
    concurrency.set_reservation("f", 1)
    assert throttle_reason(concurrency, "f") == RESERVED_EXCEEDED  # the running one counts
    concurrency.leave(unreserved)
    reserved = concurrency.try_enter("f")
    concurrency.set_reservation("f", None)
    concurrency.leave(reserved)
    assert concurrency.running("f") == 0
    # the unreserved pool is whole again: 200 invocations of another function fit, the 201st does not
    for _ in range(200):
        concurrency.try_enter("g")
    assert throttle_reason(concurrency, "g") == ACCOUNT_EXCEEDED


def test_waiting_callers_get_in_when_room_appears() -> None:
    async def scenario() -> None:
        concurrency = Concurrency(1000)
        concurrency.set_reservation("f", 0)
        entered = asyncio.ensure_future(concurrency.enter("f", lambda: True))
        await asyncio.sleep(0)
        assert not entered.done()
        concurrency.set_reservation("f", 1)
        lease = await entered
        assert lease is not None and lease.reserved and concurrency.running("f") == 1
        second = asyncio.ensure_future(concurrency.enter("f", lambda: True))
        await asyncio.sleep(0)
        assert not second.done()
        concurrency.leave(lease)
        assert await second is not None

    asyncio.run(scenario())


def test_waiting_ends_when_the_function_goes_or_patience_runs_out() -> None:
    async def scenario() -> None:
        concurrency = Concurrency(1000)
        concurrency.set_reservation("f", 0)
        exists = True
        entered = asyncio.ensure_future(concurrency.enter("f", lambda: exists))
        await asyncio.sleep(0)
        exists = False
        concurrency.forget("f")  # deleting the function wakes its waiters
        assert await entered is None
        concurrency.set_reservation("g", 0)
        assert await concurrency.enter("g", lambda: True, patience=0.01) is None
        waiter = asyncio.ensure_future(concurrency.enter("g", lambda: True, patience=30.0))
        await asyncio.sleep(0)
        assert not waiter.done()
        concurrency.set_reservation("g", 1)
        assert await waiter is not None

    asyncio.run(scenario())

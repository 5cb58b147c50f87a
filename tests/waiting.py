"""Wait until a condition holds: the one poll-until helper of the tests, sync and async.

Tests wait on what they can observe (a fake's log, a row, an event), never for a fixed time:
`wait_until(lambda: tg.messages(CHANNEL))` returns the first truthy value `check` gives, or
fails with an AssertionError naming what it waited for once `timeout` seconds have passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT = 15.0  # generous: a loaded CI machine is slow, and a passing wait returns at once
STEP = 0.01


def _timed_out(what: str | None, check: Callable[[], object], timeout: float) -> AssertionError:
    name = what or getattr(check, "__name__", repr(check))
    return AssertionError(f"still waiting after {timeout:g} s for {name}")


def wait_until(check: Callable[[], T], timeout: float = TIMEOUT, *, what: str | None = None) -> T:
    """Call `check` every few milliseconds (blocking) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(what, check, timeout)
        time.sleep(STEP)


async def wait_until_async(
    check: Callable[[], T],
    timeout: float = TIMEOUT,  # noqa: ASYNC109 (the call shape of wait_until)
    *,
    what: str | None = None,
) -> T:
    """`wait_until` for a test on the event loop: the loop keeps running between checks."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(what, check, timeout)
        await asyncio.sleep(STEP)

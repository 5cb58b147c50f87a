"""Wait until a condition holds: the one poll-until helper of the tests, sync and async.

Tests wait on what they can observe (a fake's log, a row, an event), never for a fixed time:
`wait_until(lambda: tg.messages(CHANNEL))` returns the first truthy value `check` gives, or
fails with an AssertionError naming what it waited for once `timeout` seconds have passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

TIMEOUT = 15.0  # generous: a loaded CI machine is slow, and a passing wait returns at once
STEP = 0.01


class _Poll(Generic[T]):
    """One wait: `done()` checks once, keeps a truthy value, fails once the time is up."""

    def __init__(self, check: Callable[[], T], timeout: float, what: str | None) -> None:
        self.check = check
        self.timeout = timeout
        self.what = what or getattr(check, "__name__", repr(check))
        self.deadline = time.monotonic() + timeout
        self.value: T

    def done(self) -> bool:
        value = self.check()
        if value:
            self.value = value
            return True
        if time.monotonic() >= self.deadline:
            raise AssertionError(f"still waiting after {self.timeout:g} s for {self.what}")
        return False


def wait_until(check: Callable[[], T], timeout: float = TIMEOUT, *, what: str | None = None) -> T:
    """Call `check` every few milliseconds (blocking) until it returns a truthy value."""
    poll = _Poll(check, timeout, what)
    while not poll.done():
        time.sleep(STEP)
    return poll.value


async def wait_until_async(
    check: Callable[[], T],
    timeout: float = TIMEOUT,  # noqa: ASYNC109 (the call shape of wait_until)
    *,
    what: str | None = None,
) -> T:
    """`wait_until` for a test on the event loop: the loop keeps running between checks."""
    poll = _Poll(check, timeout, what)
    while not poll.done():  # noqa: ASYNC110 (what it watches, a fake's log, has no event)
        await asyncio.sleep(STEP)
    return poll.value

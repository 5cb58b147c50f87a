"""When to poll a feed next: its interval, shortened by jitter; backoff after errors."""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["JITTER", "MAX_BACKOFF", "next_poll", "poll_delay", "waiting_until"]

MAX_BACKOFF = timedelta(hours=6)
JITTER = 0.10


def poll_delay(
    every: timedelta,
    consecutive_errors: int,
    rand: float,
    *,
    retry_after: timedelta | None = None,
    cap: timedelta = MAX_BACKOFF,
) -> timedelta:
    """How long to wait before the next poll.

    Without errors: `every`. After N consecutive errors: `every * 2**N`, capped at
    `max(every, cap)` so that a feed polled daily is never polled more often because it fails.
    A server's Retry-After is honoured up to the same ceiling. Then a jitter of up to 10 %,
    from `rand` in [0, 1) (injected, so tests choose it), spreads the polls of many feeds. The
    jitter only ever shortens the delay: a feed polled every minute is polled again within a
    minute of its last poll, so an article waits at most its interval plus the processing
    (the jitter never shortens a server's Retry-After, though).
    """
    if every <= timedelta(0):
        raise ValueError("the poll interval must be positive")
    if not 0.0 <= rand < 1.0:
        raise ValueError("rand must be in [0, 1)")
    ceiling = max(every, cap)
    delay = every if consecutive_errors <= 0 else every * 2 ** min(consecutive_errors, 32)
    if retry_after is not None:
        delay = max(delay, retry_after)
    delay = min(delay, ceiling)
    jittered = delay * (1.0 - JITTER * rand)
    if retry_after is not None:
        return max(jittered, min(retry_after, ceiling))
    return jittered


def waiting_until(
    consecutive_errors: int, next_poll_at: datetime | None, now: datetime
) -> datetime | None:
    """When a feed that is backing off after failures (or that a server told to wait with
    Retry-After) may be polled again; None when it may be polled now. A healthy feed is never
    waiting: `run --once` polls it at every run, whatever its `every`."""
    if consecutive_errors > 0 and next_poll_at is not None and next_poll_at > now:
        return next_poll_at
    return None


def next_poll(
    now: datetime,
    every: timedelta,
    consecutive_errors: int,
    rand: float,
    *,
    retry_after: timedelta | None = None,
    cap: timedelta = MAX_BACKOFF,
) -> datetime:
    """The time of the next poll; see `poll_delay`."""
    return now + poll_delay(every, consecutive_errors, rand, retry_after=retry_after, cap=cap)

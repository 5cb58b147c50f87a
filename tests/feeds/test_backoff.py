"""Poll scheduling: jitter around the interval, exponential backoff after errors, a ceiling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.feeds.backoff import next_poll, poll_delay, waiting_until

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FIVE_MIN = timedelta(minutes=5)


@pytest.mark.parametrize(
    ("every", "errors", "rand", "expected"),
    [
        (FIVE_MIN, 0, 0.0, FIVE_MIN),  # the jitter only ever shortens the interval
        (FIVE_MIN, 0, 0.5, timedelta(minutes=4.75)),
        (FIVE_MIN, 0, 0.999999, timedelta(minutes=4.5)),
        (FIVE_MIN, 1, 0.0, timedelta(minutes=10)),
        (FIVE_MIN, 2, 0.0, timedelta(minutes=20)),
        (FIVE_MIN, 6, 0.0, timedelta(minutes=320)),
        (FIVE_MIN, 7, 0.0, timedelta(hours=6)),  # 640 min capped at 6 h
        (FIVE_MIN, 7, 0.99999999, timedelta(hours=6) * 0.9),  # jitter still applies at the cap
        (FIVE_MIN, 10_000, 0.0, timedelta(hours=6)),  # no overflow
        (FIVE_MIN, -3, 0.0, FIVE_MIN),
        (timedelta(days=1), 0, 0.0, timedelta(days=1)),
        (timedelta(days=1), 3, 0.0, timedelta(days=1)),  # the ceiling never shortens `every`
    ],
)
def test_poll_delay(every: timedelta, errors: int, rand: float, expected: timedelta) -> None:
    assert abs(poll_delay(every, errors, rand) - expected) < timedelta(milliseconds=1)


def test_next_poll_adds_the_delay_to_now() -> None:
    assert next_poll(NOW, FIVE_MIN, 2, 0.0) == NOW + timedelta(minutes=20)


def test_retry_after_is_honoured_up_to_the_ceiling() -> None:
    assert poll_delay(FIVE_MIN, 1, 0.5, retry_after=timedelta(hours=1)) == timedelta(hours=1)
    assert poll_delay(FIVE_MIN, 3, 0.0, retry_after=timedelta(seconds=30)) == timedelta(minutes=40)
    assert poll_delay(FIVE_MIN, 1, 0.5, retry_after=timedelta(days=7)) == timedelta(hours=6)


def test_jitter_spreads_feeds() -> None:
    delays = {poll_delay(FIVE_MIN, 0, rand / 10) for rand in range(10)}
    assert len(delays) == 10
    assert min(delays) > timedelta(minutes=4.5)
    assert max(delays) == FIVE_MIN  # never longer than the interval


@pytest.mark.parametrize(
    ("every", "rand"), [(timedelta(0), 0.5), (-FIVE_MIN, 0.5), (FIVE_MIN, 1.0), (FIVE_MIN, -0.1)]
)
def test_bad_arguments_are_refused(every: timedelta, rand: float) -> None:
    with pytest.raises(ValueError, match="must"):
        poll_delay(every, 0, rand)


@pytest.mark.parametrize(
    ("errors", "next_in", "waits"),
    [
        (0, timedelta(hours=5), False),  # healthy: `run --once` polls it whatever its `every`
        (0, None, False),
        (1, timedelta(hours=1), True),  # backing off, or Retry-After: 3600
        (3, timedelta(seconds=1), True),
        (2, timedelta(0), False),  # its time has come
        (2, -timedelta(minutes=5), False),
        (2, None, False),
    ],
)
def test_waiting_until(errors: int, next_in: timedelta | None, waits: bool) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    when = None if next_in is None else now + next_in
    assert waiting_until(errors, when, now) == (when if waits else None)

"""The service loop: when a feed is first polled, how long the loops sleep, what is scheduled."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.clock import FakeClock
from bot.models import FeedState
from bot.service_loop import (
    IDLE_WAKE,
    ONCE_WAIT,
    TOKEN_EVERY,
    TOKEN_JOB,
    delivery_wait,
    first_poll,
    once_retry_wait,
)
from bot.storage.store import Storage
from tests.builders import BASE, settings

S = timedelta(seconds=1)


def state(next_poll: datetime | None) -> FeedState:
    return FeedState(feed_id="site", url="https://sahel-actu.example/feed", next_poll=next_poll)


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (None, BASE),  # never polled: now
        (state(None), BASE),  # polled, no next poll recorded: now
        (state(BASE + 90 * S), BASE + 90 * S),  # a backoff still ahead is kept
        (state(BASE - 90 * S), BASE),  # overdue: now, not in the past
        (state(BASE), BASE),
    ],
)
def test_first_poll(recorded: FeedState | None, expected: datetime) -> None:
    assert first_poll(recorded, BASE) == expected


@pytest.mark.parametrize(
    ("next_due", "seconds"),
    [
        (None, IDLE_WAKE.total_seconds()),  # nothing due: look again after IDLE_WAKE
        (BASE + 5 * S, 5.0),
        (BASE + IDLE_WAKE + 5 * S, IDLE_WAKE.total_seconds()),  # never longer than IDLE_WAKE
        (BASE - 5 * S, 0.0),  # already due: at once
        (BASE, 0.0),
    ],
)
def test_delivery_wait(next_due: datetime | None, seconds: float) -> None:
    assert delivery_wait(BASE, next_due) == seconds


@pytest.mark.parametrize(
    ("retry_due", "seconds"),
    [
        (None, None),  # no transient failure: no wait
        (BASE + 10 * S, 10.0),
        (BASE + ONCE_WAIT, ONCE_WAIT.total_seconds()),  # the longest wait `--once` accepts
        (BASE + ONCE_WAIT + S, None),  # longer: left for the next run
        (BASE - S, 0.0),  # already due: retry at once
    ],
)
def test_once_retry_wait(retry_due: datetime | None, seconds: float | None) -> None:
    assert once_retry_wait(BASE, retry_due) == seconds


async def test_the_scheduler_checks_tokens_daily_and_polls_each_feed_at_its_pace(
    tmp_path: Path,
) -> None:
    s = settings(
        feeds=[
            {"id": "site", "url": "https://sahel-actu.example/feed", "every": "5m"},
            {"id": "sport", "url": "https://sahel-actu.example/sport/feed", "every": "15m"},
        ],
        storage=f"sqlite:///{tmp_path / 'relais.db'}",
    )
    storage = Storage.open(s.storage)
    backoff = BASE + timedelta(minutes=40)
    storage.record([], BASE, feed_state=FeedState("sport", s.feeds[1].url, next_poll=backoff))
    app = App(s, storage, clock=FakeClock(BASE), notifiers=[])
    try:
        jobs = {job.id: job for job in app.service._scheduler().get_jobs()}
    finally:
        await app.aclose()
        storage.close()
    assert set(jobs) == {TOKEN_JOB, "poll:site", "poll:sport"}
    assert jobs[TOKEN_JOB].trigger.interval == TOKEN_EVERY == timedelta(days=1)
    assert jobs["poll:site"].trigger.interval == timedelta(minutes=5)
    assert jobs["poll:sport"].trigger.interval == timedelta(minutes=15)
    assert jobs["poll:site"].next_run_time == BASE  # never polled: at once
    assert jobs["poll:sport"].next_run_time == backoff  # its recorded backoff is kept

"""The service loop: when a feed is first polled, how long the loops sleep, what is scheduled."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.clock import FakeClock
from bot.models import DeliveryState, FeedState
from bot.service_loop import (
    IDLE_WAKE,
    ONCE_WAIT,
    TOKEN_EVERY,
    TOKEN_JOB,
    delivery_wait,
    first_poll,
    once_retry_wait,
    stagger,
)
from bot.storage.store import Storage
from tests.builders import BASE, settings
from tests.delivery.test_ingest import ONE, TWO
from tests.fakes.feed_server import FeedServer, rss

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
    assert jobs["poll:site"].name == "poll:site"  # APScheduler's log lines name the feed


@pytest.mark.parametrize(
    ("position", "due", "every", "concurrency", "expected"),
    [
        (0, 3, timedelta(minutes=5), 64, timedelta(0)),  # a small site: every feed at once
        (63, 64, timedelta(minutes=5), 64, timedelta(0)),
        (0, 10_000, timedelta(minutes=5), 64, timedelta(0)),  # the first batch at once
        (64, 128, timedelta(minutes=5), 64, timedelta(minutes=2.5)),
        (9_999, 10_000, timedelta(minutes=5), 64, timedelta(minutes=5) * 156 / 157),
        (5, 10, timedelta(minutes=1), 1, timedelta(seconds=30)),
    ],
)
def test_stagger_spreads_the_first_round_over_the_interval(
    position: int, due: int, every: timedelta, concurrency: int, expected: timedelta
) -> None:
    assert stagger(position, due, every, concurrency) == expected


async def test_ten_thousand_feeds_start_in_batches_without_jitter(tmp_path: Path) -> None:
    feeds = [
        {"id": f"f{n}", "url": f"https://site{n}.example/feed", "every": "5m"} for n in range(200)
    ]
    s = settings(
        feeds=feeds, storage=f"sqlite:///{tmp_path / 'relais.db'}", fetch={"concurrency": 50}
    )
    storage = Storage.open(s.storage)
    app = App(s, storage, clock=FakeClock(BASE), notifiers=[])
    try:
        jobs = [j for j in app.service._scheduler().get_jobs() if j.id != TOKEN_JOB]
    finally:
        await app.aclose()
        storage.close()
    starts = sorted(job.next_run_time for job in jobs)
    assert starts.count(BASE) == 50  # one batch of as many as are fetched at once
    assert len(set(starts)) == 4 and max(starts) < BASE + timedelta(minutes=5)
    assert all(not job.trigger.jitter for job in jobs)  # no jitter that lengthens an interval


def test_a_poll_still_running_is_not_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="relais.scheduler")
    log = logging.getLogger("relais.scheduler")
    log.warning(
        'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
        "poll:site",
        1,
    )
    log.warning("the scheduler stopped")
    assert [r.getMessage() for r in caplog.records] == ["the scheduler stopped"]


@pytest.mark.parametrize("rand", [0.0, 0.5, 0.999])
async def test_an_article_added_just_after_a_poll_is_posted_within_the_interval(
    tmp_path: Path, rand: float
) -> None:
    """`every: 1m`: an article that appears a moment after a poll reaches the channel within
    a minute and five seconds (the jitter never lengthens the interval)."""
    every = timedelta(minutes=1)
    with FeedServer() as server:
        server.set("/feed", rss(ONE))
        s = settings(
            [{"id": "out", "type": "console", "min_gap": "0s", "max_age": None}],
            feeds=[{"id": "site", "url": server.url("/feed"), "every": "1m", "first_run": "all"}],
            storage=f"sqlite:///{tmp_path / 'relais.db'}",
        )
        storage = Storage.open(s.storage)
        clock = FakeClock(BASE)
        app = App(s, storage, clock=clock, notifiers=[])
        app.poller._rand = lambda: rand
        try:
            [first], _ = await app.service.run_once(check_tokens=False)
            polled = clock.now()
            clock.advance(0.1)  # the article appears just after the poll
            server.set("/feed", rss(TWO, ONE))
            assert first.next_poll is not None and first.next_poll - polled <= every
            clock.advance(first.next_poll - clock.now())  # the scheduler runs the next poll
            clock.advance(0.07)  # its processing
            await app.service.run_once(check_tokens=False)
        finally:
            await app.aclose()
        sent = [d for d in storage.deliveries() if d.state is DeliveryState.SENT]
        storage.close()
    assert len(sent) == 2
    latest = max(d.sent_at for d in sent if d.sent_at is not None)
    assert latest - polled <= every + timedelta(seconds=5)

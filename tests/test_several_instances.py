"""Several instances on one database: the rate window at the claim, heartbeat leases, the leader
lock, NOTIFY wake-ups, and the leadership beat (docs/design.md, "Several instances")."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from bot.clock import FakeClock
from bot.delivery.alerts import Alerts
from bot.delivery.ingest import Poller
from bot.delivery.telegram_rates import PER_CHANNEL_WINDOW, window_opens
from bot.delivery.wakeups import Wakeups
from bot.feeds.fetch import Fetcher
from bot.leadership import Leadership
from bot.models import DeliveryState, FeedState, PublishResult
from bot.service_loop import polled_elsewhere
from bot.storage.leases import LeaderLock
from bot.storage.outbox import SENDING_LEASE
from bot.storage.store import Storage
from tests.builders import BASE, article, claim_due, settings
from tests.builders import new_article as new
from tests.fakes.feed_server import FeedServer, rss

S = DeliveryState
MINUTE = timedelta(minutes=1)


def at(seconds: float):
    return BASE + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("recent", "limit", "opens"),
    [
        ([], 20, None),
        ([at(s) for s in range(19)], 20, None),  # the 20th fits
        ([at(s) for s in range(20)], 20, at(60)),  # the 21st waits for the first to age out
        ([at(s) for s in reversed(range(25))], 20, at(65)),  # any order; the 20th latest
        ([at(0), at(30)], 2, at(60)),
    ],
)
def test_window_opens(recent, limit, opens) -> None:
    assert window_opens(recent, limit=limit, period=MINUTE) == opens


@pytest.fixture
def store(db_url: str):
    storage = Storage.open(db_url)
    yield storage
    storage.close()


def claim(store: Storage, now, *, worker: str = "w1"):
    return claim_due(
        store,
        "tg",
        now,
        n=1,
        worker=worker,
        day_start=BASE - timedelta(hours=9),
        window=partial(window_opens, limit=3, period=PER_CHANNEL_WINDOW),
    )


def test_the_claim_holds_a_rate_window_for_every_worker(store: Storage) -> None:
    store.record([new(article(n), ["tg"]) for n in range(1, 6)], BASE)
    for n, worker in enumerate(["w1", "w2", "w3"]):  # three workers, one channel
        [d], _ = claim(store, at(n), worker=worker)
        assert store.finish(d, at(n), state=S.SENT, result=PublishResult(str(n)))
    assert claim(store, at(10)) == ([], at(60))  # the fourth waits for the first to age out
    [d], _ = claim(store, at(60))
    assert d.worker == "w1"


def sending(store: Storage, worker: str, now) -> int:
    [d], _ = claim_due(store, "out", now, n=1, worker=worker, day_start=BASE - timedelta(hours=9))
    return d.id


@pytest.mark.postgres
def test_a_live_workers_rows_are_kept_a_dead_ones_taken_over(postgres_url: str) -> None:
    store = Storage.open(postgres_url)
    try:
        store.record([new(article(n), ["out"]) for n in range(1, 4)], BASE)
        alive, dead, silent = (sending(store, w, BASE) for w in ("alive", "dead", "silent"))
        store.renew_lease("alive", BASE)
        store.renew_lease("dead", BASE)
        later = BASE + SENDING_LEASE + timedelta(seconds=1)
        store.renew_lease("alive", later)  # its heartbeat goes on; the others' stopped
        assert store.recover_sending(later, older_than=later - SENDING_LEASE) == [dead, silent]
        assert store.delivery(alive).state is S.SENDING
        assert store.live_instances(later - SENDING_LEASE) == ["alive"]
    finally:
        store.close()


@pytest.mark.postgres
def test_one_leader_per_schema_and_the_lock_goes_with_its_connection(
    postgres_url: str, postgres_base: str
) -> None:
    first, second = Storage.open(postgres_url), Storage.open(postgres_url)
    a, b = LeaderLock(first.db), LeaderLock(second.db)
    try:
        assert a.acquire() and a.held()
        assert not b.acquire()
        a.release()
        assert b.acquire()
        # The leader's backend dies (a killed process, a dropped connection): the lock is gone.
        engine = sa.create_engine(postgres_base)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() AND granted "
                    "AND objid = (hashtext(:schema || 'relais:owner')::bigint & 4294967295)"
                ),
                {"schema": sa.make_url(postgres_url).query["options"].split("=", 1)[1]},
            )
        engine.dispose()
        assert not b.held()
        assert a.acquire()
    finally:
        a.release()
        b.release()
        first.close()
        second.close()


async def test_on_sqlite_the_one_instance_leads_from_the_first_beat(tmp_path) -> None:
    store = Storage.open(f"sqlite:///{tmp_path / 'relais.db'}")
    elected = []
    leadership = Leadership(store, worker="solo", clock=FakeClock(BASE))

    async def on_elected() -> None:
        elected.append(True)

    leadership.on_elected = on_elected
    try:
        await leadership.tick()
        await leadership.tick()
        assert leadership.is_leader and elected == [True]
        assert store.live_instances(BASE - timedelta(days=1)) == []  # no heartbeat on SQLite
        stop = asyncio.Event()
        stop.set()
        await leadership.run(stop)  # returns at once
    finally:
        leadership.close()
        store.close()


@pytest.mark.postgres
async def test_new_work_wakes_every_instance_of_its_schema_only(
    postgres_url: str, postgres_base: str
) -> None:
    store = Storage.open(postgres_url)
    woken = asyncio.Event()
    wakeups = Wakeups(store.engine.url, [woken.set])
    stop = asyncio.Event()
    task = asyncio.create_task(wakeups.run(stop))
    try:
        await asyncio.wait_for(wakeups.listening.wait(), 10)
        # Another site in another schema of the same database: not our work.
        other = sa.create_engine(postgres_base)
        with other.begin() as conn:
            conn.execute(sa.text("SELECT pg_notify('relais_work', 'another_schema')"))
        other.dispose()
        await asyncio.sleep(0.3)
        assert not woken.is_set()
        store.record([new(article(1), ["out"])], BASE)  # a new delivery, queued
        await asyncio.wait_for(woken.wait(), 5)
        woken.clear()
        [d], _ = claim_due(store, "out", BASE, n=1, worker="w")
        store.finish(d, BASE, state=S.FAILED, error="refused")
        await asyncio.sleep(0.3)
        assert not woken.is_set()  # sending and failed are no new work
        assert store.mark_queued(d.id, BASE, "/retry", BASE)  # an admin's /retry is
        await asyncio.wait_for(woken.wait(), 5)
    finally:
        stop.set()
        await task
        store.close()


class RacingStorage(Storage):
    """Another instance records the same articles between this one's read and its write."""

    def record(self, items, now, **kw):
        super().record(items, now)
        return super().record(items, now, **kw)


async def test_the_first_poll_counts_what_this_instance_wrote(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    with FeedServer() as server:
        server.set("/feed", rss(("101", "conseil", "Conseil des ministres du mercredi")))
        config = settings(
            [{"id": "out", "type": "console", "max_age": None}],
            feeds=[{"id": "site", "url": server.url("/feed"), "first_run": "all"}],
        )
        store = RacingStorage.open(f"sqlite:///{tmp_path / 'relais.db'}")
        fetcher = Fetcher()
        poller = Poller(store, config, fetcher, clock=FakeClock(BASE), alerts=Alerts([]))
        try:
            with caplog.at_level(logging.INFO, logger="relais"):
                report = await poller.poll(config.feeds[0])
        finally:
            await fetcher.aclose()
            store.close()
    assert report.new == []  # the other instance's insert won
    assert "first poll, 0 articles recorded, 0 to post" in caplog.text


@pytest.mark.parametrize(
    ("next_poll", "expected"),
    [
        (None, None),  # never polled: poll now
        (BASE - MINUTE, None),  # due: poll now
        (BASE, None),
        (BASE + MINUTE, BASE + MINUTE),  # another instance polled it: its next poll holds
    ],
)
def test_polled_elsewhere(next_poll, expected) -> None:
    state = FeedState("site", "https://sahel-actu.example/feed", next_poll=next_poll)
    assert polled_elsewhere(state, BASE) == expected
    assert polled_elsewhere(None, BASE) is None

"""Polling feeds into the outbox: first run, never twice, republished stories, failures, moves."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import FakeClock
from bot.delivery.alerts import Alerts
from bot.delivery.ingest import ALERT_AFTER_ERRORS, Poller, PollReport
from bot.feeds.fetch import Fetcher
from bot.models import DeliveryState
from bot.storage.store import Storage
from tests.builders import BASE, settings
from tests.fakes.feed_server import FeedServer, rss
from tests.waiting import wait_until_async

ONE = ("101", "conseil-des-ministres", "Conseil des ministres du mercredi")
TWO = ("102", "budget-2027", "Le budget 2027 adopté")
THREE = ("103", "rentree-scolaire", "La rentrée scolaire repoussée")


class Notes:
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def notify(self, message: str) -> None:
        self.messages.append(message)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


@pytest.fixture
async def make_rig(db_url: str, server: FeedServer):
    """Builds rigs for this test and always closes them, even when the test fails."""
    rigs: list[PollRig] = []

    def make(**feed: Any) -> PollRig:
        rigs.append(PollRig(db_url, server, **feed))
        return rigs[-1]

    yield make
    for rig in rigs:
        await rig.close()


class PollRig:
    def __init__(self, db_url: str, server: FeedServer, **feed: Any) -> None:
        self.server = server
        self.settings = settings(
            [{"id": "out", "type": "console", "max_age": None}],
            feeds=[{"id": "site", "url": server.url("/feed"), **feed}],
        )
        self.storage = Storage.open(db_url)
        self.clock = FakeClock(BASE)
        self.notes = Notes()
        self.alerts = Alerts([self.notes])
        self.fetcher = Fetcher()
        self.poller = Poller(
            self.storage,
            self.settings,
            self.fetcher,
            clock=self.clock,
            alerts=self.alerts,
            rand=lambda: 0.5,
        )

    async def poll(self, *, write: bool = True):
        report = await self.poller.poll(self.settings.feeds[0], write=write)
        await self.alerts.flush()
        return report

    def states(self) -> list[tuple[str, str | None]]:
        return [(d.state.value, d.error) for d in self.storage.deliveries()]

    async def close(self) -> None:
        await self.fetcher.aclose()
        self.storage.close()


async def test_first_run_skip_records_everything_and_posts_nothing(make_rig, server) -> None:
    server.set("/feed", rss(ONE, TWO))
    rig = make_rig()
    report = await rig.poll()
    assert report.status == "ok" and report.queued == 0 and len(report.new) == 2
    assert all(s == "skipped" and r.startswith("baseline") for s, r in rig.states())
    assert rig.storage.feed_state("site").baselined
    server.set("/feed", rss(THREE, ONE, TWO))
    report = await rig.poll()
    assert [i.article.title for i in report.new] == [THREE[2]]
    assert report.queued == 1
    assert rig.states()[-1] == ("queued", None)


@pytest.mark.parametrize(("first_run", "queued"), [("latest:1", 1), ("all", 2), ("skip", 0)])
async def test_first_run_modes(make_rig, server, first_run: str, queued: int) -> None:
    server.set("/feed", rss(ONE, TWO))
    rig = make_rig(first_run=first_run)
    report = await rig.poll()
    assert report.queued == queued


async def test_second_poll_is_conditional_and_changes_nothing(make_rig, server) -> None:
    server.set("/feed", rss(ONE, TWO))
    rig = make_rig(first_run="all")
    await rig.poll()
    report = await rig.poll()
    assert report.status == "not_modified" and report.new == []
    assert server.hits("/feed")[1]["If-None-Match"].startswith('"')
    assert len(rig.storage.deliveries()) == 2


async def test_an_unchanged_body_without_etag_is_taken_like_a_304(
    make_rig, server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.set("/feed", rss(ONE, TWO), send_etag=False)
    rig = make_rig(first_run="all")
    await rig.poll()
    parses: list[str] = []
    monkeypatch.setattr(
        "bot.delivery.ingest.parse_result", lambda fetched, feed_id: parses.append(feed_id)
    )
    report = await rig.poll()
    assert report.status == "not_modified" and report.new == [] and parses == []
    assert "If-None-Match" not in server.hits("/feed")[1]
    state = rig.storage.feed_state("site")
    assert state is not None and state.last_poll == rig.clock.now() and state.body_hash
    monkeypatch.undo()
    server.set("/feed", rss(THREE, ONE, TWO), send_etag=False)  # a new body is read
    report = await rig.poll()
    assert [i.article.title for i in report.new] == [THREE[2]]


async def test_edited_and_relinked_articles_are_not_posted_again(make_rig, server) -> None:
    server.set("/feed", rss(ONE))
    rig = make_rig(first_run="all")
    await rig.poll()
    edited = ("101", "conseil-des-ministres", "Conseil des ministres du mercredi (mise à jour)")
    tracked = ("999", "conseil-des-ministres/?utm_source=rss&amp;fbclid=zz", "Autre titre")
    server.set("/feed", rss(edited, tracked))
    report = await rig.poll()
    assert report.new == []
    assert len(rig.storage.deliveries()) == 1


async def test_republished_story_is_recorded_but_skipped(make_rig, server) -> None:
    server.set("/feed", rss(ONE))
    rig = make_rig(first_run="all")
    await rig.poll()
    again = ("555", "conseil-des-ministres-2", "CONSEIL des ministres du mercredi !")
    server.set("/feed", rss(again, ONE))
    rig.clock.advance(timedelta(days=2))
    report = await rig.poll()
    [item] = report.new
    assert item.duplicate_of is not None
    assert rig.states()[-1][0] == "skipped" and "republished" in rig.states()[-1][1]


async def test_failures_back_off_alert_once_and_recover(make_rig, server) -> None:
    server.set("/feed", rss(ONE))
    rig = make_rig()
    await rig.poll()
    server.fail("/feed", 503)
    for n in range(1, ALERT_AFTER_ERRORS + 2):
        report = await rig.poll()
        assert report.status == "error" and "503" in report.message
        state = rig.storage.feed_state("site")
        assert state.consecutive_errors == n
        assert state.next_poll > BASE + rig.settings.feeds[0].every  # backing off
    assert len([m for m in rig.notes.messages if "Flux en panne" in m]) == 1
    server.set("/feed", rss(ONE))  # unchanged: the ETag kept through the failures gives a 304
    report = await rig.poll()
    assert report.status == "not_modified"
    assert rig.storage.feed_state("site").consecutive_errors == 0
    assert any("Flux rétabli" in m for m in rig.notes.messages)


async def test_retry_after_of_a_busy_server_is_honoured(make_rig, server) -> None:
    server.fail("/feed", 429, **{"Retry-After": "3600"})
    rig = make_rig()
    report = await rig.poll()
    assert report.next_poll >= BASE + timedelta(minutes=54)  # an hour, minus the jitter


async def test_permanent_redirect_updates_the_stored_url(make_rig, server) -> None:
    server.set("/new-feed", rss(ONE))
    server.redirect("/feed", server.url("/new-feed"), 301)
    rig = make_rig()
    await rig.poll()
    assert rig.storage.feed_state("site").url == server.url("/new-feed")
    await rig.poll()
    assert len(server.hits("/feed")) == 1 and len(server.hits("/new-feed")) == 2


async def test_not_a_feed_is_one_clear_error_and_hurts_no_other_feed(make_rig, server) -> None:
    server.set(
        "/feed",
        b"<!doctype html><html><head><title>Accueil</title></head></html>",
        content_type="text/html",
    )
    rig = make_rig()
    report = await rig.poll()
    assert report.status == "error" and "\n" not in report.message
    assert rig.storage.feed_state("site").last_result.startswith("error:")


async def test_dry_run_writes_nothing(make_rig, server) -> None:
    server.set("/feed", rss(ONE, TWO))
    rig = make_rig(first_run="all")
    report = await rig.poll(write=False)
    assert report.queued == 2
    assert rig.storage.feed_state("site") is None and rig.storage.deliveries() == []


async def test_changing_the_configured_url_starts_from_it(make_rig, server) -> None:
    server.set("/feed", rss(ONE))
    rig = make_rig()
    await rig.poll()
    state = rig.storage.feed_state("site")
    from dataclasses import replace

    rig.storage.save_feed_state(
        replace(state, configured_url="https://old.example/feed", url="https://old.example/feed")
    )
    await rig.poll()
    assert rig.storage.feed_state("site").url == server.url("/feed")
    assert [d.state for d in rig.storage.deliveries()] == [DeliveryState.SKIPPED]


async def test_an_unexpected_error_is_this_feeds_failure_only(make_rig, server) -> None:
    server.set("/feed", rss(ONE))
    rig = make_rig()

    def broken(*_args, **_kwargs):
        raise RuntimeError("index row size exceeds maximum")

    rig.storage.record = broken  # type: ignore[method-assign]
    report = await rig.poll()
    assert report.status == "error" and "RuntimeError" in report.message
    assert rig.storage.feed_state("site").consecutive_errors == 1


async def test_an_article_reaching_a_second_feed_goes_to_that_feeds_channels(db_url, server):
    server.set("/main", rss(ONE, TWO))
    server.set("/sport", rss(TWO))
    rig = PollRig(db_url, server)
    rig.settings = settings(
        [
            {"id": "tg-main", "type": "console", "feeds": ["main"], "max_age": None},
            {"id": "tg-sport", "type": "console", "feeds": ["sport"], "max_age": None},
        ],
        feeds=[
            {"id": "main", "url": server.url("/main"), "first_run": "all"},
            {"id": "sport", "url": server.url("/sport"), "first_run": "skip"},
        ],
    )
    rig.poller.settings = rig.settings
    try:
        rig.storage.ensure_channels(["tg-main", "tg-sport"], BASE - timedelta(days=1))
        main, sport = rig.settings.feeds
        await rig.poller.poll(sport)  # the first poll of sport: baseline
        server.set("/sport", rss(THREE, TWO))
        await rig.poller.poll(main)
        report = await rig.poller.poll(sport)
        assert report.queued == 1  # THREE is new to sport
        pairs = {(d.channel_id, d.state.value) for d in rig.storage.deliveries()}
        assert ("tg-main", "queued") in pairs and ("tg-sport", "queued") in pairs
        # ONE appears in sport later: tg-sport gets it too, tg-main keeps its single row.
        server.set("/sport", rss(ONE, THREE, TWO))
        report = await rig.poller.poll(sport)
        assert report.queued == 1 and report.new == []
        rows = [(d.article_key, d.channel_id, d.state.value) for d in rig.storage.deliveries()]
        assert len({(k, c) for k, c, _s in rows}) == len(rows)  # one row per article and channel
        assert [s for _k, c, s in rows if c == "tg-sport"].count("queued") == 2
        assert [s for _k, c, s in rows if c == "tg-main"] == ["queued", "queued"]
    finally:
        await rig.close()


async def test_a_channel_added_later_does_not_get_the_backlog(db_url, server):
    server.set("/feed", rss(ONE))
    rig = PollRig(db_url, server, first_run="all")
    try:
        rig.storage.ensure_channels(["out"], BASE)
        await rig.poll()
        rig.clock.advance(timedelta(hours=1))
        rig.settings = settings(
            [
                {"id": "out", "type": "console", "max_age": None},
                {"id": "late", "type": "console", "max_age": None},
            ],
            feeds=[{"id": "site", "url": server.url("/feed")}],
        )
        rig.poller.settings = rig.settings
        rig.storage.ensure_channels(["out", "late"], rig.clock.now())
        server.set("/feed", rss(TWO, ONE))
        await rig.poll()
        late = [d for d in rig.storage.deliveries() if d.channel_id == "late"]
        assert len(late) == 1  # TWO, first seen after the channel was added; not ONE
    finally:
        await rig.close()


async def test_a_first_poll_says_it_is_a_baseline(make_rig, server) -> None:
    server.set("/feed", rss(ONE))
    rig = make_rig()
    assert (await rig.poll()).baseline is True
    server.set("/feed", rss(TWO, ONE))
    report = await rig.poll()
    assert report.baseline is False and len(report.new) == 1


async def test_a_channel_that_starts_following_a_feed_does_not_get_its_backlog(db_url, server):
    server.set("/main", rss(ONE, TWO))
    server.set("/sport", rss(THREE))
    rig = PollRig(db_url, server)
    feeds = [
        {"id": "main", "url": server.url("/main"), "first_run": "all"},
        {"id": "sport", "url": server.url("/sport"), "first_run": "all"},
    ]
    narrow = [{"id": "tg-sport", "type": "console", "feeds": ["sport"], "max_age": None}]
    rig.settings = rig.poller.settings = settings(narrow, feeds=feeds)
    try:
        rig.storage.ensure_channels(["tg-sport"], BASE - timedelta(days=1))
        main, sport = rig.settings.feeds
        await rig.poller.poll(main)
        await rig.poller.poll(sport)
        rig.clock.advance(timedelta(days=1))
        widened = [{**narrow[0], "feeds": ["sport", "main"]}]
        rig.settings = rig.poller.settings = settings(widened, feeds=feeds)
        server.set("/main", rss(ONE, TWO, title="Sahel-Actu, édition du soir"))  # no 304
        report = await rig.poller.poll(rig.settings.feeds[0])
        assert report.status == "ok"
        assert report.queued == 0  # ONE and TWO are not news to main's readers
    finally:
        await rig.close()


@contextlib.asynccontextmanager
async def poller_of_many(
    db_url: str, server: FeedServer, count: int, *, make: type[Poller] = Poller, **fetch: Any
):
    """A poller of `count` feeds that each carry one article: (feed ids, storage, poller)."""
    names = [f"f{n}" for n in range(count)]
    for name in names:
        server.set(f"/{name}", rss(ONE))
    config = settings(
        [{"id": "out", "type": "console", "max_age": None}],
        feeds=[{"id": name, "url": server.url(f"/{name}")} for name in names],
        fetch=fetch,
    )
    storage = Storage.open(db_url)
    fetcher = Fetcher()
    try:
        yield (
            names,
            storage,
            make(storage, config, fetcher, clock=FakeClock(BASE), alerts=Alerts([])),
        )
    finally:
        await fetcher.aclose()
        storage.close()


async def test_unchanged_polls_ending_together_are_written_in_one_transaction(
    db_url: str, server: FeedServer
) -> None:
    """The polls that end while the worker is busy write their feeds' states together: one
    commit for all of them, and each poll returns once its own state is written."""
    async with poller_of_many(db_url, server, 12) as (names, storage, poller):
        feeds = poller.settings.feeds
        await poller.poll_many(feeds)  # the first round reads and records every feed
        stored = {s.feed_id: s for s in storage.feed_states()}
        commits: list[int] = []
        sa.event.listen(storage.db.engine, "commit", lambda _conn: commits.append(1))
        gate = threading.Event()
        poller._worker.submit(gate.wait)  # the worker is busy while the polls end
        polls = asyncio.gather(*(poller.poll(f, stored=stored[f.id]) for f in feeds))
        await wait_until_async(lambda: len(poller._behind) == len(names), what="12 polls ended")
        gate.set()
        reports = await polls
        assert {r.status for r in reports} == {"not_modified"}
        assert len(commits) == 1
        assert all(
            storage.feed_state(name).last_result == "not modified (304)"  # type: ignore[union-attr]
            for name in names
        )


async def test_a_round_of_many_polls_reports_in_the_feeds_order(
    db_url: str, server: FeedServer
) -> None:
    # More feeds than fetch slots: each slot's poll takes the next feed when it ends.
    async with poller_of_many(db_url, server, 40) as (names, _storage, poller):
        reports = await poller.poll_many(poller.settings.feeds)
        assert [r.feed_id for r in reports] == names
        assert {r.status for r in reports} == {"ok"}


class CountingPoller(Poller):
    """A poller that counts its polls under way (the most at once in `peak`), and the polls
    begun, holding a slot or waiting for one (the most at once in `begun_peak`)."""

    under_way = peak = begun = begun_peak = 0

    async def poll(self, feed: Any, **options: Any) -> Any:
        self.begun += 1
        self.begun_peak = max(self.begun_peak, self.begun)
        try:
            return await super().poll(feed, **options)
        finally:
            self.begun -= 1

    async def _timed_poll(self, feed: Any, **options: Any) -> Any:  # inside the poll's slot
        self.under_way += 1
        self.peak = max(self.peak, self.under_way)
        try:
            return await super()._timed_poll(feed, **options)
        finally:
            self.under_way -= 1


async def test_a_round_keeps_no_more_polls_under_way_than_the_fetch_concurrency(
    db_url: str, server: FeedServer
) -> None:
    """A first round's polls wait for the worker with their bodies and articles: no more than
    `fetch.concurrency` of them at once, however many feeds, and no more begun either (a poll
    waiting for a slot is a task and its frames: ten thousand of them were 12 MB)."""
    async with poller_of_many(db_url, server, 12, make=CountingPoller, concurrency=2) as (
        names,
        _storage,
        poller,
    ):
        reports = await poller.poll_many(poller.settings.feeds)
        assert {r.status for r in reports} == {"ok"} and len(reports) == len(names)
        assert isinstance(poller, CountingPoller) and poller.peak == 2
        assert poller.begun_peak == 2


async def test_a_round_keeps_what_each_report_hook_returns(db_url: str, server: FeedServer) -> None:
    async with poller_of_many(db_url, server, 3) as (names, _storage, poller):
        told: list[str] = []

        def each(report: PollReport) -> PollReport:
            told.append(report.feed_id)
            return PollReport(report.feed_id, report.status, "kept")

        reports = await poller.poll_many(poller.settings.feeds, each=each)
        assert sorted(told) == names and [r.message for r in reports] == ["kept"] * 3

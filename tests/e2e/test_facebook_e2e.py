"""The whole service against a fake Graph API: rate limits, an expired token, a renewed one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import App
from bot.clock import FakeClock
from bot.delivery.outbox import RECONCILE_AFTER
from bot.feeds.identity import canonical_url
from bot.models import DeliveryState
from bot.settings import Settings
from bot.storage.store import Storage
from tests.builders import BASE
from tests.builders import settings as site_settings
from tests.fakes.feed_server import FeedServer
from tests.fakes.graph_api import PAGE_ID, GraphApiServer, GraphError, TokenInfo

OLD_TOKEN = "EAAGoldPageToken000111222333444555666777888999aaabbbccc"
NEW_TOKEN = "EAAGnewPageToken999888777666555444333222111000cccbbbaaa"


@pytest.fixture
def graph() -> Iterator[GraphApiServer]:
    with GraphApiServer(tokens={OLD_TOKEN: TokenInfo(), NEW_TOKEN: TokenInfo()}) as fake:
        yield fake


def settings(feeds: FeedServer, graph: GraphApiServer, db: str, token: str, **ch: Any) -> Settings:
    page = {
        "id": "fb-main",
        "type": "facebook",
        "page_id": PAGE_ID,
        "token": "${FB_TOKEN}",
        "max_age": None,
        "exclude": {"categories": ["Publicité"]},
        **ch,
    }
    return site_settings(
        [page],
        env={"FB_TOKEN": token},
        about={"name": "Sahel-Actu"},
        storage=db,
        feeds=[{"id": "sahel", "url": feeds.url("/feed"), "first_run": "all"}],
        facebook={"graph_url": graph.base_url, "version": "v25.0", "timeout": "2s"},
    )


async def run_once(s: Settings, clock: FakeClock):
    storage = Storage.open(s.storage, exclusive=True)
    app = App(s, storage, clock=clock, notifiers=[])
    try:
        return await app.service.run_once()
    finally:
        await app.aclose()
        storage.close()


def states(s: Settings) -> list[DeliveryState]:
    """States of the channel's deliveries, less the article its filters skip (Publicité)."""
    storage = Storage.open(s.storage)
    try:
        return [
            d.state
            for d in storage.deliveries(channel_id="fb-main")
            if not (d.state is DeliveryState.SKIPPED and d.error and "exclude" in d.error)
        ]
    finally:
        storage.close()


def posted_links(graph: GraphApiServer) -> list[str]:
    return [canonical_url(p.link.split("?")[0]) for p in graph.posts if p.link]


async def test_rate_limit_then_each_article_once_with_the_configured_version(
    feeds, graph, db_url
) -> None:
    s = settings(feeds, graph, db_url, OLD_TOKEN, min_gap="0s")
    graph.script(
        "feed",
        GraphError(
            code=32,
            status=400,
            type="OAuthException",
            message="Page request limit reached",
            is_transient=True,
        ),
    )
    clock = FakeClock(BASE)
    _, report = await run_once(s, clock)
    assert report.sent == 9 and report.retried == 1 and report.failed == 0
    assert len(posted_links(graph)) == len(set(posted_links(graph))) == 9
    assert graph.version_mismatches == []
    assert {r.version for r in graph.requests} == {"v25.0"}
    scrapes = graph.requests_to("scrape")
    assert len(scrapes) >= 9  # the card is re-read before each link post
    _, report = await run_once(s, clock)
    assert report.sent == 0 and len(graph.posts) == 9


async def test_expired_token_pauses_keeps_the_queue_and_a_renewed_one_finishes(
    feeds, graph, db_url, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock(BASE)
    old = settings(feeds, graph, db_url, OLD_TOKEN, min_gap="10m")
    _, report = await run_once(old, clock)
    assert report.sent == 1  # the gap holds the rest
    # The token expires while eight posts wait.
    graph.tokens[OLD_TOKEN] = TokenInfo(invalid_subcode=463)
    clock.advance(timedelta(minutes=10))
    before = len(graph.requests_to("feed"))
    _, report = await run_once(old, clock)
    assert report.sent == 0 and "fb-main" in report.paused
    assert len(graph.requests_to("feed")) - before <= 1  # no hammering
    clock.advance(timedelta(minutes=10))
    _, report = await run_once(old, clock)  # still expired: stays paused, nothing tried
    assert len(graph.requests_to("feed")) - before <= 1
    assert states(old).count(DeliveryState.QUEUED) == 8
    # The manager renews the token and restarts: the channel resumes on its own.
    new = settings(feeds, graph, db_url, NEW_TOKEN, min_gap="10m")
    for _ in range(12):
        clock.advance(timedelta(minutes=10))
        await run_once(new, clock)
    assert states(new) == [DeliveryState.SENT] * 9
    links = posted_links(graph)
    assert len(links) == len(set(links)) == 9
    for token in (OLD_TOKEN, NEW_TOKEN):
        assert token not in caplog.text


async def test_crash_while_sending_is_reconciled_from_the_page(feeds, graph, db_url) -> None:
    s = settings(feeds, graph, db_url, OLD_TOKEN, min_gap="0s")
    clock = FakeClock(BASE)
    storage = Storage.open(s.storage)
    app = App(s, storage, clock=clock, notifiers=[])
    await app.service.poll_all()
    # Two posts were claimed, then the process died: one had reached Facebook, one had not.
    (first, second), _ = storage.claim(
        "fb-main",
        clock.now(),
        day_start=BASE,
        next_slot=lambda _l, _n: BASE,
        limit=2,
        worker="dead",
    )
    article = storage.article(first.article_key)
    graph.add_post(message=article.title, link=article.url, created_time=clock.now())
    await app.aclose()
    storage.close()
    clock.advance(timedelta(minutes=6))  # past the lease: the stale claims become unknown
    _, report = await run_once(s, clock)
    assert report.reconciled == 0  # too early to read the Page: a late POST may still land
    clock.advance(RECONCILE_AFTER)
    _, report = await run_once(s, clock)
    assert report.reconciled == 2
    links = posted_links(graph)
    assert len(links) == len(set(links)) == 9  # the found one was not posted again
    assert states(s) == [DeliveryState.SENT] * 9
    assert second.article_key != first.article_key

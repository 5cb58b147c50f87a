"""Publishing link and photo posts through the real facebook-sdk to the fake Graph API."""

from __future__ import annotations

import asyncio
import logging

import facebook
import pytest

from bot.clock import FakeClock
from bot.errors import AuthError, PermanentError
from bot.models import ConsolePost, PublishResult
from bot.publishers.base import Publisher
from bot.publishers.facebook import FacebookPublisher, check_token
from bot.settings import FacebookSettings
from tests.fakes.graph_api import PAGE_ID, Delay, GraphApiServer, GraphError, Reset, TokenInfo
from tests.publishers.facebook.conftest import (
    ARTICLE,
    PAGE_TOKEN,
    TIMEOUT,
    channel_settings,
    link_post,
    photo_post,
)


def test_it_is_a_publisher(publisher: FacebookPublisher) -> None:
    assert isinstance(publisher, Publisher)
    assert publisher.channel_id == "fb-main"


async def test_link_post_rescrapes_then_posts(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    result = await publisher.publish(link_post())

    assert [r.endpoint for r in graph.requests] == ["scrape", "feed"]
    scrape, feed = graph.requests
    assert scrape.method == "POST"
    assert scrape.path == "/v25.0/"
    assert scrape.params["id"] == ARTICLE
    assert scrape.params["scrape"] == "true"
    assert feed.method == "POST"
    assert feed.path == f"/v25.0/{PAGE_ID}/feed"
    assert feed.form["link"] == ARTICLE
    assert feed.form["message"].startswith("La rentrée scolaire reportée")
    # On a POST the SDK sends the token in the form body, never in the URL.
    assert feed.token == PAGE_TOKEN
    assert feed.token_in == "body"
    assert "access_token" not in feed.query

    [stored] = graph.posts
    assert result == PublishResult(
        remote_id=stored.id, link=f"https://www.facebook.com/{stored.id}"
    )
    assert result.remote_id.startswith(f"{PAGE_ID}_")


@pytest.mark.parametrize(
    "failure",
    [GraphError(code=1, status=500, message="An unknown error occurred"), Reset(), Delay(2.0)],
    ids=["graph-error", "connection-reset", "too-slow"],
)
async def test_a_failed_rescrape_never_blocks_the_post(
    publisher: FacebookPublisher,
    graph: GraphApiServer,
    caplog: pytest.LogCaptureFixture,
    failure: GraphError | Reset | Delay,
) -> None:
    graph.script("scrape", failure)
    caplog.set_level(logging.WARNING, logger="bot.publishers.facebook")

    result = await publisher.publish(link_post())

    assert [r.endpoint for r in graph.requests] == ["scrape", "feed"]
    assert result.remote_id == graph.posts[0].id
    assert "n'a pas relu la carte" in caplog.text
    assert PAGE_TOKEN not in caplog.text


async def test_rescrape_can_be_switched_off(
    fb: FacebookSettings, graph: GraphApiServer, clock: FakeClock
) -> None:
    publisher = FacebookPublisher(channel_settings(rescrape=False), fb, clock=clock)
    try:
        await publisher.publish(link_post())
    finally:
        await publisher.aclose()
    assert [r.endpoint for r in graph.requests] == ["feed"]


async def test_photo_post_uses_photos_with_url_and_caption(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    post = photo_post()
    result = await publisher.publish(post)

    [request] = graph.requests  # no rescrape: a photo post has no link card
    assert request.method == "POST"
    assert request.path == f"/v25.0/{PAGE_ID}/photos"
    assert request.form["url"] == post.url
    assert request.form["caption"] == post.message
    assert "link" not in request.form
    assert "message" not in request.form
    [stored] = graph.posts
    # The photo's own id is not the post: the remote id is `post_id` (PAGEID_POSTID).
    assert result.remote_id == stored.id != stored.photo_id


async def test_the_configured_version_is_in_every_path(clock: FakeClock) -> None:
    with GraphApiServer(
        expected_version="v23.0", tokens={PAGE_TOKEN: TokenInfo()}, now=clock.now
    ) as graph:
        fb = FacebookSettings(graph_url=graph.base_url + "/", version="v23.0", timeout=TIMEOUT)
        publisher = FacebookPublisher(channel_settings(), fb, clock=clock)
        try:
            await publisher.publish(link_post())
            await publisher.publish(photo_post("https://bamada.net/autre-article"))
            await publisher.reconcile(link_post(), clock.now())
        finally:
            await publisher.aclose()
        await check_token(channel_settings(), fb, clock=clock)

    endpoints = {r.endpoint for r in graph.requests}
    assert endpoints >= {"scrape", "feed", "photos", "published_posts", "debug_token", "me"}
    assert {r.version for r in graph.requests} == {"v23.0"}
    assert graph.version_mismatches == []
    assert all(r.path.startswith("/v23.0/") for r in graph.requests)


async def test_a_version_the_server_does_not_expect_is_refused(clock: FakeClock) -> None:
    """The fake really checks the version: the SDK's default (v2.8) would be caught."""
    with GraphApiServer(tokens={PAGE_TOKEN: TokenInfo()}, now=clock.now) as graph:
        fb = FacebookSettings(graph_url=graph.base_url, version="v24.0", timeout=TIMEOUT)
        publisher = FacebookPublisher(channel_settings(rescrape=False), fb, clock=clock)
        try:
            with pytest.raises(AuthError, match=r"v24\.0"):
                await publisher.publish(link_post())
        finally:
            await publisher.aclose()
    assert graph.version_mismatches == [f"/v24.0/{PAGE_ID}/feed"]
    assert graph.posts == []


async def test_the_sdk_global_url_is_left_alone(publisher: FacebookPublisher) -> None:
    before = facebook.FACEBOOK_GRAPH_URL
    await publisher.publish(link_post())
    assert facebook.FACEBOOK_GRAPH_URL == before == "https://graph.facebook.com/"


async def test_the_sdk_runs_off_the_event_loop(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    graph.script("feed", Delay(0.2))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await publisher.publish(link_post())
    finally:
        task.cancel()
    # A blocking call on the loop would have let the ticker run at most once or twice.
    assert ticks >= 10


async def test_a_non_facebook_post_is_refused(publisher: FacebookPublisher) -> None:
    with pytest.raises(PermanentError):
        await publisher.publish(ConsolePost(text="bonjour"))

"""The service survives its own bugs, keeps posting without the reader bot, and /post stays home."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import App
from bot.clock import FakeClock
from bot.storage.store import Storage
from tests.builders import BASE, settings
from tests.fakes.feed_server import FeedServer, rss
from tests.waiting import wait_until_async

ONE = ("101", "conseil-des-ministres", "Conseil des ministres du mercredi")


def app_for(server: FeedServer, tmp_path: Path) -> App:
    site = settings(
        [{"id": "out", "type": "console", "max_age": None}],
        about={"name": "Sahel-Actu", "url": server.url("/")},
        storage=f"sqlite:///{tmp_path / 'relais.db'}",
        feeds=[{"id": "site", "url": server.url("/feed"), "every": "1m"}],
    )
    return App(site, Storage.open(site.storage), clock=FakeClock(BASE), notifiers=[])


async def test_a_bug_in_a_delivery_round_does_not_stop_the_service(tmp_path: Path) -> None:
    with FeedServer() as server:
        server.set("/feed", rss(ONE))
        app = app_for(server, tmp_path)
        rounds = {"n": 0}
        real = app.outbox.deliver_due

        async def flaky(stop=None):
            rounds["n"] += 1
            if rounds["n"] == 1:
                raise RuntimeError("a bug")
            return await real(stop=stop)

        app.outbox.deliver_due = flaky  # type: ignore[method-assign]
        stop = asyncio.Event()
        service = asyncio.create_task(app.service.serve(stop))
        try:

            def second_round() -> bool:
                app.service.wake()
                return rounds["n"] >= 2

            await wait_until_async(second_round, what="a second delivery round")
        finally:
            stop.set()
            await asyncio.wait_for(service, 10)  # and it stops when asked
            await app.aclose()
            app.storage.close()
        assert rounds["n"] >= 2


async def test_post_never_follows_a_redirect_off_the_site(tmp_path: Path) -> None:
    with FeedServer() as site, FeedServer() as elsewhere:
        site.set("/feed", rss(ONE))
        elsewhere.set("/secret", b"<html><head><meta property='og:title' content='secrets'>")
        off_site = elsewhere.url("/secret").replace("127.0.0.1", "localhost")
        site.redirect("/go", off_site, 302)
        app = app_for(site, tmp_path)
        try:
            assert await app.post.fetch_article(site.url("/go")) is None
            assert await app.post.fetch_article(off_site) is None
        finally:
            await app.aclose()
            app.storage.close()
        assert elsewhere.hits("/secret") == []


async def test_post_takes_an_article_from_the_sites_own_page(tmp_path: Path) -> None:
    with FeedServer() as site:
        site.set("/feed", rss(ONE))
        page = """<html><head><title>x</title>
<meta property="og:title" content="Hivernage : les pluies reviennent sur Kayes">
<meta property="og:description" content="Les services météo annoncent des pluies abondantes.">
</head><body></body></html>""".encode()
        site.set("/2026/11/hivernage/", page, content_type="text/html; charset=utf-8")
        app = app_for(site, tmp_path)
        try:
            article = await app.post.fetch_article(site.url("/2026/11/hivernage/"))
            assert article is not None and article.title.startswith("Hivernage")
            assert await app.post.enqueue(article) == ["out"]
            assert await app.post.enqueue(article) == []  # never twice
        finally:
            await app.aclose()
            app.storage.close()

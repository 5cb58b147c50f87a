"""The composition root: one worker name and one User-Agent, handed to every part that uses them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import USER_AGENT
from bot.app import WORKER_WIDTH, App, Services, worker_name
from bot.clock import FakeClock
from bot.models import FacebookPost, TelegramPost
from bot.publishers.telegram import initialize_bot, make_bot
from bot.settings import Settings
from bot.storage.store import Storage
from tests.builders import BASE, settings
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram, Reply, tiny_png

AGENT = "Relais/0.1 (+https://sahel-actu.example/relais; test)"
CHAT = -1001987654321


@pytest.mark.parametrize(
    ("host", "pid", "name"),
    [
        ("redaction-1", 4242, "redaction-1:4242"),
        ("", 7, ":7"),
        ("h" * 70, 123456, "h" * (WORKER_WIDTH - 7) + ":123456"),  # the pid is kept whole
        ("h" * 57, 4242, "h" * 57 + ":4242"),  # 62 characters: nothing cut
    ],
)
def test_worker_name(host: str, pid: int, name: str) -> None:
    assert worker_name(host, pid) == name
    assert len(name) <= WORKER_WIDTH


def test_one_user_agent_names_relais_and_its_version() -> None:
    assert USER_AGENT.startswith("Relais/0.1") and "news syndication bot" in USER_AGENT


@pytest.fixture
def site() -> Iterator[FeedServer]:
    """The site: an empty feed, an article's photo, and (on the same fake) the Graph API."""
    with FeedServer() as server:
        server.set(
            "/feed", b"<rss version='2.0'><channel><title>Sahel-Actu</title></channel></rss>"
        )
        server.set("/photo.png", tiny_png(), content_type="image/png")
        yield server


def settings_for(site: FeedServer, tg: FakeTelegram, tmp_path: Path) -> Settings:
    return settings(
        [
            {"id": "tg-main", "type": "telegram", "chat": "@sahel_actu"},
            {"id": "fb-main", "type": "facebook", "page_id": "111", "token": "${FB_TOKEN}"},
        ],
        env={"FB_TOKEN": "EAAtoken"},
        about={"name": "Sahel-Actu", "url": site.url("/")},
        storage=f"sqlite:///{tmp_path / 'relais.db'}",
        feeds=[{"id": "site", "url": site.url("/feed")}],
        telegram={"token": tg.token, "api_url": tg.base_url},
        facebook={"graph_url": site.url("/graph/"), "version": "v25.0", "timeout": "2s"},
    )


def agents(site: FeedServer, path: str) -> list[str]:
    return [h.get("User-Agent", "") for p, h in site.requests if p.startswith(path)]


async def test_the_fetcher_and_both_publishers_send_the_apps_user_agent(
    site: FeedServer, tmp_path: Path
) -> None:
    with FakeTelegram() as tg:
        tg.set_chat(CHAT, username="sahel_actu", title="Sahel-Actu")
        tg.inject("sendPhoto", Reply.photo_url_wrong())  # so the publisher downloads the photo
        settings = settings_for(site, tg, tmp_path)
        bot = make_bot(settings.telegram, rate_limited=False)
        await initialize_bot(bot)
        storage = Storage.open(settings.storage)
        app = App(
            settings,
            storage,
            clock=FakeClock(BASE),
            notifiers=[],
            services=Services(telegram_bot=bot),
            user_agent=AGENT,
        )
        try:
            await app.service.poll_all()
            photo = TelegramPost(
                method="sendPhoto",
                text="<b>Crue du Niger</b>",
                photo=site.url("/photo.png"),
                buttons=(),
                link="https://sahel-actu.example/2026/11/crue/",
                silent=False,
            )
            await app.outbox.publisher(settings.channel("tg-main")).publish(photo)
            page_post = FacebookPost("feed", "Crue du Niger", "https://sahel-actu.example/")
            facebook = app.outbox.publisher(settings.channel("fb-main"))
            await facebook.reconcile(page_post, BASE - timedelta(hours=1))
        finally:
            await app.aclose()
            await bot.shutdown()
            storage.close()
    assert agents(site, "/feed") == [AGENT]
    assert agents(site, "/photo.png") == [AGENT]
    assert agents(site, "/graph/") and set(agents(site, "/graph/")) == {AGENT}


async def test_the_outbox_and_the_reader_bot_claim_under_one_worker_name(
    site: FeedServer, tmp_path: Path
) -> None:
    with FakeTelegram() as tg:
        settings = settings_for(site, tg, tmp_path)
        bot: Any = make_bot(settings.telegram, rate_limited=False)
        storage = Storage.open(settings.storage)
        try:
            named = App(
                settings, storage, services=Services(bot), reader_bot=True, worker="redac:1"
            )
            default = App(settings, storage, services=Services(bot), reader_bot=True)
            for app, worker in ((named, "redac:1"), (default, default.outbox.worker)):
                assert app.service.reader is not None
                assert app.outbox.worker == app.service.reader.broadcaster.worker == worker
            assert default.outbox.worker.endswith(f":{os.getpid()}")
        finally:
            storage.close()

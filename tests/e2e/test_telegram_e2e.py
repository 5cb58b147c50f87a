"""The whole service against a fake Bot API: feed → outbox → python-telegram-bot → fake server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import App, Services
from bot.cli import main
from bot.clock import FakeClock
from bot.models import DeliveryState
from bot.publishers.telegram import BotTimeouts, initialize_bot, make_bot
from bot.settings import Settings, settings_from_mapping
from bot.storage.store import Storage
from tests.builders import BASE, site_config
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram, Reply, parse_html

CHAT_ID = -1001987654321
FAST = BotTimeouts(connect=2.0, read=2.0, write=2.0, media_write=2.0, pool=1.0)


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        fake.set_chat(CHAT_ID, username="sahel_actu", title="Sahel-Actu")
        yield fake


def config(feeds: FeedServer, tg: FakeTelegram, db: str, **channel: Any) -> dict[str, Any]:
    return site_config(
        about={"name": "Sahel-Actu", "timezone": "Africa/Bamako"},
        storage=db,
        feeds=[{"id": "sahel", "url": feeds.url("/feed"), "first_run": "all"}],
        channels=[
            {
                "id": "tg-main",
                "type": "telegram",
                "chat": "@sahel_actu",
                "exclude": {"categories": ["Publicité"]},
                "max_age": None,
                "min_gap": "0s",
                **channel,
            }
        ],
        telegram={"token": tg.token, "api_url": tg.base_url, "admins": [4242]},
    )


class Service:
    """One `relais run --once` process on a fake clock, with a real bot client."""

    def __init__(self, settings: Settings, clock: FakeClock) -> None:
        self.settings, self.clock = settings, clock

    async def run_once(self):
        storage = Storage.open(self.settings.storage, exclusive=True)
        bot = make_bot(self.settings.telegram, timeouts=FAST)
        await initialize_bot(bot)
        app = App(
            self.settings,
            storage,
            clock=self.clock,
            services=Services(telegram_bot=bot, closers=[bot.shutdown]),
            notifiers=[],
        )
        try:
            return await app.service.run_once()
        finally:
            await app.aclose()
            storage.close()


@pytest.fixture
def service(feeds, tg, db_url) -> Service:
    return Service(settings_from_mapping(config(feeds, tg, db_url), env={}), FakeClock(BASE))


def sent(tg: FakeTelegram) -> list[dict[str, Any]]:
    """Posts the fake accepted (status 200), in order."""
    return [
        c.params for c in tg.calls() if c.method in {"sendPhoto", "sendMessage"} and c.status == 200
    ]


async def test_every_article_once_through_429_and_502(service: Service, tg: FakeTelegram) -> None:
    tg.inject("sendPhoto", Reply.flood(7), times=1)
    tg.inject("sendPhoto", Reply.bad_gateway(), times=1)
    tg.inject("sendMessage", Reply.bad_gateway(), times=1)
    polls, report = await service.run_once()
    assert polls[0].status == "ok"
    posts = sent(tg)
    assert report.sent == len(posts) == 9 and report.failed == report.unknown == 0
    assert report.retried >= 2
    assert 7 + 1 in [round(s) for s in service.clock.slept]  # waited as Telegram said
    texts = [p.get("caption") or p.get("text") for p in posts]
    assert len(set(texts)) == 9  # nothing twice
    for params in posts:
        parse_html(params.get("caption") or params["text"])  # valid Telegram HTML, else raises
        markup = params["reply_markup"]
        [[button]] = markup["inline_keyboard"]
        assert button["text"] == "Lire l'article"
        assert button["url"].startswith("https://sahel-actu.example/2026/")
    assert sum(1 for p in posts if "photo" in p) >= 8
    # A second run polls (304) and sends nothing.
    tg.clear_calls()
    polls, report = await service.run_once()
    assert polls[0].status == "not_modified" and report.sent == 0 and sent(tg) == []


async def test_timeout_after_sending_is_unknown_and_never_resent(
    service: Service, tg: FakeTelegram
) -> None:
    tg.inject("sendPhoto", Reply.slow(3.0), times=1)  # longer than the 2 s read timeout
    _, report = await service.run_once()
    assert report.unknown == 1 and report.sent == 0  # the channel's round ends there
    _, report = await service.run_once()
    assert report.sent == 8
    storage = Storage.open(service.settings.storage)
    states = [d.state for d in storage.deliveries(channel_id="tg-main")]
    storage.close()
    assert states.count(DeliveryState.UNKNOWN) == 1
    tg.clear_calls()
    _, report = await service.run_once()
    assert report.sent == 0 and sent(tg) == []  # the uncertain one waits for an admin's /retry


async def test_bot_removed_from_channel_pauses_it_and_keeps_the_queue(
    service: Service, tg: FakeTelegram
) -> None:
    tg.inject("sendPhoto", Reply.bot_kicked(), times=1)
    _, report = await service.run_once()
    assert report.paused == ["tg-main"] and report.sent == 0
    storage = Storage.open(service.settings.storage)
    try:
        assert storage.channel_state("tg-main").paused
        queued = storage.deliveries(channel_id="tg-main", states=[DeliveryState.QUEUED])
        assert len(queued) == 9
        storage.set_paused("tg-main", False, None, BASE)  # an admin's /resume
    finally:
        storage.close()
    _, report = await service.run_once()
    assert report.sent == 9 and len(sent(tg)) == 9


def test_cli_run_once_then_status(tmp_path: Path, feeds, tg, capsys) -> None:
    tg.inject("sendPhoto", Reply.flood(1), times=1)  # a real one-second wait
    path = tmp_path / "relais.yaml"
    cfg = config(feeds, tg, f"sqlite:///{tmp_path / 'relais.db'}")
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    outputs = []

    def relais(*args: str) -> str:
        assert main(["--config", str(path), *args]) == 0
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)
        return captured.out

    assert "9 sent" in relais("run", "--once")
    assert len(sent(tg)) == 9
    assert "0 sent" in relais("run", "--once")
    out = relais("status")
    assert "sent 9" in out and "queued 0" in out
    assert "https://t.me/sahel_actu/" in relais("history", "--limit", "2")
    assert all(tg.token not in text for text in outputs)  # logs and errors included

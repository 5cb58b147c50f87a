"""Admins hear about incidents by private message; `relais check --online` asks both platforms."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import App, Services
from bot.cli import main
from bot.clock import FakeClock
from bot.publishers.telegram import initialize_bot, make_bot
from bot.runner import notifiers_for
from bot.settings import settings_from_mapping
from bot.storage.store import Storage
from tests.builders import BASE, telegram_site
from tests.fakes.feed_server import FeedServer
from tests.fakes.graph_api import PAGE_ID, GraphApiServer, TokenInfo
from tests.fakes.telegram_api import FakeTelegram, Reply

ADMINS = [1111, 2222]
CHAT = -1001987654321
PAGE_TOKEN = "EAAGcheckPageToken0123456789abcdefABCDEF0123456789"


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        fake.set_chat(CHAT, username="sahel_actu", title="Sahel-Actu")
        for admin in ADMINS:
            fake.set_chat(admin, type="private", title=None)
        yield fake


def config(tg: FakeTelegram, feeds: FeedServer | None, db: str, **extra: Any) -> dict[str, Any]:
    data = telegram_site(tg, feeds.url("/feed") if feeds else "x", db, admins=ADMINS)
    data.update(extra)
    return data


async def test_one_private_message_per_admin_per_incident(tg, feeds, tmp_path) -> None:
    s = settings_from_mapping(config(tg, feeds, f"sqlite:///{tmp_path / 'r.db'}"), env={})
    bot = make_bot(s.telegram)
    await initialize_bot(bot)
    storage = Storage.open(s.storage)
    services = Services(telegram_bot=bot)
    app = App(
        s, storage, clock=FakeClock(BASE), services=services, notifiers=notifiers_for(s, services)
    )
    tg.inject("sendPhoto", Reply.bot_kicked(), times=1)
    try:
        _, report = await app.service.run_once()
    finally:
        await app.aclose()
        await bot.shutdown()
        storage.close()
    assert report.paused == ["tg-main"]
    for admin in ADMINS:
        [message] = tg.messages(admin)
        assert "Canal en pause" in message["text"] and "tg-main" in message["text"]


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "relais.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_check_online_ok_then_explains_what_to_fix(tg, tmp_path, capsys) -> None:
    with GraphApiServer(tokens={PAGE_TOKEN: TokenInfo()}) as graph:
        data = config(tg, None, f"sqlite:///{tmp_path / 'r.db'}")
        data["channels"].append(
            {"id": "fb-main", "type": "facebook", "page_id": PAGE_ID, "token": PAGE_TOKEN}
        )
        data["facebook"] = {"graph_url": graph.base_url, "version": "v25.0"}
        path = write(tmp_path, data)
        assert main(["--config", str(path), "check", "--online"]) == 0
        out = capsys.readouterr().out
        assert "OK  tg-main" in out and "OK  fb-main" in out
        # The bot loses its right to post; the Page token expires.
        tg.set_chat(CHAT, username="sahel_actu", title="Sahel-Actu", can_post_messages=False)
        graph.tokens[PAGE_TOKEN] = TokenInfo(invalid_subcode=463)
        assert main(["--config", str(path), "check", "--online"]) == 1
        out, err = capsys.readouterr()
        assert "ERR tg-main" in out and "Publier des messages" in out
        assert "ERR fb-main" in out
        assert PAGE_TOKEN not in out + err and tg.token not in out + err

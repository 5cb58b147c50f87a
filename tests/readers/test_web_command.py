"""/web: an admin gets a one-time dashboard link that logs in once; nobody else gets one."""

from __future__ import annotations

import re
from typing import Any

import httpx
from telegram.ext import ExtBot

from bot.clock import FakeClock
from bot.settings import WebSettings
from bot.storage.store import Storage
from bot.telegram_bot.service import ReaderBot
from bot.web.app import WebContext, create_app
from tests.fakes.telegram_api import FakeTelegram
from tests.readers.conftest import Chat, reader_settings

BASE = "https://relais.bamada.example"


async def test_web_sends_a_link_that_logs_in_once(
    tg: FakeTelegram, storage: Storage, clock: FakeClock, bot: ExtBot[Any], boss: Chat
) -> None:
    settings = reader_settings(tg).model_copy(update={"web": WebSettings(base_url=BASE)})
    reader = ReaderBot(settings, storage, bot=bot, clock=clock, poll_timeout=1)
    await reader.start()
    try:
        [reply] = await boss.say("/web")
    finally:
        await reader.stop()
    message = str(reply.params["text"])
    assert "valable 10 minutes et une seule fois" in message
    assert reply.params["link_preview_options"]["is_disabled"] is True
    found = re.search(rf"{re.escape(BASE)}(/login/\S+)", message)
    assert found, message
    app = create_app(WebContext(settings=settings, storage=storage, clock=clock))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        assert (await http.post(found.group(1))).status_code == 303
        assert (await http.get("/")).status_code == 200
        http.cookies.clear()
        assert (await http.post(found.group(1))).status_code == 403


async def test_web_without_a_dashboard_says_so(
    tg: FakeTelegram, storage: Storage, clock: FakeClock, bot: ExtBot[Any], boss: Chat
) -> None:
    reader = ReaderBot(reader_settings(tg), storage, bot=bot, clock=clock, poll_timeout=1)
    await reader.start()
    try:
        answer = await boss.text("/web")
    finally:
        await reader.stop()
    assert "tableau de bord n'est pas configuré" in answer

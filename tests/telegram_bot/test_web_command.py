"""/web: an admin gets a one-time dashboard link that logs in once; nobody else gets one."""

from __future__ import annotations

import re
from typing import Any

import httpx
from pydantic import SecretStr
from telegram.ext import ExtBot

from bot.clock import FakeClock
from bot.settings import WebhookSettings, WebSettings
from bot.storage.store import Storage
from bot.telegram_bot.service import ReaderBot
from bot.web.app import create_app
from bot.web.context import WebContext
from bot.web.webhook import SECRET_HEADER, webhook_route
from tests.fakes.telegram_api import FakeTelegram, message_update
from tests.telegram_bot.conftest import FR, Chat, reader_settings
from tests.telegram_bot.test_lifecycle import WebhookTelegram

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


async def test_the_webhook_is_served_by_the_dashboard(storage: Storage, clock: FakeClock) -> None:
    """With web: set, the webhook rides on the dashboard's app: no second server, no polling."""
    with WebhookTelegram(long_poll_cap=0.2) as tg:
        tg.set_chat(FR, type="private", first_name="Awa")
        settings = reader_settings(tg)
        hook = WebhookSettings(
            url="https://relais.bamada.example/telegram/hook",
            port=1,  # never opened: the dashboard's port serves the webhook
            secret_token=SecretStr("s3cret-Token_1"),
        )
        settings = settings.model_copy(
            update={
                "telegram": settings.telegram.model_copy(update={"webhook": hook}),
                "web": WebSettings(base_url=BASE),
            }
        )
        async with ReaderBot(settings, storage, clock=clock) as reader:
            [registered] = tg.webhooks
            assert registered["url"] == hook.url and registered["secret_token"] == "s3cret-Token_1"
            route = webhook_route(settings, lambda: reader.feed_update)
            assert route is not None
            ctx = WebContext(settings=settings, storage=storage, clock=clock)
            app = create_app(ctx, extra_routes=[route])
            update = {"update_id": 1, **message_update("/help", chat_id=FR, user_id=FR)}
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
                wrong = {SECRET_HEADER: "nope"}
                assert (
                    await http.post("/telegram/hook", json=update, headers=wrong)
                ).status_code == 403
                right = {SECRET_HEADER: "s3cret-Token_1"}
                assert (
                    await http.post("/telegram/hook", json=update, headers=right)
                ).status_code == 200
                assert (
                    await http.post("/telegram/hook", content=b"{", headers=right)
                ).status_code == 400
            await Chat(tg, FR)._wait(lambda: tg.calls("sendMessage"), 1, 5)
            assert tg.calls("getUpdates") == []
        [reply] = tg.calls("sendMessage")
        assert reply.params["text"].startswith("Voici ce que je sais faire")

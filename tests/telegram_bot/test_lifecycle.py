"""Starting and stopping the reader bot: commands, long polling, webhook, shared bot, bad token."""

from __future__ import annotations

import importlib.util
import json
import socket
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from telegram.error import NetworkError
from telegram.ext import ExtBot

from bot.clock import FakeClock
from bot.errors import PublishError
from bot.settings import WebhookSettings
from bot.storage.store import Storage
from bot.telegram_bot.service import ReaderBot, WebhookUnavailableError
from tests.builders import BAMADA
from tests.fakes.telegram_api import FakeTelegram, UploadedFile, message_update
from tests.telegram_bot.conftest import ADMIN, FR, START, Chat, reader_settings, record


async def test_start_registers_commands_in_both_languages_and_polls(
    tg: FakeTelegram, storage: Storage, clock: FakeClock, bot: ExtBot[Any]
) -> None:
    tg.push_update(message_update("/help", chat_id=FR, user_id=FR))  # sent while the bot was off
    reader = ReaderBot(reader_settings(tg), storage, bot=bot, clock=clock, poll_timeout=1)
    await reader.start()
    try:
        await Chat(tg, FR)._wait(lambda: tg.calls("sendMessage"), 1, 5)
        calls = tg.calls("setMyCommands")
        by_scope = {
            (c.params.get("language_code"), json.dumps(c.params.get("scope"), sort_keys=True)): (
                c.params
            )
            for c in calls
        }
        fr = by_scope[("fr", "null")]["commands"]
        en = by_scope[("en", "null")]["commands"]
        default = by_scope[(None, "null")]["commands"]
        scope = json.dumps({"type": "chat", "chat_id": ADMIN}, sort_keys=True)
        admin = by_scope[(None, scope)]["commands"]
        assert fr[0] == {"command": "latest", "description": "Les derniers articles"}
        assert en[0] == {"command": "latest", "description": "The latest articles"}
        assert default == fr  # the site speaks French
        assert [c["command"] for c in admin][-9:] == [
            "status",
            "queue",
            "pause",
            "resume",
            "retry",
            "skip",
            "post",
            "preview",
            "web",
        ]
        polls = tg.calls("getUpdates")
        assert polls[0].params["allowed_updates"] == ["message", "callback_query"]
        assert tg.calls("deleteWebhook")[0].params.get("drop_pending_updates") == "false"
        # the update sent while the bot was off was answered (pending updates are kept)
        assert tg.calls("sendMessage")[0].params["chat_id"] == str(FR)
    finally:
        await reader.stop()
    # the shared bot stays open for the publishers; its owner shuts it down
    assert (await bot.get_me()).username == tg.bot_username


async def test_a_bot_of_its_own_is_shut_down_with_it(
    tg: FakeTelegram, storage: Storage, clock: FakeClock
) -> None:
    async with ReaderBot(reader_settings(tg), storage, clock=clock, poll_timeout=1) as reader:
        assert reader.application.running
    assert not reader.application.running
    with pytest.raises(NetworkError, match="not initialized"):
        await reader.bot.get_me()  # closed with the application


async def test_commands_off_answers_nothing_but_still_broadcasts(
    tg: FakeTelegram, storage: Storage, clock: FakeClock, bot: ExtBot[Any]
) -> None:
    settings = reader_settings(tg, commands=False)
    reader = ReaderBot(settings, storage, bot=bot, clock=clock, poll_timeout=1)
    await reader.start()
    try:
        tg.push_update(message_update("/help", chat_id=FR, user_id=FR))
        reader.readers.subscribe(FR, FR, "securite", "Sécurité", START)
        item = BAMADA.article(1, categories=("Sécurité",), published=START)
        record(storage, [item])
        reader.on_new_articles([item], START)
        assert await reader.deliver_broadcasts() == 1
        # Nothing polls, so no getUpdates can come later (with commands on, start() would have
        # called deleteWebhook before returning: polling starts with it).
        assert reader.application.updater is not None
        assert not reader.application.updater.running
        assert tg.calls("getUpdates") == [] and tg.calls("deleteWebhook") == []
        assert tg.calls("setMyCommands") == []
        [message] = tg.calls("sendMessage")
        assert message.params["text"].startswith("🔔 <b>Sécurité</b>")
    finally:
        await reader.stop()


async def test_a_refused_token_stops_the_start_without_quoting_it(
    tg: FakeTelegram, storage: Storage, clock: FakeClock
) -> None:
    tg.revoke_token(tg.token)
    reader = ReaderBot(reader_settings(tg), storage, clock=clock, poll_timeout=1)
    with pytest.raises(PublishError) as caught:
        await reader.start()
    assert tg.token not in str(caught.value)
    assert "refuse le jeton du bot" in str(caught.value)
    await reader.bot.shutdown()


class WebhookTelegram(FakeTelegram):
    """The fake Bot API, plus setWebhook (which long polling never calls)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.webhooks: list[dict[str, Any]] = []

    def _m_setWebhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.webhooks.append(params)
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(
    importlib.util.find_spec("tornado") is None,
    reason="webhook mode needs python-telegram-bot[webhooks] (tornado)",
)
async def test_webhook_mode(storage: Storage, clock: FakeClock) -> None:
    with WebhookTelegram(long_poll_cap=0.2) as tg:
        tg.set_chat(FR, type="private", first_name="Awa")
        port = free_port()
        settings = reader_settings(tg)
        hook = WebhookSettings(
            url="https://relais.example/telegram/hook",
            listen="127.0.0.1",
            port=port,
            secret_token=SecretStr("s3cret-Token_1"),
        )
        settings = settings.model_copy(
            update={"telegram": settings.telegram.model_copy(update={"webhook": hook})}
        )
        async with ReaderBot(settings, storage, clock=clock) as _reader:
            [registered] = tg.webhooks
            assert registered["url"] == "https://relais.example/telegram/hook"
            assert registered["secret_token"] == "s3cret-Token_1"
            assert registered["allowed_updates"] == ["message", "callback_query"]
            assert tg.calls("getUpdates") == []
            update = {"update_id": 1, **message_update("/help", chat_id=FR, user_id=FR)}
            url = f"http://127.0.0.1:{port}/telegram/hook"
            async with httpx.AsyncClient() as client:
                wrong = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
                )
                assert wrong.status_code == 403
                right = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
                )
                assert right.status_code == 200
            await Chat(tg, FR)._wait(lambda: tg.calls("sendMessage"), 1, 5)
            [reply] = tg.calls("sendMessage")
            assert reply.params["text"].startswith("Voici ce que je sais faire")


async def test_webhook_mode_without_its_server_says_what_to_install(
    tg: FakeTelegram, storage: Storage, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = reader_settings(tg)
    hook = WebhookSettings(url="https://relais.example/hook")
    settings = settings.model_copy(
        update={"telegram": settings.telegram.model_copy(update={"webhook": hook})}
    )
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tornado" else real(name, *a)
    )
    reader = ReaderBot(settings, storage, clock=clock)
    with pytest.raises(WebhookUnavailableError, match=r"python-telegram-bot\[webhooks\]"):
        await reader.start()
    await reader.bot.shutdown()

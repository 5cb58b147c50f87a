"""Fixtures for the Telegram tests: the fake Bot API server and real python-telegram-bot clients."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.clock import FakeClock
from bot.models import ChannelType, TelegramPost
from bot.publishers.telegram import BotTimeouts, TelegramPublisher, make_bot
from bot.settings import ChannelSettings, TelegramSettings
from tests.fakes.http_base import closed_port
from tests.fakes.telegram_api import FakeTelegram

CHANNEL_ID = -1001234567890
CHANNEL = "@bamada_net"
ARTICLE = "https://bamada.net/2026/11/02/le-fleuve-niger-en-crue/"
# Short timeouts: nothing here waits for a real network.
FAST = BotTimeouts(connect=2.0, read=3.0, write=3.0, media_write=3.0, pool=1.0)


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to python-telegram-bot's timedelta durations: with the int form, building a
    RetryAfter emits a deprecation warning, which this test suite turns into an error."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        fake.set_chat(CHANNEL_ID, username="bamada_net", title="Bamada.net")
        yield fake


def telegram_settings(tg: FakeTelegram, *, token: str | None = None, **kw: Any) -> TelegramSettings:
    return TelegramSettings(
        token=SecretStr(token if token is not None else tg.token),
        api_url=kw.pop("api_url", tg.base_url),
        **kw,
    )


def channel(chat: str = CHANNEL, **kw: Any) -> ChannelSettings:
    return ChannelSettings(id=kw.pop("id", "tg-main"), type=ChannelType.TELEGRAM, chat=chat, **kw)


def post(**kw: Any) -> TelegramPost:
    values: dict[str, Any] = {
        "method": "sendMessage",
        "text": "<b>Le fleuve Niger en crue à Bamako</b>\n\nLes eaux ont atteint un niveau record.",
        "photo": None,
        "buttons": ((("Lire l'article", ARTICLE),),),
        "link": ARTICLE,
        "silent": False,
    }
    values.update(kw)
    return TelegramPost(**values)


async def open_bot(
    tg: FakeTelegram,
    *,
    token: str | None = None,
    rate_limited: bool = False,
    timeouts: BotTimeouts = FAST,
    **kw: Any,
) -> ExtBot[Any]:
    bot = make_bot(
        telegram_settings(tg, token=token, **kw), rate_limited=rate_limited, timeouts=timeouts
    )
    # With a bad token initialize() fails, but its connections are open: the caller shuts down.
    with contextlib.suppress(TelegramError):
        await bot.initialize()
    return bot


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[ExtBot[Any]]:
    client = await open_bot(tg)
    yield client
    await client.shutdown()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def publisher(bot: ExtBot[Any], clock: FakeClock) -> AsyncIterator[TelegramPublisher]:
    pub = TelegramPublisher(channel(), bot, clock=clock)
    yield pub
    await pub.aclose()


@pytest.fixture
def unused_port() -> int:
    """A local port where nothing listens (connections are refused)."""
    return closed_port()

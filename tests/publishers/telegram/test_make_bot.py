"""make_bot: base URL (with a `{token}` placeholder), timeouts, rate limiter; initialize_bot."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from telegram.ext import AIORateLimiter
from telegram.request import HTTPXRequest

from bot.delivery.telegram_rates import BOT_WIDE_PER_SECOND, PER_CHANNEL_PER_MINUTE
from bot.errors import TransientError
from bot.publishers.telegram import (
    BotTimeouts,
    InvalidTokenError,
    initialize_bot,
    make_bot,
)
from bot.publishers.telegram.client import _file_url
from bot.settings import TelegramSettings
from tests.fakes.telegram_api import FakeTelegram, Reply
from tests.publishers.telegram.conftest import telegram_settings


async def test_token_placeholder_in_api_url(tg: FakeTelegram) -> None:
    bot = make_bot(telegram_settings(tg, api_url=f"{tg.url}/bot{{token}}"), rate_limited=False)
    async with bot:
        me = await bot.get_me()
    assert me.username == tg.bot_username
    assert {c.token for c in tg.calls("getMe")} == {tg.token}
    assert bot.base_url == f"{tg.url}/bot{tg.token}"
    assert bot.base_file_url == f"{tg.url}/file/bot{tg.token}"


async def test_plain_api_url_gets_the_token_appended(tg: FakeTelegram) -> None:
    bot = make_bot(telegram_settings(tg), rate_limited=False)
    assert bot.base_url == f"{tg.base_url}{tg.token}"
    assert bot.base_file_url == f"{tg.url}/file/bot{tg.token}"


def test_default_api_url() -> None:
    bot = make_bot(TelegramSettings(token=SecretStr("123:abc")))
    assert bot.base_url == "https://api.telegram.org/bot123:abc"
    assert bot.base_file_url == "https://api.telegram.org/file/bot123:abc"


@pytest.mark.parametrize(
    ("api_url", "file_url"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("http://localhost:8081/bot{token}", "http://localhost:8081/file/bot{token}"),
        ("http://proxy.local/tg/", "http://proxy.local/tg/"),
    ],
)
def test_file_url(api_url: str, file_url: str) -> None:
    assert _file_url(api_url) == file_url


def test_explicit_timeouts_and_rate_limiter() -> None:
    settings = TelegramSettings(token=SecretStr("123:abc"))
    bot = make_bot(settings, timeouts=BotTimeouts(connect=3, read=4, write=5, pool=6))
    assert isinstance(bot.request, HTTPXRequest)
    assert (bot.request.read_timeout, bot.request._client.timeout.connect) == (4, 3)
    assert bot.request._client.timeout.write == 5
    assert bot.request._client.timeout.pool == 6
    assert isinstance(bot.rate_limiter, AIORateLimiter)
    assert make_bot(settings, rate_limited=False).rate_limiter is None
    default = make_bot(settings)
    assert default.request.read_timeout == BotTimeouts().read


def test_rate_limiter_paces_at_telegrams_documented_rates() -> None:
    limiter = make_bot(TelegramSettings(token=SecretStr("123:abc"))).rate_limiter
    assert isinstance(limiter, AIORateLimiter)
    base = limiter._base_limiter
    assert (base.max_rate, base.time_period) == (BOT_WIDE_PER_SECOND, 1)
    assert (limiter._group_max_rate, limiter._group_time_period) == (PER_CHANNEL_PER_MINUTE, 60)
    assert limiter._max_retries == 0  # a 429 reaches the outbox, which decides
    assert BOT_WIDE_PER_SECOND < 30  # one below Telegram's 30 a second (bench/fanout.py)


def test_no_token_is_an_invalid_token() -> None:
    with pytest.raises(InvalidTokenError, match="no Telegram bot token"):
        make_bot(TelegramSettings())
    with pytest.raises(InvalidTokenError):
        make_bot(TelegramSettings(token=SecretStr("  ")))


async def test_rate_limiter_does_not_retry_a_429_itself(tg: FakeTelegram) -> None:
    bot = make_bot(telegram_settings(tg))
    async with bot:
        tg.inject("getChat", Reply.flood(60))
        from telegram.error import RetryAfter

        with pytest.raises(RetryAfter):
            await bot.get_chat("@bamada_net")
    assert len(tg.calls("getChat")) == 1


async def test_initialize_bot(tg: FakeTelegram) -> None:
    bot = make_bot(telegram_settings(tg), rate_limited=False)
    try:
        me = await initialize_bot(bot)
    finally:
        await bot.shutdown()
    assert me.username == tg.bot_username


async def test_initialize_bot_with_a_bad_token_hides_it(tg: FakeTelegram) -> None:
    token = "7012345678:AAF-wrong-token-for-initialize-wwwwwwwwwwww"
    bot = make_bot(telegram_settings(tg, token=token), rate_limited=False)
    try:
        with pytest.raises(InvalidTokenError) as caught:
            await initialize_bot(bot)
    finally:
        await bot.shutdown()
    assert token not in str(caught.value)
    assert caught.value.__cause__ is None  # PTB's own message quotes the token: not chained


async def test_initialize_bot_when_telegram_is_down(tg: FakeTelegram) -> None:
    bot = make_bot(telegram_settings(tg), rate_limited=False)
    tg.inject("getMe", Reply.bad_gateway())
    try:
        with pytest.raises(TransientError):
            await initialize_bot(bot)
    finally:
        await bot.shutdown()

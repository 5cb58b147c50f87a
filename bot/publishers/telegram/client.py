"""The shared Bot API client: python-telegram-bot's bot, its HTTP pools, timeouts and limiter."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from typing import Any

import certifi
from telegram import Bot, User
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.delivery.telegram_rates import (
    BOT_WIDE_BURST,
    BOT_WIDE_PER_SECOND,
    PER_CHANNEL_PER_MINUTE,
)
from bot.publishers.telegram.errors import InvalidTokenError, raise_translated
from bot.publishers.telegram.updates import screen_payload
from bot.secrets import redact_in_logs
from bot.settings import TelegramSettings
from bot.telegram_bot.messages import Lang

# Loggers that may print a URL (which holds the token): httpx logs every request at INFO, and
# python-telegram-bot logs its base URL at DEBUG and the token itself when initialize() fails.
_TOKEN_LOGGERS = (
    "httpx",
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    "telegram.ext.AIORateLimiter",
    "telegram.ext.Updater",
    "telegram.ext.Application",
)


def redact_token_in_logs(token: str) -> None:
    """Keep `token` out of the logs of httpx and python-telegram-bot (idempotent)."""
    redact_in_logs(token, loggers=_TOKEN_LOGGERS)


@dataclass(frozen=True, slots=True)
class BotTimeouts:
    """HTTP timeouts (seconds) of the Bot API client; a read timeout on a send is ambiguous."""

    connect: float = 10.0
    read: float = 20.0
    write: float = 20.0
    media_write: float = 60.0
    pool: float = 5.0


def chat_param(chat: int | str) -> int | str:
    """'@name' stays a string; '-100123' becomes the int Telegram expects."""
    if isinstance(chat, int):
        return chat
    text = chat.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _file_url(api_url: str) -> str:
    """The file download base matching an API base: …/bot → …/file/bot."""
    head, sep, tail = api_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else api_url


class ScreenedUpdatesRequest(HTTPXRequest):
    """The getUpdates connection: an update the library cannot read is replaced by an empty one
    (`updates.screen_updates`), so it is skipped once instead of failing the whole batch again
    and again (python-telegram-bot retries a batch it cannot parse forever)."""

    async def do_request(self, url: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(url, *args, **kwargs)
        if code == 200 and url.endswith("/getUpdates"):
            payload = screen_payload(payload)
        return code, payload


def make_bot(
    settings: TelegramSettings,
    *,
    rate_limited: bool = True,
    timeouts: BotTimeouts | None = None,
) -> ExtBot[Any]:
    """The shared Bot API client: `settings.api_url` (a `{token}` in it is replaced), explicit
    timeouts, and python-telegram-bot's AIORateLimiter at Telegram's rates
    (delivery/telegram_rates.py) that never retries by itself, so a 429 reaches the outbox as a
    TransientError.

    The caller owns the bot: `async with bot:` (or initialize/shutdown) around its use.
    """
    token = settings.token.get_secret_value().strip() if settings.token is not None else ""
    if not token:
        raise InvalidTokenError("no Telegram bot token is configured (telegram.token)")
    redact_token_in_logs(token)
    t = timeouts or BotTimeouts()
    # One TLS context (httpx's default: certifi's CA bundle) for both connection pools: loading
    # the bundle is the slow part of creating an HTTP client.
    tls = {"verify": ssl.create_default_context(cafile=certifi.where())}
    request = HTTPXRequest(
        connection_pool_size=256,
        connect_timeout=t.connect,
        read_timeout=t.read,
        write_timeout=t.write,
        media_write_timeout=t.media_write,
        pool_timeout=t.pool,
        httpx_kwargs=tls,
    )
    # getUpdates has its own connection; python-telegram-bot adds the long-poll time to `read`.
    updates_request = ScreenedUpdatesRequest(
        connection_pool_size=1,
        connect_timeout=t.connect,
        read_timeout=t.read,
        write_timeout=t.write,
        pool_timeout=t.pool,
        httpx_kwargs=tls,
    )
    limiter = (
        AIORateLimiter(
            overall_max_rate=BOT_WIDE_BURST,
            overall_time_period=BOT_WIDE_BURST / BOT_WIDE_PER_SECOND,
            group_max_rate=PER_CHANNEL_PER_MINUTE,
            group_time_period=60,
            max_retries=0,
        )
        if rate_limited
        else None
    )
    return ExtBot(
        token,
        base_url=settings.api_url,
        base_file_url=_file_url(settings.api_url),
        request=request,
        get_updates_request=updates_request,
        rate_limiter=limiter,
    )


async def initialize_bot(bot: Bot, *, lang: Lang = "fr") -> User:
    """`bot.initialize()` (which checks the token with getMe), with Relais errors: python-telegram-
    bot's own InvalidToken message quotes the token, this one never does. Returns the bot's user.
    Shut the bot down even when this fails: its connections are open by then."""
    try:
        await bot.initialize()
    except TelegramError as err:
        raise_translated(err, secrets=(bot.token,), lang=lang)
    return bot.bot

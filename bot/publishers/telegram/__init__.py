"""Telegram channels via python-telegram-bot: client, errors, publisher and check."""

from bot.publishers.checkline import CheckLine
from bot.publishers.telegram.check import BOT_CHECK_ID, check_channels
from bot.publishers.telegram.client import (
    BotTimeouts,
    initialize_bot,
    make_bot,
    redact_token_in_logs,
)
from bot.publishers.telegram.errors import (
    InvalidTokenError,
    TelegramFailure,
    map_failure,
    photo_refusal,
    retry_after_seconds,
    translate_error,
)
from bot.publishers.telegram.publisher import TelegramPublisher
from bot.secrets import scrub

__all__ = [
    "BOT_CHECK_ID",
    "BotTimeouts",
    "CheckLine",
    "InvalidTokenError",
    "TelegramFailure",
    "TelegramPublisher",
    "check_channels",
    "initialize_bot",
    "make_bot",
    "map_failure",
    "photo_refusal",
    "redact_token_in_logs",
    "retry_after_seconds",
    "scrub",
    "translate_error",
]

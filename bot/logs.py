"""Logging set-up for the command line, with every secret filtered out of every line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from bot.secrets import SecretFilter


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time of the record (it may be replaced)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        return None


def setup_logging(level: int, secrets: Iterable[str] = ()) -> None:
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and a Telegram URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # With max_retries=0 the rate limiter logs a traceback for every 429 it passes on; the
    # outbox already logs each one, with what it will do about it.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    # A 502 with an HTML body: python-telegram-bot logs an ERROR with a traceback for the JSON
    # it cannot read, then raises; the outbox (or the updater's error callback) logs one warning
    # line for it, with what happens next.
    logging.getLogger("telegram.request.BaseRequest").setLevel(logging.CRITICAL)

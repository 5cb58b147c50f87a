"""Logging set-up, with a filter that removes every secret from every log line."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

_TOKEN_SHAPES = (
    re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b"),  # Telegram bot tokens
    re.compile(r"(access_token=)[^&\s\"']+"),  # Graph API tokens in URLs
    re.compile(r"(input_token=)[^&\s\"']+"),
)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove the given secrets and anything shaped like a token from `text`."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "***")
    for shape in _TOKEN_SHAPES:
        text = shape.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


class SecretFilter(logging.Filter):
    """Rewrites each record's message (and traceback) without the secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(formatted, self.secrets)
            record.exc_info = None
        return True


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

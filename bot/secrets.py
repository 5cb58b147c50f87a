"""Keeping secrets out of messages and logs: one scrubber and one logging filter for everything."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

REDACTED = "***"

# A bot token as BotFather issues it: the bot id, a colon, 35 URL-safe characters.
_BOT_TOKEN = re.compile(r"(?<![0-9])[0-9]{5,}:[A-Za-z0-9_-]{30,}")
# Graph API secrets as URL parameters or JSON fields (requests' errors quote whole URLs).
_SECRET_PARAMS = re.compile(
    r"(?i)\b(access_token|input_token|fb_exchange_token|client_secret)"
    r"""(=|['"]?\s*:\s*['"]?)([^&\s'"<>,}]+)"""
)


PREFIX_SHOWN = 12
"""Any piece of a secret this long, from its start, is the secret (an API's error may quote
only the first 30 characters of a token)."""


@lru_cache(maxsize=256)
def _secret_pattern(secret: str) -> re.Pattern[str]:
    """The secret, or any prefix of it of PREFIX_SHOWN characters or more, in any letter case
    (python-telegram-bot capitalises error messages)."""
    if len(secret) <= PREFIX_SHOWN:
        return re.compile(re.escape(secret), re.IGNORECASE)
    tail = "".join(f"(?:{re.escape(c)}" for c in secret[PREFIX_SHOWN:])
    closing = ")?" * (len(secret) - PREFIX_SHOWN)
    return re.compile(re.escape(secret[:PREFIX_SHOWN]) + tail + closing, re.IGNORECASE)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secrets (raw or URL-encoded, in any letter case, or any 12+
    character prefix of one), anything shaped like a bot token, nor the value of any
    `access_token=`-like parameter."""
    text = _BOT_TOKEN.sub(REDACTED, text)
    # Longest first: a shorter secret that starts another one (or a piece of it) must not cut
    # the longer one's start away, or its rest would no longer be recognised.
    forms = {f for s in secrets if s for f in (s, quote(s, safe=""), quote_plus(s))}
    for form in sorted(forms, key=len, reverse=True):
        text = _secret_pattern(form).sub(REDACTED, text)
    return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def mentions_secret(text: str, secrets: Iterable[str] = ()) -> bool:
    return scrub(text, secrets) != text


class SecretFilter(logging.Filter):
    """Rewrites a record's message and traceback without the secrets it knows (and without
    anything shaped like a token). `secrets` can grow after the filter is installed."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = {s for s in secrets if s}

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        clean = scrub(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            clean = scrub(text, self.secrets)
            if clean != text:
                record.exc_text, record.exc_info = clean, None
        return True


def redact_in_logs(*secrets: str, loggers: Iterable[str]) -> None:
    """Attach one SecretFilter to each named logger (once) and teach it these secrets.

    Libraries log request URLs (httpx at INFO, urllib3 at DEBUG), and those URLs carry tokens;
    a filter on the library's own logger works whatever handlers the application set up.
    """
    for name in loggers:
        logger = logging.getLogger(name)
        found = next((f for f in logger.filters if isinstance(f, SecretFilter)), None)
        if found is None:
            found = SecretFilter()
            logger.addFilter(found)
        found.secrets.update(s for s in secrets if s)

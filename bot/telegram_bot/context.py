"""What every handler shares: settings, stores, clock, admin hooks, topics cache, replies."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Update, User
from telegram.constants import ParseMode

from bot.clock import Clock
from bot.log_limit import LogLimiter
from bot.models import Article, Delivery, Subscriber, Topic
from bot.settings import Settings
from bot.storage.readers import ReaderStore
from bot.storage.store import Storage
from bot.telegram_bot.command_limit import CommandLimiter
from bot.telegram_bot.messages import Lang, pick_lang
from bot.telegram_bot.search import topic_key

log = logging.getLogger("relais.readers")

TOPICS_TTL = timedelta(minutes=5)
INPUT_MAX = 300  # characters of a command's argument a handler looks at

FetchArticle = Callable[[str], Awaitable[Article | None]]
Enqueue = Callable[[Article], Awaitable[list[str]]]
Urgent = Callable[[Article], Awaitable[list[tuple[str, str]]]]
Delete = Callable[[Delivery, str], Awaitable[str | None]]


@dataclass(frozen=True)
class AdminHooks:
    """What admin commands need from the service (`delivery/post_url.py` and the service loop
    implement them; `bot/app.py` wires them in):

    * `fetch_article(url)`: fetch and parse the article at a URL of a configured site (None when
      there is none); the bot itself fetches nothing.
    * `enqueue(article)`: record it and queue it for the channels; returns the channel ids.
    * `urgent(article)`: /urgent — post it at once on each channel that may; returns
      (channel id, what was done or why not).
    * `delete(delivery, by)`: /delete — remove the sent post; why not, else None.
    * `wake()`: the outbox has new work (after /retry, /resume, /post): deliver now.
    """

    fetch_article: FetchArticle | None = None
    enqueue: Enqueue | None = None
    urgent: Urgent | None = None
    delete: Delete | None = None
    wake: Callable[[], None] | None = None


def topic_token(key: str) -> str:
    """A short stable token for a topic key, for callback data (64 bytes at most)."""
    return hashlib.blake2s(key.encode("utf-8"), digest_size=6).hexdigest()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_input(value: str, limit: int = INPUT_MAX) -> str:
    """A reader's text made harmless: no control characters (PostgreSQL refuses NUL), no
    invisible format characters, single spaces, at most `limit` characters."""
    value = _CONTROL.sub(" ", value)
    value = "".join(c for c in value if unicodedata.category(c) not in {"Cf", "Cs", "Co"})
    return " ".join(value.split())[:limit]


@dataclass
class TopicCache:
    """The site's topics, re-read at most every TOPICS_TTL (or when new articles arrive)."""

    readers: ReaderStore
    clock: Clock
    _topics: list[Topic] = field(default_factory=list)
    _read_at: datetime | None = None

    def _stale(self, now: datetime) -> bool:
        return self._read_at is None or now - self._read_at >= TOPICS_TTL or now < self._read_at

    def get(self) -> list[Topic]:
        now = self.clock.now()
        if self._stale(now):
            self._topics = self.readers.topics(topic_key)
            self._read_at = now
        return self._topics

    async def refresh(self) -> None:
        """Re-read the topics in a worker thread when stale (a scan of every article's
        categories), so that the loop keeps answering meanwhile."""
        now = self.clock.now()
        if self._stale(now):
            self._topics = await asyncio.to_thread(self.readers.topics, topic_key)
            self._read_at = now

    def invalidate(self) -> None:
        self._read_at = None

    def by_key(self) -> dict[str, str]:
        return {t.key: t.label for t in self.get()}


@dataclass
class MalformedUpdates:
    """Updates skipped because the library could not read them: counted, and logged at most
    once a minute (with the count of those held back)."""

    count: int = 0
    limiter: LogLimiter = field(default_factory=LogLimiter)

    def note(self, update_id: int, error: str, now: float) -> None:
        self.count += 1
        held = self.limiter.allow("malformed", now)
        if held:
            log.warning(
                "skipped a malformed update %s (%s): %d in the last minute, %d since start",
                update_id,
                error,
                held,
                self.count,
            )


@dataclass
class BotContext:
    settings: Settings
    storage: Storage
    readers: ReaderStore
    clock: Clock
    hooks: AdminHooks
    limiter: CommandLimiter
    topics: TopicCache
    token: str
    malformed: MalformedUpdates = field(default_factory=MalformedUpdates)
    error_log: LogLimiter = field(default_factory=LogLimiter)
    """Handlers' failures: the same one logged at most once a minute."""

    @property
    def admins(self) -> frozenset[int]:
        return frozenset(self.settings.telegram.admins)

    def is_admin(self, user: User | None) -> bool:
        return user is not None and user.id in self.admins

    def reader(self, user: User) -> tuple[Subscriber | None, Lang]:
        """The reader's stored row (None: we keep nothing) and the language to answer in."""
        row = self.readers.subscriber(user.id)
        if row is not None and user.language_code and row.telegram_language != user.language_code:
            self.readers.touch(user.id, user.language_code, self.clock.now())
        chosen = row.language if row else None
        code = user.language_code or (row.telegram_language if row else None)
        return row, pick_lang(chosen, code, self.settings.site.language)

    def lang(self, update: Update) -> Lang:
        user = update.effective_user
        if user is None:
            return pick_lang(None, None, self.settings.site.language)
        return self.reader(user)[1]


async def send(
    update: Update,
    context: Any,
    message: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
) -> Any:
    """Answer in the update's chat, as Telegram HTML, without link previews."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await context.bot.send_message(
        chat_id=chat.id,
        text=message,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )

"""Topic broadcasts and morning digests to subscribers: queued rows, paced sends, outcomes."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot.clock import Clock
from bot.content.teaser import article_teaser
from bot.delivery.outcome import READER, Answer, NotRendered, decide
from bot.delivery.telegram_rates import PER_CHAT_GAP
from bot.errors import (
    CredentialsError,
    PublishError,
    RecipientGoneError,
    StorageError,
    TransientError,
)
from bot.models import (
    Article,
    Claimed,
    DeliveryState,
    NewArticle,
    Outcome,
    PublishResult,
    SkipReason,
)
from bot.publishers.telegram import retry_after_seconds, translate_error
from bot.secrets import scrub
from bot.settings import Settings
from bot.storage.outbox import stale_before
from bot.storage.readers import ReaderStore
from bot.telegram_bot.messages import Lang, pick_lang, text
from bot.telegram_bot.search import search_text, topic_key
from bot.telegram_bot.views import broadcast_text, digest_text

log = logging.getLogger("relais.readers")

BATCH = 40  # rows claimed at once; sent concurrently, the bot's rate limiter paces them
BROADCAST_MAX_AGE = timedelta(days=2)  # an older article is not pushed to anyone
DIGEST_MAX_SPAN = timedelta(days=3)  # a digest never reaches further back than this
DIGEST_MAX_ARTICLES = 15
TEASER_BUDGET = 300
INDEX_BATCH = 100
TOKEN_HOLD = timedelta(minutes=1)  # after Telegram refused the token, wait this long

# Telegram's answers that mean this reader cannot be written to any more (as well as Forbidden:
# the bot was blocked, the account deactivated).
_GONE = ("chat not found", "user is deactivated", "peer_id_invalid", "user not found")


def classify(err: TelegramError, token: str) -> PublishError:
    """Our error for a failed private message: a reader who blocked the bot (or is gone) first,
    then the channels' table (`translate_error`). `bot/delivery/outcome.py` decides the rest."""
    secrets = (token,)
    if isinstance(err, InvalidToken):
        return CredentialsError("Telegram refused the bot token")
    if isinstance(err, Forbidden):
        return RecipientGoneError(f"blocked or gone: {scrub(err.message, secrets)}")
    if isinstance(err, RetryAfter):
        seconds = retry_after_seconds(err)
        return TransientError(f"flood control: retry in {seconds:g} s", retry_after=seconds)
    if isinstance(err, BadRequest) and any(g in err.message.lower() for g in _GONE):
        return RecipientGoneError(f"gone: {scrub(err.message, secrets)}")
    return translate_error(err, secrets=secrets)


def is_baseline(item: NewArticle) -> bool:
    """Whether the poller recorded this article as already in the feed on its first poll."""
    return bool(item.decisions) and all(
        reason is SkipReason.BASELINE for _c, reason in item.decisions
    )


class Broadcaster:
    """Sends topic broadcasts and digests through the shared bot, one row per message."""

    def __init__(
        self,
        settings: Settings,
        readers: ReaderStore,
        bot: Any,
        *,
        clock: Clock,
        worker: str,
        is_postgres: bool,
        rand: Callable[[], float] = random.random,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.readers = readers
        self.bot = bot
        self.clock = clock
        self.worker = worker
        self.is_postgres = is_postgres
        self._rand = rand
        self._on_change = on_change
        self._round = asyncio.Lock()
        self._strip = {f.id: f.strip for f in settings.feeds}
        self._teasers: dict[str, str] = {}
        self._articles: dict[str, Article] = {}
        self._hold_until: datetime | None = None  # the token was refused: wait before trying

    # ---- new articles -------------------------------------------------------------------

    def _search_text(self, article: Article) -> str:
        return search_text(
            article,
            site_name=self.settings.site.name,
            extra_patterns=self._strip.get(article.feed_id, ()),
        )

    def on_new_articles(
        self, articles: Sequence[Article | NewArticle], now: datetime, *, baseline: bool = False
    ) -> int:
        """Index new articles for /search and queue one broadcast per subscriber of their
        topics. Republished copies, first-poll baselines and articles older than
        BROADCAST_MAX_AGE are indexed but pushed to no one. Returns the broadcasts queued."""
        plain: list[Article] = []
        pushed: list[Article] = []
        for item in articles:
            if isinstance(item, NewArticle):
                plain.append(item.article)
                if item.duplicate_of is None and not is_baseline(item) and not baseline:
                    pushed.append(item.article)
            else:
                plain.append(item)
                if not baseline:
                    pushed.append(item)
        recorded = self.readers.existing_keys([a.key for a in plain])
        if len(recorded) < len({a.key for a in plain}):
            log.warning("on_new_articles: articles that are not recorded were ignored")
        self.readers.index((a.key, self._search_text(a)) for a in plain if a.key in recorded)
        queued = 0
        for article in pushed:
            if article.key not in recorded:
                continue
            if article.published is not None and article.published < now - BROADCAST_MAX_AGE:
                continue
            topics = {topic_key(c): c.strip() for c in article.categories if topic_key(c)}
            queued += self.readers.enqueue_broadcasts(article.key, topics, now, due=now)
        if queued:
            log.info("%d broadcast(s) queued for %d new article(s)", queued, len(pushed))
            self._on_change()
        return queued

    def index_backlog(self, limit: int = INDEX_BATCH) -> int:
        """Index articles recorded without search text (bot off, or a version-1 database)."""
        missing = self.readers.unindexed(limit)
        if missing:
            self.readers.index((a.key, self._search_text(a)) for a in missing)
        return len(missing)

    # ---- recovery -----------------------------------------------------------------------

    def recover(self) -> dict[str, int]:
        """Rows a stopped process left in `sending` become `unknown` (never re-sent on their
        own: the message may have gone out). Called at start and before each round; rounds of
        this process never overlap, so none of ours is in flight then."""
        now = self.clock.now()
        older = stale_before(now, is_postgres=self.is_postgres)
        found = self.readers.recover(now, older_than=older)
        if any(found.values()):
            log.warning(
                "%d broadcast(s) and %d digest(s) were left in 'sending' by a stopped process: "
                "outcome unknown, not sent again",
                found.get("broadcasts", 0),
                found.get("digests", 0),
            )
        return found

    # ---- sending ------------------------------------------------------------------------

    def _lang(self, row: Claimed) -> Lang:
        return pick_lang(row.language, None, self.settings.site.language)

    def _article(self, key: str) -> Article:
        if key not in self._articles:
            if len(self._articles) > 256:
                self._articles.clear()
                self._teasers.clear()
            self._articles[key] = self.readers.article(key)
        return self._articles[key]

    def _teaser(self, article: Article) -> str:
        if article.key not in self._teasers:
            self._teasers[article.key] = article_teaser(
                article,
                TEASER_BUDGET,
                site_name=self.settings.site.name,
                extra_patterns=self._strip.get(article.feed_id, ()),
            )
        return self._teasers[article.key]

    async def _send(
        self,
        row: Claimed,
        message: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        preview: LinkPreviewOptions | None = None,
    ) -> Answer:
        """Send one private message: Telegram's result, or what went wrong, as a value."""
        try:
            sent = await self.bot.send_message(
                chat_id=row.chat_id,
                text=message,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=preview or LinkPreviewOptions(is_disabled=True),
            )
        except TelegramError as err:
            return classify(err, self.bot.token)
        except StorageError:
            raise
        except Exception as err:  # a bug here must not send the message twice later
            log.exception("%s %s: unexpected error", "digest" if row.day else "broadcast", row.id)
            return err
        return PublishResult(str(int(sent.message_id)))

    def _decide(self, row: Claimed, answer: Answer) -> Outcome:
        return decide(
            answer, READER, attempts=row.attempts, now=self.clock.now(), rand=self._rand()
        )

    async def _send_broadcast(self, row: Claimed) -> tuple[Claimed, Outcome]:
        try:
            article = self._article(row.article_key or "")
            lang = self._lang(row)
            message = broadcast_text(article, row.topic or "", self._teaser(article), lang)
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(text(lang, "read_button"), url=article.url)]]
            )
            preview = LinkPreviewOptions(url=article.url, prefer_large_media=True)
        except StorageError:
            raise
        except Exception as err:  # nothing was sent: this message cannot be built
            log.exception("broadcast %s: cannot be rendered", row.id)
            return row, self._decide(row, NotRendered(f"{type(err).__name__}: {err}"))
        answer = await self._send(row, message, markup=markup, preview=preview)
        return row, self._decide(row, answer)

    async def deliver_broadcasts(self, stop: asyncio.Event | None = None) -> int:
        """Send every broadcast that is due, BATCH at a time; returns how many were sent.

        The bot's rate limiter paces the sends; a reader gets at most one message a second
        (delivery/telegram_rates.py). A round ends when nothing is due, on a 429 (the rows wait for
        retry_after), when the token is refused, or when `stop` is set (the batch in flight is
        finished and recorded first)."""
        sent = 0
        if self._hold_until is not None and self.clock.now() < self._hold_until:
            return 0
        async with self._round:
            self.recover()
            while stop is None or not stop.is_set():
                now = self.clock.now()
                claim = self.readers.claim_broadcasts(
                    now, limit=BATCH, worker=self.worker, chat_gap=PER_CHAT_GAP
                )
                if not claim.rows:
                    if claim.next_due is not None and claim.next_due <= now:
                        # due rows wait only for their reader's one-message-a-second gap
                        await self.clock.sleep(PER_CHAT_GAP.total_seconds())
                        continue
                    break
                done = await asyncio.gather(*(self._send_broadcast(r) for r in claim.rows))
                _left("broadcast", self.readers.finish_broadcasts(done, self.clock.now()))
                outcomes = [o for _row, o in done]
                sent += sum(1 for o in outcomes if o.state is DeliveryState.SENT)
                gone = sum(1 for o in outcomes if o.unsubscribe)
                if gone:
                    log.info("%d reader(s) blocked the bot or left: unsubscribed", gone)
                if self._held(outcomes):
                    log.error("broadcasts stopped: Telegram refused the bot token")
                    break
                if any(o.end_round for o in outcomes):
                    log.warning("broadcasts: Telegram asked to slow down; the rest waits")
                    break
        if sent:
            log.info("%d broadcast message(s) sent", sent)
        return sent

    # ---- digests ------------------------------------------------------------------------

    def digest_cutoff(self, now: datetime) -> tuple[str, datetime] | None:
        """(local day, today's digest time in UTC) once today's digest time has come."""
        tz = self.settings.site.tz
        local = now.astimezone(tz)
        at = self.settings.telegram.digest_at
        cutoff = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
        if local < cutoff:
            return None
        return local.date().isoformat(), cutoff.astimezone(UTC)

    async def _send_digest(self, row: Claimed) -> tuple[Claimed, Outcome, int]:
        now = self.clock.now()
        try:
            articles = self.readers.digest_articles(
                row.user_id,
                row.since or now - DIGEST_MAX_SPAN,
                row.until or now,
                topic_key,
                limit=DIGEST_MAX_ARTICLES,
            )
            if not articles:
                return row, Outcome(DeliveryState.SKIPPED, SkipReason.NOTHING_NEW), 0
            lang = self._lang(row)
            day = date.fromisoformat(row.day) if row.day else now.date()
            message = digest_text(
                articles, lang, self.settings.site.tz, site=self.settings.site.name, day=day
            )
        except StorageError:
            raise
        except Exception as err:  # nothing was sent: this digest cannot be built
            log.exception("digest %s: cannot be rendered", row.id)
            return row, self._decide(row, NotRendered(f"{type(err).__name__}: {err}")), 0
        answer = await self._send(row, message)
        return row, self._decide(row, answer), len(articles)

    async def digest_tick(self, now: datetime) -> int:
        """Once today's digest time (telegram.digest_at, site time zone) has come: queue one
        digest per reader on /digest daily who has none for today, and send what is due.
        A (reader, day) pair is unique in the database: never two digests the same day."""
        cutoff = self.digest_cutoff(now)
        if cutoff is None or (self._hold_until is not None and now < self._hold_until):
            return 0
        day, at = cutoff
        sent = 0
        async with self._round:
            self.readers.plan_digests(day, at, now, max_span=DIGEST_MAX_SPAN)
            while True:
                moment = max(now, self.clock.now())
                rows = self.readers.claim_digests(moment, limit=BATCH, worker=self.worker)
                if not rows:
                    break
                done = await asyncio.gather(*(self._send_digest(r) for r in rows))
                _left("digest", self.readers.finish_digests(done, self.clock.now()))
                outcomes = [o for _row, o, _n in done]
                sent += sum(1 for o in outcomes if o.state is DeliveryState.SENT)
                if self._held(outcomes) or any(o.end_round for o in outcomes):
                    break
        if sent:
            log.info("%d digest(s) sent for %s", sent, day)
        return sent

    def _held(self, outcomes: Sequence[Outcome]) -> bool:
        """Telegram refused the token (a platform-wide pause): wait TOKEN_HOLD before trying."""
        if any(o.pause is not None and o.pause.platform_wide for o in outcomes):
            self._hold_until = self.clock.now() + TOKEN_HOLD
            return True
        return False

    def next_due(self) -> datetime | None:
        """When a broadcast is next due (None: nothing queued)."""
        due = self.readers.next_broadcast_due()
        if due is not None and self._hold_until is not None:
            return max(due, self._hold_until)
        return due


def _left(kind: str, ids: Sequence[int]) -> None:
    """Log the rows whose outcome was not written: another worker had recovered them."""
    if ids:
        log.error(
            "%s(s) %s were taken over by another worker before their outcome could be "
            "recorded; left as that worker has them",
            kind,
            ", ".join(str(i) for i in ids),
        )

"""Wires settings → storage → fetcher → publishers → outbox → scheduler; runs the service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import Clock, SystemClock
from bot.delivery.alerts import Alerts, LogNotifier, Notifier
from bot.delivery.ingest import Poller, PollReport
from bot.delivery.outbox import Outbox, PublisherFactory, RoundReport
from bot.delivery.route import route
from bot.errors import CredentialsError, FeedError, StorageError
from bot.feeds.fetch import Fetcher, fetch_and_parse
from bot.feeds.identity import (
    allowed_hosts,
    article_key,
    canonical_url,
    normalise_title,
    safe_link,
    site_host,
)
from bot.feeds.page import page_article
from bot.models import Article, ChannelType, NewArticle
from bot.publishers.base import Publisher
from bot.publishers.console import ConsolePublisher
from bot.settings import ChannelSettings, FeedSettings, Settings
from bot.storage.store import Storage

if TYPE_CHECKING:
    from bot.telegram_bot.service import ReaderBot

log = logging.getLogger("relais")

USER_AGENT = "Relais/0.1 (news syndication bot)"
IDLE_WAKE = timedelta(seconds=30)
ONCE_WAIT = timedelta(seconds=60)  # `run --once` waits for retries due within this
ONCE_ROUNDS = 10


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the settings hold, for the log filter."""
    found = []
    if settings.telegram.token is not None:
        found.append(settings.telegram.token.get_secret_value())
    if settings.telegram.webhook and settings.telegram.webhook.secret_token:
        found.append(settings.telegram.webhook.secret_token.get_secret_value())
    found += [c.token.get_secret_value() for c in settings.channels if c.token is not None]
    return [s for s in found if s]


def refuse_ephemeral_sqlite(settings: Settings) -> None:
    """On a Heroku-style dyno the disk is wiped at every restart: SQLite would forget."""
    if os.environ.get("DYNO") and settings.storage.startswith("sqlite"):
        raise StorageError(
            "this host wipes its disk at every restart (DYNO is set): SQLite would forget what "
            "was posted and post everything again. Set DATABASE_URL to a PostgreSQL database."
        )


@dataclass
class Services:
    """Long-lived clients shared by publishers (one Telegram bot for every channel)."""

    telegram_bot: Any = None
    closers: list[Any] = field(default_factory=list)


def real_publishers(settings: Settings, services: Services) -> PublisherFactory:
    """The factory that builds each channel's real adapter."""

    def make(channel: ChannelSettings, chat_override: str | None) -> Publisher:
        if channel.type is ChannelType.CONSOLE:
            return ConsolePublisher(channel.id)
        if channel.type is ChannelType.TELEGRAM:
            from bot.publishers.telegram import TelegramPublisher

            if services.telegram_bot is None:
                raise CredentialsError("no Telegram bot client: is telegram.token set?")
            return TelegramPublisher(channel, services.telegram_bot, chat_id=chat_override)
        from bot.publishers.facebook import FacebookPublisher

        return FacebookPublisher(channel, settings.facebook)

    return make


class App:
    """One Relais process: poller, outbox and (in `serve`) the scheduler."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        *,
        clock: Clock | None = None,
        fetcher: Fetcher | None = None,
        make_publisher: PublisherFactory | None = None,
        notifiers: Sequence[Notifier] | None = None,
        services: Services | None = None,
        reader_bot: bool = False,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.clock = clock or SystemClock()
        self.services = services or Services()
        self.fetcher = fetcher or Fetcher(user_agent=USER_AGENT)
        self.alerts = Alerts(notifiers if notifiers is not None else [LogNotifier()])
        self.poller = Poller(storage, settings, self.fetcher, clock=self.clock, alerts=self.alerts)
        self.outbox = Outbox(
            storage,
            settings,
            make_publisher or real_publishers(settings, self.services),
            clock=self.clock,
            alerts=self.alerts,
            worker=f"{socket.gethostname()}:{os.getpid()}"[-64:],  # the column's width
        )
        self._wake = asyncio.Event()
        self.reader: ReaderBot | None = None
        if reader_bot and self.services.telegram_bot is not None:
            from bot.telegram_bot.context import AdminHooks
            from bot.telegram_bot.service import ReaderBot

            hooks = AdminHooks(
                fetch_article=self.fetch_article, enqueue=self.enqueue, wake=self.wake
            )
            self.reader = ReaderBot(
                settings, storage, bot=self.services.telegram_bot, clock=self.clock, hooks=hooks
            )

    def _configure_channels(self) -> None:
        """Date the channels this config adds (they get the articles first seen from now)."""
        self.storage.ensure_channels([c.id for c in self.settings.channels], self.clock.now())

    async def aclose(self) -> None:
        await self.outbox.aclose()
        await self.fetcher.aclose()
        for closer in self.services.closers:
            with contextlib.suppress(Exception):
                await closer()

    async def check_facebook_tokens(self) -> None:
        """At start and daily: a Page whose token stopped working pauses before it is hammered,
        and one paused for its token resumes by itself once the token works again."""
        channels = [c for c in self.settings.channels if c.type is ChannelType.FACEBOOK]
        if not channels:
            return
        from bot.publishers.facebook import check_token

        for channel in channels:
            try:
                report = await check_token(channel, self.settings.facebook, clock=self.clock)
            except Exception:
                log.exception("checking the token of %s failed", channel.id)
                continue
            if not report.reachable:
                continue  # Facebook unreachable says nothing about the token
            if report.ok and self.storage.set_paused(
                channel.id, False, None, self.clock.now(), by="auth"
            ):
                log.info("channel %s: the token works again; posting resumes", channel.id)
                self.alerts.add(
                    "Canal repris",
                    f"{channel.id} : le jeton fonctionne de nouveau, les "
                    "publications en attente repartent.",
                )
            elif not report.ok:  # pauses once; an existing pause is left as it is
                self.outbox.pause(channel, " ".join(report.messages) or "jeton refusé")
        await self.alerts.flush()

    # ---- what the admins' /post and /preview need --------------------------------------

    def site_hosts(self) -> set[str]:
        """Hosts an admin may /post from: the site's and every configured feed's."""
        return allowed_hosts(self.settings.site.url, [f.url for f in self.settings.feeds])

    async def fetch_article(self, url: str) -> Article | None:
        """The article at `url` of a configured site: the one already recorded, else the entry
        of a configured feed, else what the page's own Open Graph tags say. Fetches nothing
        from another host."""
        link = safe_link(url, None)
        hosts = self.site_hosts()
        if link is None or site_host(link) not in hosts:
            return None
        key = article_key(canonical_url(link))
        if key in self.storage.seen([key]):
            return self.storage.article(key)
        for feed in self.settings.feeds:
            try:
                parsed = await fetch_and_parse(self.fetcher, feed.url, feed.id, feed.max_bytes)
            except FeedError:
                continue
            for article in parsed.articles:
                if article.key == key:
                    return article
        try:  # every redirect hop must stay on a configured host
            page = await self.fetcher.fetch(link, max_bytes=2 * 1024 * 1024, hosts=hosts)
        except FeedError:
            return None
        text = page.body.decode("utf-8", "replace")
        found = page_article(text, page.final_url or link, feed_id=self.settings.feeds[0].id)
        if (
            found is None
            or site_host(found.url) not in hosts
            or site_host(found.canonical_url) not in hosts
        ):
            return None
        if found.key != key and found.key in self.storage.seen([found.key]):
            return self.storage.article(found.key)  # a variant of a link already recorded
        return found

    async def enqueue(self, article: Article) -> list[str]:
        """An admin's /post: queue the article for every channel whose filters take it (once
        per channel, ever: a channel that already has it gets nothing)."""
        now = self.clock.now()
        known = self.storage.known_keys([article])
        key = known.get(article.key, article.key)
        has = self.storage.seen([key]).get(key, (now, set()))[1]
        decisions = [(c.id, route(article, c)) for c in self.settings.channels if c.id not in has]
        queued = [c for c, reason in decisions if reason is None]
        if known:
            self.storage.record([], now, more=[(key, c, r) for c, r in decisions])
        else:
            item = NewArticle(article, normalise_title(article.title), decisions)
            self.storage.record([item], now)
        self._wake.set()
        return queued

    def wake(self) -> None:
        self._wake.set()

    async def poll_all(self, *, write: bool = True) -> list[PollReport]:
        reports = await asyncio.gather(
            *(self.poller.poll(f, write=write) for f in self.settings.feeds)
        )
        await self.alerts.flush()
        return list(reports)

    async def run_once(self, *, check_tokens: bool = True) -> tuple[list[PollReport], RoundReport]:
        """`relais run --once`: one poll of every feed, then everything that is due now.

        A platform that says "retry in a moment" (a 429, a 5xx) is waited for when the wait is
        short (ONCE_WAIT), so that a cron run does not leave a post behind for the next run.
        `check_tokens=False` skips asking Facebook about tokens (the offline demo).
        """
        self._configure_channels()
        if check_tokens:
            await self.check_facebook_tokens()
        reports = await self.poll_all()
        self._announce(reports)
        total = await self.outbox.deliver_due()
        for _ in range(ONCE_ROUNDS):
            now = self.clock.now()
            if total.retry_due is None or total.retry_due - now > ONCE_WAIT:
                break
            await self.clock.sleep((total.retry_due - now).total_seconds())
            total.add(await self.outbox.deliver_due())
        if self.reader is not None:
            await self.reader.deliver_broadcasts()
        return reports, total

    # ---- the service --------------------------------------------------------------------

    def _announce(self, reports: Sequence[PollReport]) -> None:
        """New articles wake the delivery loop and reach the reader bot's subscribers."""
        now = self.clock.now()
        for report in reports:
            if report.new or report.more:
                self._wake.set()
            if report.new and self.reader is not None:
                try:
                    self.reader.on_new_articles(report.new, now, baseline=report.baseline)
                except Exception:  # subscribers miss a broadcast; the channels do not
                    log.exception("queueing the reader bot's broadcasts failed")

    async def _poll_job(self, feed: FeedSettings, scheduler: Any) -> None:
        report = await self.poller.poll(feed)
        await self.alerts.flush()
        self._announce([report])
        if report.next_poll is not None:
            with contextlib.suppress(Exception):
                scheduler.modify_job(f"poll:{feed.id}", next_run_time=report.next_poll)

    async def _token_job(self) -> None:
        await self.check_facebook_tokens()
        self._wake.set()

    async def _delivery_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # a poll that ends during the round wakes the next one at once
            try:
                report = await self.outbox.deliver_due(stop=stop)
                wait_until = report.next_due
            except StorageError as err:
                log.error("delivery round failed: %s", err)
                wait_until = None
            except Exception:  # a bug must not stop the service: the next round tries again
                log.exception("delivery round failed")
                wait_until = None
            now = self.clock.now()
            limit = now + IDLE_WAKE
            until: datetime = min(wait_until, limit) if wait_until else limit
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            _done, pending = await asyncio.wait(
                waiters,
                timeout=max(0.0, (until - now).total_seconds()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            for task in pending:
                task.cancel()

    async def serve(self, stop: asyncio.Event) -> None:
        """`relais run`: poll on schedule, deliver continuously, until `stop` is set."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        self._configure_channels()
        await self.check_facebook_tokens()
        scheduler = AsyncIOScheduler(timezone="UTC")
        now = self.clock.now()
        scheduler.add_job(
            self._token_job,
            IntervalTrigger(days=1),
            id="facebook-tokens",
            coalesce=True,
            max_instances=1,
        )
        for feed in self.settings.feeds:
            state = self.storage.feed_state(feed.id)
            first = state.next_poll if state and state.next_poll and state.next_poll > now else now
            scheduler.add_job(
                self._poll_job,
                IntervalTrigger(
                    seconds=feed.every.total_seconds(), jitter=feed.every.total_seconds() * 0.1
                ),
                args=[feed, scheduler],
                id=f"poll:{feed.id}",
                next_run_time=first,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
        scheduler.start()
        log.info(
            "Relais running: %d feed(s), %d channel(s)%s",
            len(self.settings.feeds),
            len(self.settings.channels),
            ", reader bot on" if self.reader is not None else "",
        )
        reader_task = None
        try:
            if self.reader is not None:
                try:
                    await self.reader.start()
                    reader_task = asyncio.create_task(self.reader.run(stop))
                except Exception as err:  # the channels keep posting without the bot
                    log.error("the reader bot could not start: %s", err)
                    self.alerts.add(
                        "Bot des lecteurs arrêté", f"le bot des lecteurs n'a pas démarré : {err}"
                    )
                    await self._stop_reader()
            await self._delivery_loop(stop)
        finally:
            stop.set()  # whatever ended the loop, the reader's loop ends with it
            scheduler.shutdown(wait=False)
            if reader_task is not None:
                with contextlib.suppress(Exception):
                    await reader_task
            await self._stop_reader()
            self.outbox.flush_unrecorded()
            log.info("Relais stopped: nothing is left in 'sending'")

    async def _stop_reader(self) -> None:
        if self.reader is not None:
            try:
                await self.reader.stop()
            except Exception:
                log.exception("stopping the reader bot failed")
            self.reader = None


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT ask the service to finish what it is sending, then stop."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

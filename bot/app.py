"""The composition root: settings → storage → fetcher → publishers → outbox → reader bot → loop.

Wiring only: what runs is in `bot/service_loop.py`, the admins' /post in `delivery/post_url.py`,
the Facebook token policy in `delivery/token_pause.py`. The one worker name and the one
User-Agent are decided here and passed down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import USER_AGENT
from bot.clock import Clock, SystemClock
from bot.delivery.alerts import Alerts, LogNotifier, Notifier
from bot.delivery.ingest import Poller
from bot.delivery.outbox import Outbox, PublisherFactory
from bot.delivery.post_url import PostUrl
from bot.delivery.token_pause import TokenWatch
from bot.delivery.wakeups import Wakeups
from bot.errors import CredentialsError, StorageError
from bot.feeds.fetch import Fetcher
from bot.leadership import Leadership
from bot.models import ChannelType
from bot.publishers.base import Publisher
from bot.publishers.console import ConsolePublisher
from bot.service_loop import ServiceLoop
from bot.settings import ChannelSettings, Settings
from bot.storage.store import Storage
from bot.web.metrics import ServiceMetrics

if TYPE_CHECKING:
    from bot.delivery.approval_desk import ApprovalRound
    from bot.telegram_bot.service import ReaderBot

WORKER_WIDTH = 64  # the `worker` column of the outbox tables


def worker_name(host: str, pid: int) -> str:
    """This process's name on the rows it claims: `host:pid`, the pid kept whole when the host
    name is too long for the column (two processes of one host must not share a name)."""
    tail = f":{pid}"
    return host[: max(0, WORKER_WIDTH - len(tail))] + tail


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


def real_publishers(
    settings: Settings, services: Services, *, user_agent: str = USER_AGENT
) -> PublisherFactory:
    """The factory that builds each channel's real adapter."""

    def make(channel: ChannelSettings, chat_override: str | None) -> Publisher:
        if channel.type is ChannelType.CONSOLE:
            return ConsolePublisher(channel.id)
        if channel.type is ChannelType.TELEGRAM:
            from bot.publishers.telegram import TelegramPublisher

            if services.telegram_bot is None:
                raise CredentialsError("no Telegram bot client: is telegram.token set?")
            return TelegramPublisher(
                channel,
                services.telegram_bot,
                chat_id=chat_override,
                lang=settings.site.language,
                user_agent=user_agent,
            )
        from bot.publishers.facebook import FacebookPublisher

        return FacebookPublisher(
            channel, settings.facebook, lang=settings.site.language, user_agent=user_agent
        )

    return make


class App:
    """One Relais process, wired: its parts are attributes, `service` runs them."""

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
        worker: str | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.clock = clock or SystemClock()
        self.services = services or Services()
        worker = worker or worker_name(socket.gethostname(), os.getpid())

        def make_fetcher() -> Fetcher:
            return Fetcher(
                user_agent=user_agent,
                max_concurrency=settings.fetch.concurrency,
                per_host=settings.fetch.per_host,
            )

        self.fetcher = fetcher or make_fetcher()  # the service loop's: /post, the checks
        self.alerts = Alerts(notifiers if notifiers is not None else [LogNotifier()])
        # The polls have a fetcher of their own: under `relais run` they run on their own loop.
        self.poller = Poller(
            storage, settings, make_fetcher(), clock=self.clock, alerts=self.alerts
        )
        self.leadership = Leadership(storage, worker=worker, clock=self.clock)
        self.outbox = Outbox(
            storage,
            settings,
            make_publisher or real_publishers(settings, self.services, user_agent=user_agent),
            clock=self.clock,
            alerts=self.alerts,
            worker=worker,
            sends_telegram=self.leadership.leads,
        )
        self.metrics = ServiceMetrics()  # the poller and the outbox tell it what they do
        self.poller.observe, self.outbox.observe = self.metrics.polled, self.metrics.decided
        self.outbox.approvals = self._approvals()
        wake = asyncio.Event()  # set: the delivery loop has new work
        self.post = PostUrl(settings, storage, self.fetcher, clock=self.clock, wake=wake.set)
        self.tokens = TokenWatch(
            settings, storage, self.outbox, clock=self.clock, alerts=self.alerts
        )
        with_reader = reader_bot and self.services.telegram_bot is not None
        reader = self._reader_bot(worker, wake) if with_reader else None
        wakes = [wake.set] + ([reader.wake] if reader is not None else [])
        self.service = ServiceLoop(
            settings,
            storage,
            clock=self.clock,
            alerts=self.alerts,
            poller=self.poller,
            outbox=self.outbox,
            tokens=self.tokens,
            reader=reader,
            wake=wake,
            leadership=self.leadership,
            wakeups=Wakeups(storage.engine.url, wakes) if storage.is_postgres else None,
        )

    def _approvals(self) -> ApprovalRound | None:
        """Approval by the admins in private chats, when any channel asks for it."""
        from bot.delivery.approval_desk import ApprovalRound

        if not any(c.approval.enabled for c in self.settings.channels):
            return None
        desk = None
        bot, admins = self.services.telegram_bot, self.settings.telegram.admins
        if bot is not None and admins:
            from bot.telegram_bot.approvals import TelegramDesk

            desk = TelegramDesk(bot, admins, lang=self.settings.site.language)
        return ApprovalRound(self.storage, desk, clock=self.clock, render=self.outbox.preview)

    def _reader_bot(self, worker: str, wake: asyncio.Event) -> ReaderBot:
        """The reader and admin bot on the shared Telegram client; /post goes through `post`."""
        from bot.telegram_bot.context import AdminHooks
        from bot.telegram_bot.service import ReaderBot

        hooks = AdminHooks(
            fetch_article=self.post.fetch_article,
            enqueue=self.post.enqueue,
            urgent=self.post.urgent,
            delete=lambda delivery, by: self.outbox.delete(delivery, by=by),
            wake=wake.set,
        )
        return ReaderBot(
            self.settings,
            self.storage,
            bot=self.services.telegram_bot,
            clock=self.clock,
            hooks=hooks,
            worker=worker,
            owns=self.leadership.leads,
        )

    async def aclose(self) -> None:
        self.leadership.close()
        await self.outbox.aclose()
        await self.poller.stop_thread()
        await self.poller.fetcher.aclose()
        await self.fetcher.aclose()
        for closer in self.services.closers:
            with contextlib.suppress(Exception):
                await closer()

"""The reader bot as a service: its PTB Application, lifecycle, and broadcast/digest loop."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import random
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ExtBot, TypeHandler

from bot.clock import Clock, SystemClock
from bot.errors import RelaisError, StorageError
from bot.models import Article, NewArticle
from bot.publishers.telegram import initialize_bot, make_bot
from bot.secrets import redact_in_logs, scrub
from bot.settings import Settings
from bot.storage.readers import ReaderStore
from bot.storage.store import Storage
from bot.telegram_bot.admin import AdminHandlers
from bot.telegram_bot.broadcast import Broadcaster
from bot.telegram_bot.command_limit import CommandLimiter, Verdict
from bot.telegram_bot.context import AdminHooks, BotContext, TopicCache, send
from bot.telegram_bot.handlers import ReaderHandlers
from bot.telegram_bot.messages import LANGUAGES, Lang, as_lang, text

log = logging.getLogger("relais.readers")

READER_COMMANDS = (
    "latest",
    "search",
    "topics",
    "subscribe",
    "unsubscribe",
    "digest",
    "lang",
    "help",
    "start",
    "stop",
)
ADMIN_COMMANDS = ("status", "queue", "pause", "resume", "retry", "skip", "post", "preview", "web")
ALLOWED_UPDATES = ["message", "callback_query"]  # not channel posts, not inline queries
IDLE_WAKE = timedelta(seconds=30)  # the run loop looks at digests at least this often
MIN_WAIT = 0.5  # seconds between two rounds at least
CONTEXT_KEY = "relais"

RelaisApplication = Application[Any, Any, Any, Any, Any, Any]


class WebhookUnavailableError(RelaisError):
    """telegram.webhook is set but python-telegram-bot's webhook server (tornado) is missing."""


def commands_for(lang: Lang, *, admin: bool = False) -> list[BotCommand]:
    names = READER_COMMANDS + (ADMIN_COMMANDS if admin else ())
    return [BotCommand(name, text(lang, f"cmd_{name}")) for name in names]


async def register_commands(bot: Any, settings: Settings) -> None:
    """setMyCommands: French and English for readers (and the site's language by default);
    the admin commands too in each admin's private chat. Failures are logged, never fatal."""
    site: Lang = as_lang(settings.site.language) or "fr"
    calls: list[tuple[list[BotCommand], dict[str, Any]]] = [
        (commands_for(lang), {"language_code": lang}) for lang in LANGUAGES
    ]
    calls.append((commands_for(site), {}))
    for admin in settings.telegram.admins:
        calls.append((commands_for(site, admin=True), {"scope": BotCommandScopeChat(admin)}))
    for commands, kwargs in calls:
        try:
            await bot.set_my_commands(commands, **kwargs)
        except TelegramError as err:
            log.warning("setMyCommands %s failed: %s", kwargs or "(default)", err.message)


def build_application(
    settings: Settings,
    storage: Storage,
    *,
    bot: ExtBot[Any] | None = None,
    clock: Clock | None = None,
    hooks: AdminHooks | None = None,
    readers: ReaderStore | None = None,
    limiter: CommandLimiter | None = None,
    concurrent_updates: int = 8,
) -> RelaisApplication:
    """The python-telegram-bot Application with every reader and admin handler, the per-user
    command limit and the error handler, on `bot` (the ExtBot the publishers share; one from
    `make_bot` when None). No JobQueue: the service schedules its own work.

    The handlers' shared context is in `application.bot_data["relais"]`."""
    bot = bot if bot is not None else make_bot(settings.telegram)
    application: RelaisApplication = (
        Application.builder()
        .bot(bot)
        .job_queue(None)
        .concurrent_updates(concurrent_updates)
        .build()
    )
    readers = readers if readers is not None else ReaderStore(storage.db)
    clock = clock or SystemClock()
    ctx = BotContext(
        settings=settings,
        storage=storage,
        readers=readers,
        clock=clock,
        hooks=hooks or AdminHooks(),
        limiter=limiter or CommandLimiter(),
        topics=TopicCache(readers, clock),
        token=bot.token,
    )
    application.bot_data[CONTEXT_KEY] = ctx
    application.add_handler(TypeHandler(Update, _gate(ctx)), group=-1)
    reader_handlers = ReaderHandlers(ctx)
    reader_handlers.register(application)
    AdminHandlers(ctx).register(application)
    reader_handlers.register_fallbacks(application)
    application.add_error_handler(_error_handler(ctx))
    return application


def _gate(ctx: BotContext) -> Callable[[Update, Any], Any]:
    """Runs before every handler: private chats only, and the per-user command limit."""

    async def gate(update: Update, context: Any) -> None:
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            raise ApplicationHandlerStop  # readers and admins talk to the bot in private
        user = update.effective_user
        if user is None or ctx.is_admin(user):
            return
        verdict = ctx.limiter.check(user.id, ctx.clock.now())
        if verdict is Verdict.ALLOW:
            return
        if verdict is Verdict.WARN:
            log.warning(
                "reader %s is over the limit of %d commands a minute", user.id, ctx.limiter.limit
            )
            message = text(ctx.lang(update), "rate_limited")
            if update.callback_query is not None:
                await update.callback_query.answer(message[:190])
            else:
                await send(update, context, message)
        raise ApplicationHandlerStop

    return gate


def _error_handler(ctx: BotContext) -> Callable[[object, Any], Any]:
    """Logs a handler's error (never the token) and apologises to the reader (never a
    traceback)."""

    async def on_error(update: object, context: Any) -> None:
        error = context.error
        if error is None:
            return
        detail = scrub("".join(traceback.format_exception(error)), (ctx.token,))
        user = update.effective_user if isinstance(update, Update) else None
        log.error("a handler failed (user %s): %s", user.id if user else "?", detail)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        try:
            lang = ctx.lang(update)
        except Exception:
            lang = as_lang(ctx.settings.site.language) or "fr"
        with contextlib.suppress(Exception):
            if update.callback_query is not None:
                await update.callback_query.answer()
        with contextlib.suppress(Exception):
            await send(update, context, text(lang, "error_apology"))

    return on_error


class ReaderBot:
    """The bot readers and admins talk to, and the broadcasts and digests it sends.

    Lifecycle (all on the caller's running loop)::

        reader = ReaderBot(settings, storage, bot=shared_bot, hooks=hooks)
        await reader.start()                     # getMe, commands, polling or webhook
        task = asyncio.create_task(reader.run(stop))   # broadcasts + digests until `stop`
        ...
        stop.set(); await task; await reader.stop()

    With `telegram.commands: false` nothing is polled: broadcasts and digests to existing
    subscribers still go out through `run`. `worker` names this process on the rows it claims
    (`bot/app.py` passes the one name the outbox uses too).
    """

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        *,
        bot: ExtBot[Any] | None = None,
        clock: Clock | None = None,
        hooks: AdminHooks | None = None,
        worker: str = "relais",
        poll_timeout: float = 10.0,
        concurrent_updates: int = 8,
        limiter: CommandLimiter | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.clock = clock or SystemClock()
        self.readers = ReaderStore(storage.db)
        self._owns_bot = bot is None
        self.bot: ExtBot[Any] = bot if bot is not None else make_bot(settings.telegram)
        redact_in_logs(self.bot.token, loggers=("relais.readers", "relais.admin"))
        self.poll_timeout = poll_timeout
        self._wake = asyncio.Event()
        self.application = build_application(
            settings,
            storage,
            bot=self.bot,
            clock=self.clock,
            hooks=hooks,
            readers=self.readers,
            limiter=limiter,
            concurrent_updates=concurrent_updates,
        )
        self.context: BotContext = self.application.bot_data[CONTEXT_KEY]
        self.broadcaster = Broadcaster(
            settings,
            self.readers,
            self.bot,
            clock=self.clock,
            worker=worker,
            is_postgres=storage.is_postgres,
            rand=rand,
            on_change=self._changed,
        )

    def _changed(self) -> None:
        self.context.topics.invalidate()
        self._wake.set()

    # ---- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token (getMe), register the commands, recover rows a stopped process left
        in `sending`, and start answering (long polling, or the webhook when configured).
        Raises a Relais error (never quoting the token) when Telegram refuses the token."""
        webhook = self.settings.telegram.webhook
        on_dashboard = webhook is not None and self.settings.web is not None
        if webhook is not None and not on_dashboard and importlib.util.find_spec("tornado") is None:
            raise WebhookUnavailableError(
                "telegram.webhook needs python-telegram-bot's webhook server: install "
                "python-telegram-bot[webhooks] (tornado), or remove telegram.webhook to use "
                "long polling"
            )
        await initialize_bot(self.bot, lang=self.settings.site.language)
        await self.application.initialize()
        self.broadcaster.recover()
        if not self.settings.telegram.commands:
            log.info("telegram.commands is false: the bot answers no command")
            return
        await register_commands(self.bot, self.settings)
        await self.application.start()
        updater = self.application.updater
        assert updater is not None  # the builder always makes one
        if webhook is not None and on_dashboard:  # the dashboard's port receives the updates
            secret = webhook.secret_token.get_secret_value() if webhook.secret_token else None
            await self.bot.set_webhook(
                url=webhook.url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            log.info("reader bot: webhook %s, served by the dashboard", webhook.url)
        elif webhook is not None:
            secret = webhook.secret_token.get_secret_value() if webhook.secret_token else None
            await updater.start_webhook(
                listen=webhook.listen,
                port=webhook.port,
                url_path=urlsplit(webhook.url).path.strip("/"),
                webhook_url=webhook.url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            log.info("reader bot: webhook on %s:%s", webhook.listen, webhook.port)
        else:
            await updater.start_polling(
                timeout=int(self.poll_timeout),
                poll_interval=0,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            log.info("reader bot: long polling")

    async def stop(self) -> None:
        """Stop answering (the updates being handled finish first). A bot passed in by the
        caller is left open: its owner shuts it down after everything else that uses it."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        if self._owns_bot:
            await self.application.shutdown()

    async def feed_update(self, data: dict[str, Any]) -> None:
        """One update that Telegram posted to the webhook (when the dashboard serves it)."""
        await self.application.update_queue.put(Update.de_json(data, self.bot))

    async def __aenter__(self) -> ReaderBot:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---- work ---------------------------------------------------------------------------

    def on_new_articles(
        self,
        articles: Sequence[Article | NewArticle],
        now: datetime,
        *,
        baseline: bool = False,
    ) -> int:
        """Call after the poller recorded new articles: indexes them for /search and queues
        one broadcast per subscriber of their topics (not for republished copies, first-poll
        baselines — `baseline=True` or NewArticle items whose decisions say so — or articles
        older than two days). Wakes `run`. Returns the broadcasts queued."""
        return self.broadcaster.on_new_articles(articles, now, baseline=baseline)

    async def deliver_broadcasts(self, stop: asyncio.Event | None = None) -> int:
        return await self.broadcaster.deliver_broadcasts(stop)

    async def digest_tick(self, now: datetime) -> int:
        return await self.broadcaster.digest_tick(now)

    def recover(self) -> dict[str, int]:
        return self.broadcaster.recover()

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: index articles that lack search text, send due broadcasts and
        digests, then sleep until the next broadcast is due, new articles arrive
        (`on_new_articles`), or IDLE_WAKE passes. Errors are logged; the loop goes on."""
        while not stop.is_set():
            self._wake.clear()
            backlog = 0
            next_due: datetime | None = None
            try:
                backlog = self.broadcaster.index_backlog()
                await self.deliver_broadcasts(stop)
                if not stop.is_set():
                    await self.digest_tick(self.clock.now())
                next_due = self.broadcaster.next_due()
            except StorageError as err:
                log.error("reader bot round failed: %s", err)
            except Exception:
                log.exception("reader bot round failed")
            now = self.clock.now()
            until = now + IDLE_WAKE
            if next_due is not None:
                until = min(until, max(next_due, now))
            timeout = 0.0 if backlog else max(MIN_WAIT, (until - now).total_seconds())
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

"""Opens what a command needs (storage, bot client, app), runs it, and always closes it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from bot.app import App, Services, refuse_ephemeral_sqlite
from bot.delivery.alerts import LogNotifier, Notifier
from bot.errors import PublishError
from bot.preview import human, render_for
from bot.service_loop import install_stop_signals
from bot.settings import Settings
from bot.storage.store import Storage

log = logging.getLogger("relais")


async def start_services(settings: Settings) -> Services:
    """The shared Telegram bot client, when a Telegram channel or the bot needs one."""
    services = Services()
    if settings.telegram.token is not None:  # channels, alerts and the reader bot share it
        from bot.publishers.telegram import initialize_bot, make_bot

        bot = make_bot(settings.telegram)
        try:
            await initialize_bot(bot, lang=settings.site.language)
        except PublishError as err:
            # Keep going: other platforms still post, and the first Telegram send pauses the
            # Telegram channels with an alert if the token really is refused.
            log.error("Telegram: %s", err)
        services.telegram_bot = bot
        services.closers.append(bot.shutdown)
    return services


def notifiers_for(settings: Settings, services: Services) -> list[Notifier]:
    notifiers: list[Notifier] = [LogNotifier()]
    if services.telegram_bot is not None and settings.telegram.admins:
        from bot.telegram_bot.alerts import TelegramAdminNotifier

        notifiers.append(TelegramAdminNotifier(services.telegram_bot, settings.telegram.admins))
    return notifiers


async def _open(settings: Settings) -> App:
    refuse_ephemeral_sqlite(settings)
    storage = Storage.open(settings.storage, exclusive=True)
    try:
        services = await start_services(settings)
    except BaseException:
        storage.close()
        raise
    return App(
        settings,
        storage,
        services=services,
        notifiers=notifiers_for(settings, services),
        reader_bot=settings.telegram.token is not None,
    )


async def run_once(settings: Settings, out: Callable[[str], None]) -> int:
    app = await _open(settings)
    try:
        polls, round_report = await app.service.run_once()
    finally:
        await app.aclose()
        app.storage.close()
    for report in polls:
        out(f"feed {report.feed_id}: {report.status} — {report.message}")
    r = round_report
    out(
        f"delivered: {r.sent} sent, {r.retried} to retry, {r.failed} failed, "
        f"{r.unknown} unknown, {r.skipped} skipped"
        + (f"; paused: {', '.join(r.paused)}" if r.paused else "")
    )
    failed = sum(p.status == "error" for p in polls)
    code = once_exit_code(failed, len(polls))
    if code:
        out(f"{failed} flux sur {len(polls)} en échec : code de sortie {code}")
    return code


def once_exit_code(failed: int, polled: int) -> int:
    """`run --once` fails (1) when a majority of the feeds polled failed: a cron job should page
    someone then, not for one bad feed of five (its state and the admins' alert say it)."""
    return 1 if polled and failed * 2 > polled else 0


async def dry_run(settings: Settings, out: Callable[[str], None]) -> int:
    """Poll and render what would be posted; send nothing and record nothing."""
    storage = Storage.open(settings.storage)
    app = App(settings, storage)
    try:
        polls = await app.service.poll_all(write=False)
        for report in polls:
            out(f"feed {report.feed_id}: {report.status} — {report.message}")
            strip = settings.feed(report.feed_id).strip
            for item in report.new:
                for channel_id, reason in item.decisions:
                    if reason is not None:
                        out(f"   skip {channel_id}: {item.article.title} ({reason})")
                        continue
                    channel = settings.channel(channel_id)
                    rendered = render_for(report.feed_id, item.article, channel, settings, strip)
                    if rendered is not None:
                        out(human(rendered))
    finally:
        await app.aclose()
        storage.close()
    return 0


async def serve(settings: Settings, config_path: Path | None = None) -> int:
    stop = asyncio.Event()
    install_stop_signals(stop)
    app = await _open(settings)
    web = None
    if settings.web is not None:  # the dashboard, /healthz and /metrics on one port
        from bot.web.server import serve_web

        web = asyncio.create_task(serve_web(app, stop, config_path))
    try:
        await app.service.serve(stop)
    finally:
        stop.set()
        if web is not None:
            await web
        await app.aclose()
        app.storage.close()
    return 0

"""Admin commands (/status /queue /plan /pause /resume /retry /skip /delete /post /urgent
/preview /web), for admins only."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.content.describe import describe_post_html
from bot.content.telegram_html import escape_html
from bot.delivery.planning import channel_plans
from bot.feeds.identity import Origin, allowed_hosts, allowed_origins, site_host, url_origin
from bot.models import Article, Delivery, DeliveryState
from bot.preview import render_for
from bot.telegram_bot.context import BotContext, clean_input, send
from bot.telegram_bot.handlers import argument
from bot.telegram_bot.messages import Html, Lang, text
from bot.telegram_bot.views import (
    ChannelLine,
    channel_kind,
    fit,
    plan_text,
    queue_text,
    status_text,
    urgent_text,
)

log = logging.getLogger("relais.admin")

Handler = Callable[[Update, Any], Coroutine[Any, Any, None]]
ID_MAX = 2**31 - 1
PREVIEW_CHANNELS = 4
URL_MAX = 2000


def check_url(url: str, origins: set[Origin]) -> str | None:
    """None when `url` is an http(s) address at one of `origins` (scheme, host and port), else
    the catalogue key of the refusal."""
    try:
        parts = urlsplit(url)
        host = site_host(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "url_invalid"
    if parts.scheme not in {"http", "https"} or not host or "@" in parts.netloc:
        return "url_invalid"
    return None if url_origin(url) in origins else "url_refused"


def _delivery_id(arg: str) -> int | None:
    arg = arg.lstrip("#")
    if not arg.isdigit() or len(arg) > 10:
        return None
    value = int(arg)
    return value if 1 <= value <= ID_MAX else None


class AdminHandlers:
    """Every command here answers admins (user ids in telegram.admins) only; anyone else is
    refused politely and the attempt is logged with their user id."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx

    def register(self, app: Any) -> None:
        private = filters.ChatType.PRIVATE
        for name, callback in (
            ("status", self.status),
            ("queue", self.queue),
            ("pause", self.pause),
            ("resume", self.resume),
            ("retry", self.retry),
            ("skip", self.skip),
            ("post", self.post),
            ("urgent", self.urgent),
            ("delete", self.delete),
            ("plan", self.plan),
            ("preview", self.preview),
            ("web", self.web),
        ):
            app.add_handler(CommandHandler(name, self._admin_only(name, callback), filters=private))

    def register_buttons(self, app: Any) -> None:
        """The admins' alert buttons, before the reader's catch-all for stale buttons."""
        app.add_handler(CallbackQueryHandler(self.delete_button, pattern=r"^del:\d{1,10}$"))

    async def delete_button(self, update: Update, context: Any) -> None:
        """🗑 under an alert (an article gone from the site): the one-tap /delete."""
        query = update.callback_query
        if query is None:
            return
        if not self.ctx.is_admin(query.from_user) or self.ctx.hooks.delete is None:
            await query.answer()
            return
        delivery = self.ctx.storage.delivery(int((query.data or "del:0")[4:]))
        if delivery is None:
            await query.answer("Publication introuvable.")
            return
        refusal = await self.ctx.hooks.delete(delivery, f"l'admin {query.from_user.id}")
        done = f"🗑 #{delivery.id} supprimée de {delivery.channel_id}."
        await query.answer((refusal or done)[:200])
        if refusal is None and query.message is not None:
            with contextlib.suppress(TelegramError):
                await query.edit_message_reply_markup(reply_markup=None)

    def _admin_only(self, name: str, callback: Handler) -> Handler:
        async def guarded(update: Update, context: Any) -> None:
            user = update.effective_user
            if not self.ctx.is_admin(user):
                log.warning(
                    "refused /%s from user %s (not in telegram.admins)",
                    name,
                    user.id if user else "?",
                )
                await send(update, context, text(self.ctx.lang(update), "not_admin"))
                return
            log.info("admin %s: /%s %s", user.id if user else "?", name, argument(update)[:100])
            await callback(update, context)

        return guarded

    def _wake(self) -> None:
        if self.ctx.hooks.wake is not None:
            self.ctx.hooks.wake()

    # ---- reading ------------------------------------------------------------------------

    async def status(self, update: Update, context: Any) -> None:
        lang = self.ctx.lang(update)
        settings, storage = self.ctx.settings, self.ctx.storage
        states = {s.feed_id: s for s in storage.feed_states()}
        counts = {c.channel_id: c for c in storage.channel_counts()}
        channels = [
            ChannelLine(c, counts.get(c.id), storage.channel_state(c.id)) for c in settings.channels
        ]
        readers, digest = self.ctx.readers.subscriber_count()
        message = status_text(
            lang=lang,
            tz=settings.site.tz,
            site=settings.site.name,
            feeds=[(f.id, states.get(f.id)) for f in settings.feeds],
            channels=channels,
            readers=readers,
            digest_readers=digest,
            broadcasts=self.ctx.readers.broadcast_counts(),
        )
        await send(update, context, message)

    def _channel(self, lang: Lang, name: str) -> tuple[list[str], str | None]:
        """The channel ids an optional argument designates, or an error message."""
        ids = [c.id for c in self.ctx.settings.channels]
        if not ids:
            return [], text(lang, "no_channels")
        if not name:
            return ids, None
        if name in ids:
            return [name], None
        return [], text(lang, "unknown_channel", channel=name[:64], channels=", ".join(ids))

    async def _named_channel(self, update: Update, context: Any) -> tuple[bool, str | None]:
        """The channel the admin named (None: every channel); False when the name is unknown
        (already answered)."""
        name = argument(update)
        if not name:
            return True, None
        ids, error = self._channel(self.ctx.lang(update), name)
        if error:
            await send(update, context, error)
            return False, None
        return True, ids[0]

    async def queue(self, update: Update, context: Any) -> None:
        lang = self.ctx.lang(update)
        found, channel = await self._named_channel(update, context)
        if not found:
            return
        rows = self.ctx.readers.outbox_queue(channel, limit=15)
        await send(update, context, queue_text(rows, lang, self.ctx.settings.site.tz, channel))

    # ---- acting -------------------------------------------------------------------------

    async def _pause(self, update: Update, context: Any, paused: bool) -> None:
        lang = self.ctx.lang(update)
        ids, error = self._channel(lang, argument(update))
        if error:
            await send(update, context, error)
            return
        user = update.effective_user
        now = self.ctx.clock.now()
        reason = f"paused by admin {user.id if user else '?'}" if paused else None
        changed, unchanged = [], []
        for channel_id in ids:
            if self.ctx.storage.set_paused(channel_id, paused, reason, now):
                changed.append(channel_id)
            else:
                unchanged.append(channel_id)
        lines = []
        if changed:
            lines.append(text(lang, "paused" if paused else "resumed", channels=", ".join(changed)))
            log.warning(
                "channel(s) %s %s by admin %s",
                ", ".join(changed),
                "paused" if paused else "resumed",
                user.id if user else "?",
            )
        if unchanged:
            key = "already_paused" if paused else "already_running"
            lines.append(text(lang, key, channels=", ".join(unchanged)))
        if changed and not paused:
            self._wake()
        await send(update, context, "\n".join(lines))

    async def pause(self, update: Update, context: Any) -> None:
        await self._pause(update, context, True)

    async def resume(self, update: Update, context: Any) -> None:
        await self._pause(update, context, False)

    async def retry(self, update: Update, context: Any) -> None:
        delivery = await self._target(update, context, "retry_usage")
        if delivery is None:
            return
        # Only an uncertain or failed post: a `sending` one may be on its way right now.
        now = self.ctx.clock.now()
        done = delivery.state in {DeliveryState.UNKNOWN, DeliveryState.FAILED} and (
            self.ctx.storage.mark_queued(delivery.id, now, "retried by admin", now)
        )
        if done:
            self._wake()
        await self._settled(update, context, delivery, done, "retried", "retry_refused")

    async def skip(self, update: Update, context: Any) -> None:
        delivery = await self._target(update, context, "skip_usage")
        if delivery is None:
            return
        user = update.effective_user
        now = self.ctx.clock.now()
        allowed = {DeliveryState.QUEUED, DeliveryState.UNKNOWN, DeliveryState.FAILED}
        reason = f"skipped by admin {user.id if user else '?'}"
        done = delivery.state in allowed and self.ctx.storage.mark_skipped(delivery.id, reason, now)
        await self._settled(update, context, delivery, done, "skipped", "skip_refused")

    async def delete(self, update: Update, context: Any) -> None:
        lang = self.ctx.lang(update)
        if self.ctx.hooks.delete is None:
            await send(update, context, text(lang, "hooks_missing"))
            return
        delivery = await self._target(update, context, "delete_usage")
        if delivery is None:
            return
        user = update.effective_user
        by = f"l'admin {user.id if user else '?'}"
        refusal = await self.ctx.hooks.delete(delivery, by)
        message = (
            text(lang, "deleted", id=delivery.id, channel=delivery.channel_id)
            if refusal is None
            else f"#{delivery.id} : {escape_html(refusal)}"
        )
        await send(update, context, message)

    async def _target(self, update: Update, context: Any, usage: str) -> Delivery | None:
        """The delivery an admin's command names, or None (the admin has been answered)."""
        lang = self.ctx.lang(update)
        delivery_id = _delivery_id(argument(update))
        if delivery_id is None:
            await send(update, context, text(lang, usage))
            return None
        delivery = self.ctx.storage.delivery(delivery_id)
        if delivery is None:
            await send(update, context, text(lang, "delivery_not_found", id=delivery_id))
        return delivery

    async def _settled(
        self, update: Update, context: Any, delivery: Delivery, done: bool, ok: str, refused: str
    ) -> None:
        lang = self.ctx.lang(update)
        if done:
            message = text(lang, ok, id=delivery.id, channel=delivery.channel_id)
        else:
            message = text(lang, refused, id=delivery.id, state=delivery.state.value)
        await send(update, context, message)

    async def _url(self, update: Update, context: Any, usage: str) -> str | None:
        """The admin's URL when it is on a configured site, else None (already answered)."""
        lang = self.ctx.lang(update)
        url = clean_input(argument(update), URL_MAX)
        if not url:
            await send(update, context, text(lang, usage))
            return None
        settings = self.ctx.settings
        feed_urls = [f.url for f in settings.feeds]
        hosts = allowed_hosts(settings.site.url, feed_urls)
        refusal = check_url(url, allowed_origins(settings.site.url, feed_urls))
        if refusal is not None:
            await send(update, context, text(lang, refusal, hosts=", ".join(sorted(hosts)) or "—"))
            return None
        return url

    async def _article(
        self, update: Update, context: Any, usage: str, *, needs: object = True
    ) -> Article | None:
        """The article at the admin's URL (fetched by the service's hook), or None when the
        admin has been answered why not. `needs`: the other hook the command uses."""
        lang = self.ctx.lang(update)
        fetch = self.ctx.hooks.fetch_article
        if fetch is None or needs is None:
            await send(update, context, text(lang, "hooks_missing"))
            return None
        url = await self._url(update, context, usage)
        if url is None:
            return None
        article = await fetch(url)
        if article is None:
            await send(update, context, text(lang, "fetch_failed"))
        return article

    async def post(self, update: Update, context: Any) -> None:
        lang = self.ctx.lang(update)
        hooks = self.ctx.hooks
        article = await self._article(update, context, "post_usage", needs=hooks.enqueue)
        if article is None or hooks.enqueue is None:
            return
        channels = await hooks.enqueue(article)
        if channels:
            self._wake()
            message = text(lang, "posted", title=article.title[:200], channels=", ".join(channels))
        else:
            message = text(lang, "post_nothing", title=article.title[:200])
        await send(update, context, message)

    async def urgent(self, update: Update, context: Any) -> None:
        lang = self.ctx.lang(update)
        hooks = self.ctx.hooks
        article = await self._article(update, context, "urgent_usage", needs=hooks.urgent)
        if article is None or hooks.urgent is None:
            return
        answers = await hooks.urgent(article)
        await send(update, context, urgent_text(article.title, answers, lang))

    async def plan(self, update: Update, context: Any) -> None:
        found, channel = await self._named_channel(update, context)
        if not found:
            return
        settings = self.ctx.settings
        planned = channel_plans(
            settings, self.ctx.storage, self.ctx.clock.now(), channel_id=channel
        )
        await send(update, context, plan_text(planned, settings.site.language, settings.site.tz))

    async def preview(self, update: Update, context: Any) -> None:
        lang = self.ctx.lang(update)
        article = await self._article(update, context, "preview_usage")
        if article is None:
            return
        settings = self.ctx.settings
        strip = {f.id: f.strip for f in settings.feeds}.get(article.feed_id, ())
        shown = 0
        for channel in settings.channels:
            item = render_for(article.feed_id, article, channel, settings, strip)
            if item is None or item.rendered is None:
                continue
            head = text(lang, "preview_title", channel=channel.id, type=channel_kind(channel))
            body = describe_post_html(item.rendered.post)
            await send(update, context, fit([head, "", Html(body)]))
            shown += 1
            if shown >= PREVIEW_CHANNELS:
                break
        if not shown:
            await send(update, context, text(lang, "preview_none"))

    async def web(self, update: Update, context: Any) -> None:
        """A one-time dashboard login link for this admin (sent without a link preview, so
        that Telegram's preview fetch never touches it)."""
        lang = self.ctx.lang(update)
        user = update.effective_user
        if self.ctx.settings.web is None or user is None:
            await send(update, context, text(lang, "web_off"))
            return
        from bot.web.server import login_link

        link = login_link(self.ctx.settings, self.ctx.storage, user.id, self.ctx.clock.now())
        await send(update, context, text(lang, "web_link", link=link))


__all__ = ["AdminHandlers", "allowed_hosts", "check_url"]

"""The pages: today, queue and plan, history, article, preview, planning, subscribers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from bot.content.render import render
from bot.content.telegram_html import validate_telegram_html
from bot.errors import ConfigError, StorageError
from bot.feeds.identity import allowed_hosts, allowed_origins
from bot.models import Article, Delivery, DeliveryState, FacebookPost, Post, TelegramPost
from bot.preview import render_for
from bot.settings import ChannelSettings, duration_text
from bot.telegram_bot.admin import check_url
from bot.web.base import Routes
from bot.web.planning import (
    FIELDS,
    PacingChange,
    PlanningConflict,
    form_values,
    save_pacing,
    snapshot,
)
from bot.web.reasons import explain, missing_channels
from bot.web.texts import word

ALERTS_SHOWN = timedelta(days=2)  # "Aujourd'hui" lists the alerts of the last two days


class PageRoutes(Routes):
    """Every page needs a logged-in admin (else 403 with how to log in)."""

    async def today(self, request: Request) -> Response:
        if self.admin(request) is None:
            return self.refused(request)
        ctx = self.ctx
        storage = ctx.storage
        lang = ctx.lang
        states = {s.feed_id: s for s in storage.feed_states()}
        counts = {c.channel_id: c for c in storage.channel_counts()}
        feeds = [(f, states.get(f.id)) for f in ctx.settings.feeds]
        channels = []
        alerts: list[str] = []
        for channel in ctx.settings.channels:
            state = storage.channel_state(channel.id)
            found = counts.get(channel.id)
            first = ctx.storage.queue(channel.id, states=(DeliveryState.QUEUED,), limit=1)
            plan = self.plan_of(channel, first)
            channels.append(
                (
                    channel,
                    state,
                    found.counts if found else {},
                    min((p.due for p in plan.values()), default=None),
                )
            )
            if state.paused:
                alerts.append(
                    word(lang, "alert_paused", channel=channel.id, reason=state.pause_reason or "")
                )
        for feed, polled in feeds:
            if polled is not None and polled.consecutive_errors:
                alerts.append(
                    word(
                        lang,
                        "alert_feed",
                        feed=feed.id,
                        when=ctx.when(polled.failing_since or polled.last_poll),
                        result=polled.last_result or "",
                    )
                )
        trouble = (DeliveryState.FAILED, DeliveryState.UNKNOWN)
        for post in ctx.storage.queue(states=trouble, limit=30):
            d = post.delivery
            if d.state is DeliveryState.FAILED:
                alerts.append(
                    word(
                        lang,
                        "alert_failed",
                        channel=d.channel_id,
                        title=post.article.title,
                        error=d.error or "",
                    )
                )
            elif d.state is DeliveryState.UNKNOWN:
                alerts.append(
                    word(lang, "alert_unknown", channel=d.channel_id, title=post.article.title)
                )
        return self.page(
            request,
            "today.html",
            feeds=feeds,
            channels=channels,
            watch=alerts[:30],
            alerts=ctx.storage.alerts(ctx.clock.now() - ALERTS_SHOWN),
            actions=ctx.storage.actions(10),
        )

    def _pacing(self, channel: ChannelSettings) -> str:
        lang = self.ctx.lang
        quiet = channel.quiet_hours
        return word(
            lang,
            "pacing",
            gap=duration_text(channel.gap),
            cap=channel.max_per_day or word(lang, "no_cap"),
            quiet=f"{quiet[0]:%H:%M}-{quiet[1]:%H:%M}" if quiet else word(lang, "no_quiet"),
        )

    async def queue(self, request: Request) -> Response:
        if self.admin(request) is None:
            return self.refused(request)
        ctx = self.ctx
        wanted = request.query_params.get("channel") or None
        sections = []
        for channel in ctx.settings.channels:
            if wanted is not None and channel.id != wanted:
                continue
            posts = ctx.storage.queue(channel.id)
            plan = self.plan_of(channel, posts)
            sections.append((channel, self._pacing(channel), posts, plan))
        return self.page(
            request,
            "queue.html",
            sections=sections,
            channels=ctx.settings.channels,
            wanted=wanted,
            now=ctx.clock.now(),
        )

    async def history(self, request: Request) -> Response:
        if self.admin(request) is None:
            return self.refused(request)
        q = request.query_params.get("q", "")[:200]
        hits = self.ctx.storage.search_articles(q)
        rows = [(hit, self._states(hit.article, list(hit.deliveries))) for hit in hits]
        return self.page(request, "history.html", q=q, rows=rows)

    def _states(self, article: Article, deliveries: list[Delivery]) -> list[tuple[Delivery, str]]:
        ctx = self.ctx
        now = ctx.clock.now()
        return [
            (
                d,
                explain(
                    d,
                    article,
                    ctx.channel(d.channel_id),
                    lang=ctx.lang,
                    tz=ctx.settings.site.tz,
                    now=now,
                ),
            )
            for d in deliveries
        ]

    async def article(self, request: Request) -> Response:
        if self.admin(request) is None:
            return self.refused(request)
        try:
            article, first_seen, deliveries = self.ctx.storage.article_deliveries(
                request.path_params["key"]
            )
        except StorageError:
            return self.message(request, 404, "error_404")
        return self.page(
            request,
            "article.html",
            article=article,
            first_seen=first_seen,
            states=self._states(article, deliveries),
            missing=missing_channels(self.ctx.settings.channels, deliveries),
        )

    async def preview(self, request: Request) -> Response:
        if self.admin(request) is None:
            return self.refused(request)
        ctx = self.ctx
        lang = ctx.lang
        url = request.query_params.get("url", "").strip()[:2000]
        delivery_id = request.query_params.get("delivery", "")
        cards: list[dict[str, Any]] = []
        message = ""
        if delivery_id.isdigit():
            delivery = ctx.storage.delivery(int(delivery_id))
            channel = ctx.channel(delivery.channel_id) if delivery else None
            if delivery is None or channel is None:
                message = word(lang, "not_found")
            else:
                article = ctx.storage.article(delivery.article_key)
                cards.append(self._card(channel, article, ctx.storage.teaser_edit(delivery.id)))
        elif url:
            feed_urls = [f.url for f in ctx.settings.feeds]
            hosts = allowed_hosts(ctx.settings.site.url, feed_urls)
            article = None
            if check_url(url, allowed_origins(ctx.settings.site.url, feed_urls)) is not None:
                message = word(lang, "preview_refused", hosts=", ".join(sorted(hosts)) or "—")
            elif ctx.fetch_article is None:
                message = word(lang, "preview_unavailable")
            else:
                article = await ctx.fetch_article(url)
                message = "" if article is not None else word(lang, "preview_not_found")
            if article is not None:
                strip = {f.id: f.strip for f in ctx.settings.feeds}.get(article.feed_id, ())
                for channel in ctx.settings.channels:
                    if render_for(article.feed_id, article, channel, ctx.settings, strip) is None:
                        continue
                    cards.append(self._card(channel, article, None))
                if not cards:
                    message = word(lang, "preview_none")
        return self.page(request, "preview.html", url=url, cards=cards, message=message)

    def _card(
        self, channel: ChannelSettings, article: Article, teaser: str | None
    ) -> dict[str, Any]:
        """What one channel's post looks like, for the preview's card."""
        ctx = self.ctx
        strip = {f.id: f.strip for f in ctx.settings.feeds}.get(article.feed_id, ())
        try:
            post: Post = render(
                article, channel, ctx.settings.site, extra_patterns=strip, teaser=teaser
            ).post
        except ValueError as err:
            return {"channel": channel, "error": word(ctx.lang, "preview_cannot", error=err)}
        card: dict[str, Any] = {"channel": channel, "article": article, "error": None}
        if isinstance(post, TelegramPost):
            validate_telegram_html(post.text)  # only Telegram's few tags: safe to show as HTML
            card.update(kind="telegram", html=Markup(post.text.replace("\n", "<br>")))
            card.update(photo=post.photo, buttons=[b for row in post.buttons for b in row])
        elif isinstance(post, FacebookPost):
            card.update(kind="facebook", text=post.message, link=post.link, photo=post.url)
            card.update(image=article.image)
        else:
            card.update(kind="console", text=post.text)
        return card

    async def planning(self, request: Request) -> Response:
        if self.admin(request) is None:
            return self.refused(request)
        ctx = self.ctx
        path = ctx.config_path
        read = snapshot(path) if path is not None and path.is_file() else None
        plans = []
        for channel in ctx.settings.channels:
            posts = ctx.storage.queue(channel.id, limit=10)
            plan = self.plan_of(channel, posts)
            try:
                values = form_values(read.text, channel.id) if read else {}
            except ConfigError:  # a channel the file does not name (or no channel list)
                values = {}
            plans.append((channel, posts, plan, values))
        return self.page(
            request,
            "planning.html",
            plans=plans,
            fingerprint=read.fingerprint if read else "",
            config=str(path) if read else "",
        )

    async def save_planning(self, request: Request) -> Response:
        user = self.admin(request)
        if user is None:
            return self.refused(request)
        values = await self.form(request)
        lang = self.ctx.lang
        if values is None:
            return self.message(request, 403, "csrf_refused")
        ctx = self.ctx
        channel_id = request.path_params["channel"]
        path = ctx.config_path
        if ctx.channel(channel_id) is None:
            return self.message(request, 404, "error_404")
        if path is None or not path.is_file():
            return self.back(request, word(lang, "planning_no_file"), "/planning")
        change = PacingChange(channel_id, **{name: values.get(name) for name in FIELDS})
        try:
            settings = save_pacing(path, change, values.get("fingerprint", ""))
        except PlanningConflict:
            return self.back(request, word(lang, "planning_conflict", path=path), "/planning")
        except ConfigError as err:
            problems = "; ".join(err.problems)
            return self.back(
                request, word(lang, "planning_invalid", problems=problems), "/planning"
            )
        ctx.settings = settings
        if ctx.apply_settings is not None:
            ctx.apply_settings(settings)
        ctx.storage.record_action(user, "planning", channel_id, change.summary(), ctx.clock.now())
        ctx.wake()
        return self.back(request, word(lang, "planning_saved", channel=channel_id), "/planning")

    async def subscribers(self, request: Request) -> Response:
        if self.admin(request) is None:
            return self.refused(request)
        readers, digest = self.ctx.readers.subscriber_count()
        return self.page(
            request,
            "subscribers.html",
            readers=readers,
            digest=digest,
            topics=self.ctx.storage.readers_per_topic(),
            broadcasts=sorted(self.ctx.readers.broadcast_counts().items()),
            digests=self.ctx.storage.recent_digests(),
        )

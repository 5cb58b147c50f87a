"""The dashboard as a Starlette ASGI app: pages, actions, login, /healthz and /metrics."""

from __future__ import annotations

import ipaddress
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.clock import Clock
from bot.content.render import render, validate_telegram_html
from bot.delivery.schedule import local_midnight
from bot.errors import ConfigError, StorageError
from bot.feeds.identity import allowed_hosts
from bot.models import Article, Delivery, DeliveryState, FacebookPost, Post, TelegramPost
from bot.preview import render_for
from bot.settings import ChannelSettings, Settings
from bot.storage.dashboard import DashboardStore
from bot.storage.readers import ReaderStore
from bot.storage.store import Storage
from bot.telegram_bot.admin import check_url
from bot.telegram_bot.limits import CommandLimiter, Verdict
from bot.telegram_bot.views import when
from bot.web import auth
from bot.web.health import health
from bot.web.metrics import RelaisCollector, registry_for
from bot.web.plan import next_slot_after, project_queue
from bot.web.planning import PACING_KEYS, PacingChange, PlanningConflict, save_pacing, snapshot
from bot.web.reasons import explain, missing_channels
from bot.web.texts import Lang, as_lang, word

log = logging.getLogger("relais.web")

SESSION_AGE = timedelta(hours=12)
LOGIN_ATTEMPTS = 10  # per client address …
LOGIN_PERIOD = timedelta(minutes=10)  # … in this window
TEASER_MAX = 2000
ALERTS_SHOWN = timedelta(days=2)  # "Aujourd'hui" lists the alerts of the last two days
FetchArticle = Callable[[str], Awaitable[Article | None]]


@dataclass
class WebContext:
    """What the dashboard needs from the process that serves it.

    * `last_round`: when the delivery loop last finished a round (None in `relais web`, where
      no delivery loop runs here).
    * `apply_settings`: makes a saved planning live in the running service.
    * `fetch_article`: the app's fetch of an article of a configured site (preview by URL).
    """

    settings: Settings
    storage: Storage
    clock: Clock
    config_path: Path | None = None
    wake: Callable[[], None] = lambda: None
    fetch_article: FetchArticle | None = None
    last_round: Callable[[], datetime | None] | None = None
    apply_settings: Callable[[Settings], None] | None = None
    limiter: CommandLimiter = field(
        default_factory=lambda: CommandLimiter(LOGIN_ATTEMPTS, LOGIN_PERIOD, max_users=10_000)
    )

    def __post_init__(self) -> None:
        self.dashboard = DashboardStore(self.storage.engine)
        self.readers = ReaderStore(self.storage.engine)

    @property
    def lang(self) -> Lang:
        return as_lang(self.settings.site.language)

    def when(self, moment: datetime | None) -> str:
        return when(moment, self.lang, self.settings.site.tz)

    def channel(self, channel_id: str) -> ChannelSettings | None:
        return next((c for c in self.settings.channels if c.id == channel_id), None)


def web_link(url: str | None) -> str:
    """An address fit for href/src: http(s) only (a feed's odd scheme becomes a dead link)."""
    return url if url and url.lower().startswith(("https://", "http://")) else "#"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["web_link"] = web_link
    return env


# Every answer: no framing, no sniffing, only our own script and style; images from anywhere
# (the previews show the site's pictures).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' https: http: data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


def _client_key(request: Request) -> int:
    host = request.client.host if request.client else "?"
    try:
        return int(ipaddress.ip_address(host))
    except ValueError:
        return zlib.crc32(host.encode())


class Dashboard:
    """The routes; every page and action but /login, /healthz and /metrics needs an admin."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.env = _environment()
        self.registry = registry_for(
            RelaisCollector(lambda: self.ctx.settings, ctx.storage, ctx.dashboard, ctx.clock.now)
        )

    # ---- plumbing ------------------------------------------------------------------------

    def page(self, request: Request, name: str, status: int = 200, **values: Any) -> Response:
        ctx = self.ctx
        lang = ctx.lang
        session = request.session
        flash = session.pop("flash", None)
        template = self.env.get_template(name)
        body = template.render(
            t=lambda key, **kw: word(lang, key, **kw),
            lang=lang,
            site=ctx.settings.site,
            user=session.get("user"),
            csrf=session.get("csrf", ""),
            flash=flash,
            path=request.url.path,
            when=ctx.when,
            **values,
        )
        return HTMLResponse(body, status_code=status)

    def admin(self, request: Request) -> int | None:
        """The logged-in admin's id, or None (anonymous, or no longer in telegram.admins)."""
        user = request.session.get("user")
        if not isinstance(user, int) or user not in self.ctx.settings.telegram.admins:
            return None
        return user

    def message(
        self, request: Request, status: int, key: str, *, login_help: bool = False
    ) -> Response:
        text = word(self.ctx.lang, key) if key else ""
        return self.page(request, "message.html", status, message=text, login_help=login_help)

    def refused(self, request: Request) -> Response:
        request.session.pop("user", None)
        return self.message(request, 403, "error_403", login_help=True)

    async def form(self, request: Request) -> dict[str, str] | None:
        """The posted form when its CSRF token matches the session's, else None."""
        data = await request.form()
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        if not auth.csrf_ok(request.session.get("csrf"), values.get("csrf")):
            return None
        return values

    def back(self, request: Request, message: str, fallback: str = "/queue") -> Response:
        request.session["flash"] = message
        target = request.headers.get("referer", "")
        base = str(request.base_url).rstrip("/")
        path = target[len(base) :] if target.startswith(base) else fallback
        return RedirectResponse(path or fallback, status_code=303)

    # ---- login ---------------------------------------------------------------------------

    def _check_link(self, request: Request, token: str) -> auth.LoginClaim | auth.LoginRefusal:
        now = self.ctx.clock.now()
        if self.ctx.limiter.check(_client_key(request), now) is not Verdict.ALLOW:
            return auth.LoginRefusal.RATE_LIMITED
        claim = auth.read_token(self.ctx.dashboard.web_secret(), token, now)
        refusal = auth.decide_login(
            claim, frozenset(self.ctx.settings.telegram.admins), first_use=True
        )
        return refusal if refusal is not None else claim

    async def login_page(self, request: Request) -> Response:
        """GET shows a button: a link preview or a mail scanner fetching the link does not
        use it up. The POST of that button logs in."""
        token = request.path_params["token"]
        found = self._check_link(request, token)
        if isinstance(found, auth.LoginRefusal):
            return self._login_refused(request, found)
        return self.page(request, "login.html", token=token)

    async def login(self, request: Request) -> Response:
        token = request.path_params["token"]
        found = self._check_link(request, token)
        now = self.ctx.clock.now()
        if isinstance(found, auth.LoginClaim) and not self.ctx.dashboard.use_login_nonce(
            found.nonce, found.user_id, now
        ):
            found = auth.LoginRefusal.USED
        if isinstance(found, auth.LoginRefusal):
            return self._login_refused(request, found)
        request.session.clear()
        request.session.update({"user": found.user_id, "csrf": auth.new_csrf_token()})
        self.ctx.dashboard.record_action(found.user_id, "login", "", "", now)
        log.info("dashboard: admin %s logged in", found.user_id)
        return RedirectResponse("/", status_code=303)

    def _login_refused(self, request: Request, refusal: auth.LoginRefusal) -> Response:
        log.warning("dashboard: login refused (%s)", refusal.value)
        status = 429 if refusal is auth.LoginRefusal.RATE_LIMITED else 403
        message = word(self.ctx.lang, f"refused_{refusal.value}")
        return self.page(request, "message.html", status, message=message, login_help=True)

    async def logout(self, request: Request) -> Response:
        if request.method == "POST" and await self.form(request) is None:
            return self.message(request, 403, "csrf_refused")
        request.session.clear()
        request.session["flash"] = word(self.ctx.lang, "logged_out")
        return RedirectResponse("/login", status_code=303)

    async def login_help(self, request: Request) -> Response:
        return self.page(request, "message.html", message="", login_help=True)

    # ---- operator endpoints --------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        ctx = self.ctx
        try:
            ctx.dashboard.ping()
            error = None
        except StorageError as err:
            error = str(err)
        verdict = health(
            database_error=error,
            last_round=ctx.last_round() if ctx.last_round else None,
            worker=ctx.last_round is not None,
            now=ctx.clock.now(),
        )
        body = {"status": "ok" if verdict.ok else "unhealthy", "reasons": list(verdict.reasons)}
        return JSONResponse(body, status_code=verdict.status)

    async def metrics(self, request: Request) -> Response:
        try:
            data = generate_latest(self.registry)
        except StorageError as err:
            return PlainTextResponse(f"# database unavailable: {err}\n", status_code=503)
        return Response(data, media_type=CONTENT_TYPE_LATEST)

    # ---- pages ---------------------------------------------------------------------------

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
            first = ctx.dashboard.queue(channel.id, states=(DeliveryState.QUEUED,), limit=1)
            plan = self._plan(channel, [p.delivery for p in first])
            channels.append(
                (channel, state, found.counts if found else {}, min(plan.values(), default=None))
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
        for post in ctx.dashboard.queue(states=trouble, limit=30):
            d = post.delivery
            if d.state is DeliveryState.FAILED:
                alerts.append(
                    word(
                        lang,
                        "alert_failed",
                        channel=d.channel_id,
                        title=post.title,
                        error=d.error or "",
                    )
                )
            elif d.state is DeliveryState.UNKNOWN:
                alerts.append(word(lang, "alert_unknown", channel=d.channel_id, title=post.title))
        return self.page(
            request,
            "today.html",
            feeds=feeds,
            channels=channels,
            watch=alerts[:30],
            alerts=ctx.dashboard.alerts(ctx.clock.now() - ALERTS_SHOWN),
            actions=ctx.dashboard.actions(10),
        )

    def _pacing(self, channel: ChannelSettings) -> str:
        lang = self.ctx.lang
        quiet = channel.quiet_hours
        return word(
            lang,
            "pacing",
            gap=_duration(channel.gap),
            cap=channel.max_per_day or word(lang, "no_cap"),
            quiet=f"{quiet[0]:%H:%M}-{quiet[1]:%H:%M}" if quiet else word(lang, "no_quiet"),
        )

    def _plan(self, channel: ChannelSettings, posts: list[Delivery]) -> dict[int, datetime]:
        ctx = self.ctx
        now = ctx.clock.now()
        tz = ctx.settings.site.tz
        last, today = ctx.dashboard.pacing_facts(channel.id, local_midnight(now, tz))
        planned = project_queue(posts, channel, now=now, last_post=last, posts_today=today, tz=tz)
        return {p.delivery.id: p.at for p in planned}

    async def queue(self, request: Request) -> Response:
        if self.admin(request) is None:
            return self.refused(request)
        ctx = self.ctx
        wanted = request.query_params.get("channel") or None
        sections = []
        for channel in ctx.settings.channels:
            if wanted is not None and channel.id != wanted:
                continue
            posts = ctx.dashboard.queue(channel.id)
            plan = self._plan(channel, [p.delivery for p in posts])
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
        hits = self.ctx.dashboard.search_articles(q)
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
            article, first_seen, deliveries = self.ctx.dashboard.article_deliveries(
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
                cards.append(self._card(channel, article, ctx.dashboard.teaser_edit(delivery.id)))
        elif url:
            hosts = allowed_hosts(ctx.settings.site.url, [f.url for f in ctx.settings.feeds])
            article = None
            if check_url(url, hosts) is not None:
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
        fingerprint = snapshot(path).fingerprint if path is not None and path.is_file() else ""
        plans = []
        for channel in ctx.settings.channels:
            posts = ctx.dashboard.queue(channel.id, limit=10)
            plan = self._plan(channel, [p.delivery for p in posts])
            plans.append((channel, posts, plan))
        return self.page(
            request,
            "planning.html",
            plans=plans,
            fingerprint=fingerprint,
            config=str(path) if path is not None else "",
            duration=_duration,
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
        change = PacingChange(
            channel_id,
            values.get("min_gap", ""),
            values.get("max_per_day", ""),
            values.get("quiet_hours", ""),
        )
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
        detail = " ".join(f"{key}={getattr(change, key)}" for key in PACING_KEYS)
        ctx.dashboard.record_action(user, "planning", channel_id, detail, ctx.clock.now())
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
            topics=self.ctx.dashboard.readers_per_topic(),
            broadcasts=sorted(self.ctx.readers.broadcast_counts().items()),
            digests=self.ctx.dashboard.recent_digests(),
        )

    # ---- actions -------------------------------------------------------------------------

    async def act(self, request: Request) -> Response:
        """POST /queue/{id}/{action}: publish, skip, retry, move, teaser."""
        user = self.admin(request)
        if user is None:
            return self.refused(request)
        values = await self.form(request)
        if values is None:
            return self.message(request, 403, "csrf_refused")
        action = request.path_params["action"]
        handler = ACTIONS.get(action)
        raw_id = request.path_params["id"]
        delivery = self.ctx.storage.delivery(int(raw_id)) if raw_id.isdigit() else None
        if handler is None or delivery is None:
            return self.message(request, 404, "not_found")
        message = handler(self, delivery, values, user)
        return self.back(request, message, f"/queue?{urlencode({'channel': delivery.channel_id})}")

    def _done(
        self, ok: bool, delivery: Delivery, key: str, user: int, detail: str = "", **kw: Any
    ) -> str:
        ctx = self.ctx
        if not ok:
            state = word(ctx.lang, f"state_{delivery.state.value}")
            return word(ctx.lang, "refused_action", id=delivery.id, state=state)
        action = key.removeprefix("done_")
        ctx.dashboard.record_action(user, action, f"#{delivery.id}", detail, ctx.clock.now())
        log.info("dashboard: admin %s: %s #%s %s", user, action, delivery.id, detail)
        ctx.wake()
        return word(ctx.lang, key, id=delivery.id, **kw)

    def publish_now(self, delivery: Delivery, values: dict[str, str], user: int) -> str:
        now = self.ctx.clock.now()
        return self._done(
            self.ctx.dashboard.reschedule(delivery.id, now, now), delivery, "done_publish", user
        )

    def move(self, delivery: Delivery, values: dict[str, str], user: int) -> str:
        ctx = self.ctx
        channel = ctx.channel(delivery.channel_id)
        now = ctx.clock.now()
        if channel is None:
            return word(ctx.lang, "not_found")
        due = next_slot_after(channel, delivery.due_at, now)
        ok = ctx.dashboard.reschedule(delivery.id, due, now)
        return self._done(ok, delivery, "done_move", user, due.isoformat(), when=ctx.when(due))

    def skip(self, delivery: Delivery, values: dict[str, str], user: int) -> str:
        now = self.ctx.clock.now()
        ok = self.ctx.storage.mark_skipped(delivery.id, f"skipped by admin {user}", now)
        return self._done(ok, delivery, "done_skip", user)

    def retry(self, delivery: Delivery, values: dict[str, str], user: int) -> str:
        now = self.ctx.clock.now()
        ok = self.ctx.storage.mark_queued(delivery.id, now, "retried by admin", now)
        return self._done(ok, delivery, "done_retry", user)

    def teaser(self, delivery: Delivery, values: dict[str, str], user: int) -> str:
        text = values.get("teaser", "").replace("\r\n", "\n").strip()[:TEASER_MAX]
        ok = self.ctx.dashboard.set_teaser(delivery.id, text, user, self.ctx.clock.now())
        return self._done(ok, delivery, "done_teaser", user, text[:200])


# The queue's actions. Extension point for issue 14: "approve" (a `pending` delivery) and a
# slot-aware "move" join this table when pending approvals and slots exist.
ACTIONS: dict[str, Callable[[Dashboard, Delivery, dict[str, str], int], str]] = {
    "publish": Dashboard.publish_now,
    "move": Dashboard.move,
    "skip": Dashboard.skip,
    "retry": Dashboard.retry,
    "teaser": Dashboard.teaser,
}


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def create_app(ctx: WebContext, *, extra_routes: list[Route] | None = None) -> Starlette:
    """The ASGI app. `extra_routes`: what the serving process adds (the Telegram webhook)."""
    dash = Dashboard(ctx)
    web = ctx.settings.web
    routes = [
        Route("/", dash.today),
        Route("/queue", dash.queue),
        Route("/queue/{id}/{action}", dash.act, methods=["POST"]),
        Route("/history", dash.history),
        Route("/article/{key}", dash.article),
        Route("/preview", dash.preview),
        Route("/planning", dash.planning),
        Route("/planning/{channel}", dash.save_planning, methods=["POST"]),
        Route("/subscribers", dash.subscribers),
        Route("/login", dash.login_help),
        Route("/login/{token}", dash.login_page),
        Route("/login/{token}", dash.login, methods=["POST"]),
        Route("/logout", dash.logout, methods=["GET", "POST"]),
        Route("/healthz", dash.healthz),
        Route("/metrics", dash.metrics),
        Mount("/static", StaticFiles(packages=[("bot.web", "static")]), name="static"),
        *(extra_routes or []),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=ctx.dashboard.web_secret(),
            session_cookie="relais_session",
            max_age=int(SESSION_AGE.total_seconds()),
            same_site="lax",
            https_only=bool(web and web.secure),
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.dashboard = dash
    return app

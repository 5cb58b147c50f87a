"""What every group of routes shares: templates, the admin logged in, checked forms, redirects."""

from __future__ import annotations

from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.delivery.plan import Planned, plan_channel
from bot.delivery.queue_order import Waiting
from bot.delivery.schedule import local_midnight
from bot.delivery.slots import Tally
from bot.models import DeliveryState
from bot.settings import ChannelSettings
from bot.storage.dashboard import QueuedPost
from bot.web import auth
from bot.web.context import WebContext
from bot.web.texts import word

PLAN_HOURS = 7 * 24  # how far ahead the queue and the planning pages play the schedule


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


class Routes:
    """The dashboard's shared plumbing; the route groups (login, pages, actions, operator
    endpoints) build on it."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.env = _environment()

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

    def plan_of(self, channel: ChannelSettings, posts: list[QueuedPost]) -> dict[int, Planned]:
        """When each queued post goes out, from the service's own decisions (`relais plan`)."""
        ctx = self.ctx
        now = ctx.clock.now()
        tz = ctx.settings.site.tz
        last, today = ctx.storage.pacing_facts(channel.id, local_midnight(now, tz))
        tally = Tally(last, now.astimezone(tz).date(), today)
        waiting = [
            Waiting(p.delivery.id, p.article, p.delivery.due_at)
            for p in posts
            if p.delivery.state is DeliveryState.QUEUED
        ]
        planned = plan_channel(
            now, hours=PLAN_HOURS, channel=channel, tz=tz, items=waiting, tally=tally
        )
        return {p.delivery: p for p in planned if p.delivery is not None}

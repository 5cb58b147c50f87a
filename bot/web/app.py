"""The dashboard as a Starlette ASGI app: its routes, sessions and security headers."""

from __future__ import annotations

from datetime import timedelta

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.actions import ActionRoutes
from bot.web.context import WebContext
from bot.web.login import LoginRoutes
from bot.web.operator import OperatorRoutes
from bot.web.pages import PageRoutes

SESSION_AGE = timedelta(hours=12)


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


class Dashboard(LoginRoutes, OperatorRoutes, PageRoutes, ActionRoutes):
    """Every route of the dashboard, grouped by role in their own modules."""


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
            secret_key=ctx.storage.web_secret(),
            session_cookie="relais_session",
            max_age=int(SESSION_AGE.total_seconds()),
            same_site="lax",
            https_only=bool(web and web.secure),
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.dashboard = dash
    return app

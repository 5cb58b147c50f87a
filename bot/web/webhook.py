"""The Telegram webhook on the dashboard's port: one port for a Heroku-style `web:` process."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.settings import Settings

log = logging.getLogger("relais.web")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATE_MAX = 1024 * 1024  # bytes: Telegram's updates are a few kilobytes
Feed = Callable[[dict[str, Any]], Awaitable[None]]


def webhook_route(settings: Settings, feed: Callable[[], Feed | None]) -> Route | None:
    """A POST route at the path of `telegram.webhook.url`, or None without a webhook.

    `feed()` gives the running reader bot's `feed_update` (None while it is not running).
    Telegram's secret token header is checked when one is configured.
    """
    webhook = settings.telegram.webhook
    if webhook is None:
        return None
    path = "/" + urlsplit(webhook.url).path.strip("/")
    secret = webhook.secret_token.get_secret_value() if webhook.secret_token else ""

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook: refused an update without the right secret token")
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        if len(body) > UPDATE_MAX:
            return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            return PlainTextResponse("not JSON", status_code=400)
        handler = feed()
        if handler is None:  # the bot is starting or stopped: Telegram sends it again later
            return PlainTextResponse("not ready", status_code=503)
        if not isinstance(data, dict):
            return PlainTextResponse("not an update", status_code=400)
        await handler(data)
        return PlainTextResponse("ok")

    return Route(path, receive, methods=["POST"])

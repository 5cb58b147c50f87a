"""Serving the dashboard: uvicorn inside the service's event loop, or alone (`relais web`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from starlette.routing import Route

from bot.errors import RelaisError
from bot.settings import Settings, WebSettings
from bot.storage.store import Storage
from bot.web.app import create_app
from bot.web.auth import login_token, login_url
from bot.web.context import WebContext
from bot.web.journal import AlertJournal
from bot.web.webhook import Feed, webhook_route

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("relais.web")


class _LoopServer(uvicorn.Server):
    """uvicorn's server without its signal handlers: the service owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def context_for(app: App, config_path: Path | None, *, worker: bool) -> WebContext:
    """The dashboard's view of a running App (`relais run`) or of one built for `relais web`."""

    def apply(settings: Settings) -> None:
        # Only pacing keys change from the dashboard; each part reads them at its next round.
        for part in (app, app.outbox, app.poller, app.service, app.post, app.tokens):
            part.settings = settings

    service = app.service
    return WebContext(
        settings=app.settings,
        storage=app.storage,
        clock=app.clock,
        config_path=config_path,
        wake=service.wake,
        fetch_article=app.post.fetch_article,
        last_round=(lambda: service.last_round) if worker else None,
        apply_settings=apply,
        metrics=app.metrics if worker else None,
    )


async def serve(
    ctx: WebContext,
    web: WebSettings,
    stop: asyncio.Event,
    *,
    extra_routes: list[Route] | None = None,
) -> None:
    """Serve the dashboard on `web.listen:web.port` until `stop` is set."""
    config = uvicorn.Config(
        create_app(ctx, extra_routes=extra_routes),
        host=web.listen,
        port=web.port,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
        lifespan="off",
    )
    server = _LoopServer(config)

    async def watch() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(watch())
    log.info("dashboard on http://%s:%s (%s)", web.listen, web.port, web.base_url)
    try:
        await server.serve()  # in this task: a failure to bind comes out here (SystemExit)
    finally:
        watcher.cancel()


async def serve_web(app: App, stop: asyncio.Event, config_path: Path | None) -> None:
    """`relais run` with `web:` set: the dashboard beside the scheduler and the bot. A web
    server that cannot start (port taken) is logged; the channels keep posting."""
    web = app.settings.web
    if web is None:
        return

    def feed() -> Feed | None:  # the reader bot starts after the server, and may stop
        reader = app.service.reader
        return reader.feed_update if reader is not None else None

    app.alerts.add_notifier(AlertJournal(app.storage, app.clock))
    route = webhook_route(app.settings, feed)
    try:
        await serve(
            context_for(app, config_path, worker=True),
            web,
            stop,
            extra_routes=[route] if route is not None else None,
        )
    except (OSError, SystemExit, RelaisError) as err:
        log.error("the dashboard could not start on %s:%s: %s", web.listen, web.port, err)


def login_link(settings: Settings, storage: Storage, user_id: int, now: datetime) -> str:
    """A one-time login link for this admin (`relais web-login`, the bot's /web)."""
    web = settings.web or WebSettings()
    token = login_token(storage.web_secret(), user_id, now)
    return login_url(web.base_url, token)


async def run_dashboard(settings: Settings, config_path: Path | None) -> int:
    """`relais web`: the dashboard alone over the same database, read-write, for a host where
    the worker runs elsewhere (no polling, no delivery here; actions wake nothing)."""
    from bot.app import App
    from bot.service_loop import install_stop_signals

    stop = asyncio.Event()
    install_stop_signals(stop)
    storage = Storage.open(settings.storage)
    app = App(settings, storage)
    try:
        await serve(
            context_for(app, config_path, worker=False), settings.web or WebSettings(), stop
        )
    finally:
        await app.aclose()
        storage.close()
    return 0

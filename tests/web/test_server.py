"""Serving inside the service: live planning changes, and a web port that cannot be had."""

from __future__ import annotations

import asyncio
import socket

import pytest

from bot.app import App
from bot.settings import WebSettings
from bot.web.planning import save_pacing, snapshot
from bot.web.server import context_for, serve_web
from tests.web.conftest import World
from tests.web.test_planning import change


async def test_a_saved_planning_reaches_the_running_service(world: World) -> None:
    app = App(world.settings, world.storage)
    try:
        ctx = context_for(app, world.config, worker=True)
        path = world.config
        saved = save_pacing(path, change(max_per_day="7"), snapshot(path).fingerprint)
        assert ctx.apply_settings is not None
        ctx.apply_settings(saved)
        assert app.outbox.settings.channel("tg-main").max_per_day == 7
        assert app.settings is saved and app.poller.settings is saved
    finally:
        await app.aclose()


async def test_a_taken_port_is_logged_and_the_service_goes_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        web = WebSettings(listen="127.0.0.1", port=port, base_url=f"http://127.0.0.1:{port}")
        app = App(world.settings.model_copy(update={"web": web}), world.storage)
        try:
            await asyncio.wait_for(serve_web(app, asyncio.Event(), world.config), timeout=20)
        finally:
            await app.aclose()
    assert f"the dashboard could not start on 127.0.0.1:{port}" in caplog.text

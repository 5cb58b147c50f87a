"""Shared by the end-to-end tests: the demo feed served locally, and a site config on the fakes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram

DEMO = (Path(__file__).resolve().parents[2] / "bot" / "data" / "demo_feed.xml").read_bytes()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    """The bundled demo feed served at /feed on 127.0.0.1."""
    with FeedServer() as server:
        server.set("/feed", DEMO)
        yield server


def telegram_site(
    tg: FakeTelegram, feed_url: str, db: str, *, first_run: str = "all", **telegram: Any
) -> dict[str, Any]:
    """The config of a site whose feed posts to @sahel_actu through the fake Bot API."""
    return {
        "site": {"name": "Sahel-Actu", "url": "https://sahel-actu.example"},
        "storage": db,
        "feeds": [{"id": "sahel", "url": feed_url, "first_run": first_run, "every": "1m"}],
        "channels": [
            {
                "id": "tg-main",
                "type": "telegram",
                "chat": "@sahel_actu",
                "max_age": None,
                "min_gap": "0s",
            }
        ],
        "telegram": {"token": tg.token, "api_url": tg.base_url, **telegram},
    }

"""Shared by the end-to-end tests: a site with one feed and one Telegram channel on the fakes."""

from __future__ import annotations

from typing import Any

from tests.fakes.telegram_api import FakeTelegram


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

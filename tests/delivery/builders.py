"""Builders for the schedule tests: channels with planning keys, waiting posts, local times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.delivery.queue_order import Waiting
from bot.settings import ChannelSettings, Settings
from tests.core.helpers import article, settings

BAMAKO = ZoneInfo("Africa/Bamako")
PARIS = ZoneInfo("Europe/Paris")


def site_settings(tz: str = "Africa/Bamako", **channel: Any) -> Settings:
    base: dict[str, Any] = {"id": "tg", "type": "console", "max_age": None, "min_gap": "0s"}
    s = settings([{**base, **channel}])
    return s.model_copy(update={"site": s.site.model_copy(update={"timezone": tz})})


def channel(**kw: Any) -> ChannelSettings:
    return site_settings(**kw).channels[0]


def local(
    day: int, hour: int, minute: int = 0, *, month: int = 11, tz: ZoneInfo = BAMAKO
) -> datetime:
    """An aware UTC instant from a local wall-clock time (year 2026)."""
    return datetime(2026, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


def waiting(
    n: int, due: datetime, *, published: datetime | None = None, urgent: bool = False, **kw: Any
) -> Waiting:
    return Waiting(n, article(n, published=published or due, **kw), due, urgent=urgent)


def overnight(count: int, day: int = 3, tz: ZoneInfo = BAMAKO) -> list[Waiting]:
    """`count` articles published and queued between 00:10 and 05:50 local time."""
    start = local(day, 0, 10, tz=tz)
    step = timedelta(minutes=340) / max(count - 1, 1)
    return [waiting(i + 1, start + step * i) for i in range(count)]

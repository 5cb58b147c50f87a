"""The plan as people read it (`relais plan`, `/plan`, the dashboard's queue): each channel's
schedule facts, read from the storage as its claim reads them, played forward by `plan.py`."""

from __future__ import annotations

from datetime import datetime

from bot.delivery.plan import Planned, merge_plans, plan_from
from bot.delivery.schedule import local_midnight
from bot.settings import Settings
from bot.storage.store import Storage

DEFAULT_HOURS = 24.0


def channel_plans(
    settings: Settings,
    storage: Storage,
    now: datetime,
    *,
    hours: float = DEFAULT_HOURS,
    channel_id: str | None = None,
) -> list[Planned]:
    """What will go out when, from `now` for `hours`, on every channel (or one), in time order.
    A paused channel is planned as if resumed: the plan says what its queue holds."""
    tz = settings.site.tz
    day_start = local_midnight(now, tz)
    return merge_plans(
        plan_from(
            now,
            storage.schedule_facts(channel.id, day_start),
            hours=hours,
            channel=channel,
            tz=tz,
        )
        for channel in settings.channels
        if channel_id is None or channel.id == channel_id
    )

"""Pure: when each queued post of a channel goes out under its pacing (gap, cap, quiet hours)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.delivery.schedule import local_midnight, next_slot
from bot.models import Delivery, DeliveryState
from bot.settings import ChannelSettings

# "Move to the next slot" on a channel without slots (issue 14 adds them): one hour later.
DEFER_WITHOUT_SLOTS = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Planned:
    delivery: Delivery
    at: datetime


def project_queue(
    queued: Sequence[Delivery],
    channel: ChannelSettings,
    *,
    now: datetime,
    last_post: datetime | None,
    posts_today: int,
    tz: ZoneInfo,
) -> list[Planned]:
    """The queued deliveries in the order the outbox takes them, each with the instant the
    channel's pacing lets it go, from the same `next_slot` the outbox uses."""
    out: list[Planned] = []
    day = local_midnight(now, tz)
    for delivery in sorted(queued, key=lambda d: (d.due_at, d.id)):
        if delivery.state is not DeliveryState.QUEUED:
            continue
        start = max(now, delivery.due_at)
        if local_midnight(start, tz) != day:  # a new local day: the cap starts again
            day, posts_today = local_midnight(start, tz), 0
        at = next_slot(
            start,
            last_post=last_post,
            posts_today=posts_today,
            min_gap=channel.gap,
            max_per_day=channel.max_per_day,
            quiet_hours=channel.quiet_hours,
            tz=tz,
        )
        if local_midnight(at, tz) != day:
            day, posts_today = local_midnight(at, tz), 0
        out.append(Planned(delivery, at))
        last_post, posts_today = at, posts_today + 1
    return out


def next_slot_after(channel: ChannelSettings, due: datetime, now: datetime) -> datetime:
    """Where "move to the next slot" puts a post. Extension point for issue 14: with slots,
    the next slot after `due`; today, DEFER_WITHOUT_SLOTS later."""
    return max(due, now) + DEFER_WITHOUT_SLOTS

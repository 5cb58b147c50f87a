"""Pure: where "move to the next slot" puts a queued post."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.delivery.next_post import pacing_of
from bot.delivery.slots import first_slot
from bot.settings import ChannelSettings

# On a channel without slots, "next slot" means this much later.
DEFER_WITHOUT_SLOTS = timedelta(hours=1)


def next_slot_after(
    channel: ChannelSettings, planned: datetime, now: datetime, tz: ZoneInfo
) -> datetime:
    """The channel's first slot after the time the post was planned for (`planned`, or now if
    that has passed); one hour later on a channel without slots."""
    start = max(planned, now)
    slots = pacing_of(channel, tz).slots
    if slots is None:
        return start + DEFER_WITHOUT_SLOTS
    found = first_slot(start + timedelta(seconds=1), slots, tz)
    return found[0] if found is not None else start + DEFER_WITHOUT_SLOTS

"""Pure timing decisions: when a channel may post next, and when a failed delivery is retried."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_BACKOFF = timedelta(hours=1)
BASE_BACKOFF = timedelta(seconds=30)


def in_quiet_hours(local: datetime, quiet: tuple[time, time]) -> bool:
    """Whether the local wall-clock time of `local` falls inside the quiet period."""
    start, end = quiet
    t = local.time()
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def _quiet_end(local: datetime, quiet: tuple[time, time]) -> datetime:
    """The first instant at or after `local` that is outside the quiet period."""
    end = quiet[1]
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    """The start of the local day containing `now`, as an aware datetime in `tz`."""
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def next_slot(
    now: datetime,
    *,
    last_post: datetime | None,
    posts_today: int,
    min_gap: timedelta,
    max_per_day: int | None,
    quiet_hours: tuple[time, time] | None,
    tz: ZoneInfo,
) -> datetime:
    """The earliest instant ≥ now at which the channel may post, given its pacing rules.

    `posts_today` counts the posts made since local midnight of `now`. When the daily cap is
    reached the answer is next local midnight (then quiet hours apply on top).
    """
    slot = now
    if last_post is not None and last_post + min_gap > slot:
        slot = last_post + min_gap
    if max_per_day is not None and posts_today >= max_per_day:
        tomorrow = local_midnight(now, tz) + timedelta(days=1)
        # Rebuild from the wall clock so that a DST change does not shift midnight.
        tomorrow = tomorrow.replace(tzinfo=None).replace(tzinfo=tz)
        slot = max(slot, tomorrow)
    if quiet_hours is not None:
        local = slot.astimezone(tz)
        if in_quiet_hours(local, quiet_hours):
            slot = _quiet_end(local, quiet_hours)
    result: datetime = slot.astimezone(now.tzinfo)
    return result


def retry_at(now: datetime, *, attempts: int, retry_after: float | None, rand: float) -> datetime:
    """When to try a transient failure again: `retry_after` when the platform said, else
    exponential backoff (30 s, 1 min, 2 min … capped at 1 h) with up to 20 % jitter."""
    if retry_after is not None and retry_after >= 0:
        return now + timedelta(seconds=retry_after + 1)
    exponent = max(0, min(attempts - 1, 20))
    delay: timedelta = min(BASE_BACKOFF * (2**exponent), MAX_BACKOFF)
    return now + delay * (1 + 0.2 * rand)

"""Pure roundup decisions: which piled-up posts a roundup covers, and which wait for one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.delivery.plan_settings import RoundupSettings
from bot.delivery.queue_order import Order, Waiting, in_order
from bot.delivery.slots import wall_clock


@dataclass(frozen=True, slots=True)
class RoundupRules:
    """A channel's roundup, with what it needs to know of quiet hours and the time zone."""

    roundup: RoundupSettings
    tz: ZoneInfo
    quiet_hours: tuple[time, time] | None = None
    order: Order = "newest"


def roundups_on(day_of: datetime, rules: RoundupRules) -> list[datetime]:
    """The roundup instants (UTC) of the local day that contains `day_of`."""
    day = day_of.astimezone(rules.tz).date()
    return [wall_clock(day, at, rules.tz) for at in rules.roundup.times]


def _quiet_window(at: datetime, rules: RoundupRules) -> tuple[datetime, datetime] | None:
    """The quiet period whose piled-up posts the roundup at `at` gathers: the one that ended
    last, on the same local day, when this is the day's first roundup since it ended."""
    if not rules.roundup.after_quiet or rules.quiet_hours is None:
        return None
    start, end = rules.quiet_hours
    day = at.astimezone(rules.tz).date()
    ended = wall_clock(day, end, rules.tz)
    if ended > at or any(ended <= other < at for other in roundups_on(at, rules)):
        return None
    began = wall_clock(day if start < end else day - timedelta(days=1), start, rules.tz)
    return began, ended


def _left_over_before(at: datetime, rules: RoundupRules) -> datetime | None:
    """The day's first roundup also gathers what was left over from earlier days (held by the
    daily cap or full slots): posts due before local midnight."""
    instants = roundups_on(at, rules)
    if at != min(instants):
        return None
    local = at.astimezone(rules.tz)
    return wall_clock(local.date(), time(0, 0), rules.tz)


def covers(item: Waiting, at: datetime, rules: RoundupRules) -> bool:
    """Whether the roundup at `at` gathers this post (never an urgent one)."""
    if item.urgent or item.due >= at:
        return False
    window = _quiet_window(at, rules)
    if window is not None and window[0] <= item.due < window[1]:
        return True
    midnight = _left_over_before(at, rules)
    return midnight is not None and item.due < midnight


def held_until(
    item: Waiting, now: datetime, rules: RoundupRules, last_roundup: datetime | None
) -> datetime | None:
    """The roundup later today that this post waits for instead of going out alone, if any."""
    for at in roundups_on(now, rules):
        if at > now and (last_roundup is None or at > last_roundup) and covers(item, at, rules):
            return at
    return None


@dataclass(frozen=True, slots=True)
class Gathering:
    """A roundup that is due: its instant and the posts it covers, in the channel's order."""

    at: datetime
    covered: tuple[Waiting, ...]


def due_roundup(
    items: Sequence[Waiting], now: datetime, rules: RoundupRules, last_roundup: datetime | None
) -> Gathering | None:
    """The roundup to post now, if one of today's roundup times has come and not been made.

    It covers at most `max_items` posts (the first in the channel's order); the others go out
    alone in the slots. With fewer than `min_items` posts there is no roundup: they go out alone.
    """
    for at in roundups_on(now, rules):
        if at > now or (last_roundup is not None and at <= last_roundup):
            continue
        gathered = [item for item in items if covers(item, at, rules)]
        if len(gathered) >= rules.roundup.min_items:
            ordered = in_order(gathered, rules.order)
            return Gathering(at.astimezone(UTC), tuple(ordered[: rules.roundup.max_items]))
    return None

"""Pure slot decisions: the next instant a due post may take, given slots and the pacing rules."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.delivery.plan_settings import WeekSlots
from bot.delivery.schedule import in_quiet_hours, next_slot

# A rule set that can never open (every slot inside quiet hours) is refused by the settings;
# this bound only keeps a bug from looping forever.
_MAX_STEPS = 400

Reason = Literal["now", "slot", "quiet_end", "gap", "daily_cap"]


@dataclass(frozen=True, slots=True)
class Pacing:
    """A channel's timing rules, as the pure decisions need them."""

    tz: ZoneInfo
    slots: WeekSlots | None = None
    min_gap: timedelta = timedelta(0)
    max_per_day: int | None = None
    quiet_hours: tuple[time, time] | None = None


@dataclass(frozen=True, slots=True)
class Tally:
    """What the channel already posted: its last post, and how many on the local day `day`."""

    last_post: datetime | None = None
    day: date | None = None
    count: int = 0

    def count_on(self, day: date) -> int:
        return self.count if day == self.day else 0

    def after_post(self, at: datetime, tz: ZoneInfo) -> Tally:
        """The tally once one more post went out at `at`."""
        local_day = at.astimezone(tz).date()
        return replace(self, last_post=at, day=local_day, count=self.count_on(local_day) + 1)


@dataclass(frozen=True, slots=True)
class Opening:
    """When the next post may go out, and the rule that decided it (for `relais plan`)."""

    at: datetime
    reason: Reason
    slot: time | None = None


def wall_clock(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of the local wall-clock time `at` on `day`.

    Across daylight-saving changes a slot keeps its wall-clock time. A time that does not exist
    that day (clocks jump forward over it) comes out one hour later in local time; a time that
    happens twice (clocks go back) is taken the first time (`fold=0`).
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def first_slot(after: datetime, slots: WeekSlots, tz: ZoneInfo) -> tuple[datetime, time] | None:
    """The first slot instant at or after `after` (UTC), with its wall-clock time."""
    start = after.astimezone(tz).date()
    for offset in range(8):
        day = start + timedelta(days=offset)
        for at in slots.on(day.weekday()):
            instant = wall_clock(day, at, tz)
            if instant >= after:
                return instant, at
    return None


def next_opening(due: datetime, pacing: Pacing, tally: Tally) -> Opening:
    """The earliest instant ≥ `due` at which the channel may post its next post.

    How the rules combine (see docs/design.md, "Planning posts"): `min_gap`, `max_per_day` and
    `quiet_hours` give the earliest allowed instant (`schedule.next_slot`); with `slots`, the post
    then waits for the first slot at or after it that no post has used yet (a slot is used by
    the post made at or after it). A slot that the gap, the cap or quiet hours close is passed
    over: the post overflows to the next one, never dropped.
    """
    at = due.astimezone(UTC)
    reason: Reason = "now"
    slot_time: time | None = None
    for _ in range(_MAX_STEPS):
        allowed = next_slot(
            at,
            last_post=tally.last_post,
            posts_today=tally.count_on(at.astimezone(pacing.tz).date()),
            min_gap=pacing.min_gap,
            max_per_day=pacing.max_per_day,
            quiet_hours=pacing.quiet_hours,
            tz=pacing.tz,
        ).astimezone(UTC)
        if allowed > at:
            reason = _why_later(at, allowed, pacing, tally)
            at = allowed
        if pacing.slots is None:
            return Opening(at, reason)
        floor = at
        if tally.last_post is not None and tally.last_post >= floor:
            floor = tally.last_post + timedelta(microseconds=1)  # that slot is used
        found = first_slot(floor, pacing.slots, pacing.tz)
        if found is None:  # pragma: no cover - the settings refuse a week without slots
            raise ValueError("no slot on any day of the week")
        instant, slot_time = found
        if instant == at:
            return Opening(at, "slot", slot_time)
        at = instant
    raise ValueError("the channel's rules leave no instant to post")  # pragma: no cover


def _why_later(at: datetime, allowed: datetime, pacing: Pacing, tally: Tally) -> Reason:
    local_day = at.astimezone(pacing.tz).date()
    if pacing.max_per_day is not None and tally.count_on(local_day) >= pacing.max_per_day:
        return "daily_cap"
    if pacing.quiet_hours is not None and in_quiet_hours(
        at.astimezone(pacing.tz), pacing.quiet_hours
    ):
        gap_end = tally.last_post + pacing.min_gap if tally.last_post else None
        if gap_end is None or gap_end < allowed:
            return "quiet_end"
    return "gap"

"""The schedule's one decision: what a channel does next (urgent post, roundup, post in its
slot, skip stale posts, or wait until when), from its queue, what it posted and a given now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from bot.delivery.queue_order import Waiting, in_order, pick_next, stale
from bot.delivery.roundup import RoundupRules, due_roundup, held_until
from bot.delivery.slots import Pacing, Reason, Tally, next_opening
from bot.settings import ChannelSettings

Kind = Literal["post", "roundup", "urgent", "skip", "wait", "idle"]


def pacing_of(channel: ChannelSettings, tz: ZoneInfo) -> Pacing:
    return Pacing(
        tz=tz,
        slots=channel.slots,
        min_gap=channel.gap,
        max_per_day=channel.max_per_day,
        quiet_hours=channel.quiet_hours,
    )


def roundup_rules_of(channel: ChannelSettings, tz: ZoneInfo) -> RoundupRules | None:
    if channel.roundup is None:
        return None
    return RoundupRules(channel.roundup, tz, channel.quiet_hours, channel.order)


@dataclass(frozen=True, slots=True)
class Step:
    """What to do now (`post`, `roundup`, `urgent`, `skip`), or when to look again (`wait`),
    or nothing queued at all (`idle`). `items` are the posts concerned: the one to send, those a
    roundup covers, or those to skip as stale. `reason`/`slot` say why this instant."""

    kind: Kind
    at: datetime
    items: tuple[Waiting, ...] = ()
    reason: Reason | Literal["roundup", "urgent"] = "now"
    slot: time | None = None
    roundup_of: datetime | None = None  # a roundup's own instant (it may go out late)


def next_step(
    now: datetime,
    items: Sequence[Waiting],
    *,
    channel: ChannelSettings,
    tz: ZoneInfo,
    tally: Tally,
    last_roundup: datetime | None = None,
) -> Step:
    """The channel's next move. The caller applies a `post`/`roundup`/`urgent`/`skip` step and
    asks again; on `wait` it comes back at `at` (or sooner, when something new is queued).

    Order of precedence: urgent posts (at once, whatever the slots, gap, cap and quiet hours);
    stale posts (skipped: `max_age` is checked again when the turn comes); a roundup whose time
    came; then the next post in its opening (`slots.next_opening`), chosen by `order`.
    """
    now = now.astimezone(UTC)
    urgent = [i for i in items if i.urgent and i.due <= now]
    if urgent:
        return Step("urgent", now, (in_order(urgent, "oldest")[0],), "urgent")
    old = stale(items, now, channel)
    if old:
        return Step("skip", now, old)
    rules = roundup_rules_of(channel, tz)
    pacing = pacing_of(channel, tz)
    wakes: list[Step] = [Step("wait", i.due, (), "urgent") for i in items if i.urgent]
    regular = [i for i in items if not i.urgent]
    if rules is not None:
        gathering = due_roundup(regular, now, rules, last_roundup)
        if gathering is not None:
            after_gap = tally.last_post + pacing.min_gap if tally.last_post else now
            if after_gap > now:
                return Step("wait", after_gap, gathering.covered, "gap")
            return Step(
                "roundup",
                now,
                gathering.covered,
                "roundup",
                gathering.at.astimezone(tz).time(),
                gathering.at,
            )
        holds = {id(i): held_until(i, now, rules, last_roundup) for i in regular}
        wakes += [Step("wait", at, (), "roundup") for at in holds.values() if at is not None]
        regular = [i for i in regular if holds[id(i)] is None]
    if regular:
        opening = next_opening(min(i.due for i in regular), pacing, tally)
        if opening.at <= now:
            pick = pick_next(regular, now, channel)
            if pick.take is not None:
                return Step("post", now, (pick.take,), opening.reason, opening.slot)
        wakes.append(Step("wait", opening.at, (), opening.reason, opening.slot))
    if wakes:
        return min(wakes, key=lambda step: step.at)
    return Step("idle", now)

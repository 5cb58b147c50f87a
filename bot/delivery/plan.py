"""What will go out when (`relais plan`, `/plan`): the service's own decisions played forward."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.delivery.approval import approval_deadline
from bot.delivery.next_post import next_step
from bot.delivery.queue_order import Waiting
from bot.delivery.slots import Tally
from bot.models import Article
from bot.settings import ChannelSettings

WhyKind = Literal["slot", "quiet_end", "roundup", "pending", "urgent", "gap", "daily_cap", "now"]

_WHY: dict[str, dict[WhyKind, str]] = {
    "fr": {
        "slot": "créneau de {at}",
        "quiet_end": "fin des heures calmes",
        "roundup": "récapitulatif de {at}",
        "pending": "en attente d'approbation",
        "urgent": "urgent : tout de suite",
        "gap": "après l'intervalle minimal",
        "daily_cap": "limite quotidienne atteinte : le lendemain",
        "now": "dès que possible",
    },
    "en": {
        "slot": "{at} slot",
        "quiet_end": "end of quiet hours",
        "roundup": "{at} roundup",
        "pending": "awaiting approval",
        "urgent": "urgent: at once",
        "gap": "after the minimum gap",
        "daily_cap": "daily cap reached: next day",
        "now": "as soon as possible",
    },
}


@dataclass(frozen=True, slots=True)
class Why:
    kind: WhyKind
    at: time | None = None

    def text(self, language: str) -> str:
        template = _WHY.get(language, _WHY["fr"])[self.kind]
        return template.format(at=f"{self.at:%H:%M}" if self.at else "")


@dataclass(frozen=True, slots=True)
class Planned:
    """One post the channel will make: when, what kind, in which state, covering which articles."""

    channel: str
    due: datetime
    kind: Literal["post", "roundup", "urgent"]
    state: Literal["queued", "pending"]
    delivery: int | None
    articles: tuple[Article, ...]
    why: Why


@dataclass(frozen=True, slots=True)
class PendingApproval:
    """A delivery waiting for an admin since `asked_at`."""

    delivery: int
    article: Article
    asked_at: datetime


@dataclass(frozen=True, slots=True)
class ScheduleFacts:
    """What the schedule knows of a channel, as its claim reads it: the queued posts, its last
    post and today's count, its last roundup, and the posts pending approval."""

    items: tuple[Waiting, ...]
    last_post: datetime | None
    posts_today: int
    last_roundup: datetime | None
    pending: tuple[PendingApproval, ...] = ()

    def tally(self, now: datetime, tz: ZoneInfo) -> Tally:
        return Tally(self.last_post, now.astimezone(tz).date(), self.posts_today)


def plan_from(
    now: datetime, facts: ScheduleFacts, *, hours: float, channel: ChannelSettings, tz: ZoneInfo
) -> list[Planned]:
    """`plan_channel` from the facts the storage read."""
    return plan_channel(
        now,
        hours=hours,
        channel=channel,
        tz=tz,
        items=facts.items,
        tally=facts.tally(now, tz),
        last_roundup=facts.last_roundup,
        pending=facts.pending,
    )


def plan_channel(
    now: datetime,
    *,
    hours: float,
    channel: ChannelSettings,
    tz: ZoneInfo,
    items: Sequence[Waiting],
    tally: Tally,
    last_roundup: datetime | None = None,
    pending: Sequence[PendingApproval] = (),
) -> list[Planned]:
    """The channel's posts from `now` to `now + hours`, in time order, by playing `next_step`
    forward on a copy of the queue: what the service will do if nothing new arrives. Posts that
    would go stale before their turn are left out (the service skips them). A pending post is
    shown at its approval deadline."""
    now = now.astimezone(UTC)
    end = now + timedelta(hours=hours)
    queue = list(items)
    planned: list[Planned] = [
        Planned(
            channel.id,
            approval_deadline(p.asked_at, channel.approval_timeout),
            "post",
            "pending",
            p.delivery,
            (p.article,),
            Why("pending"),
        )
        for p in pending
    ]
    at = now
    for _ in range(4 * len(queue) + 20):
        step = next_step(at, queue, channel=channel, tz=tz, tally=tally, last_roundup=last_roundup)
        if step.kind == "idle" or step.at > end:
            break
        if step.kind == "wait":
            if step.at <= at:  # pragma: no cover - next_step always moves time forward
                break
            at = step.at
            continue
        taken = {id(i) for i in step.items}
        queue = [i for i in queue if id(i) not in taken]
        if step.kind == "skip":
            continue
        tally = tally.after_post(at, tz)
        if step.kind == "roundup":
            last_roundup = step.roundup_of
        why = Why(step.reason, step.slot)
        planned.append(
            Planned(
                channel.id,
                at,
                step.kind,
                "queued",
                step.items[0].delivery if step.kind != "roundup" else None,
                tuple(i.article for i in step.items),
                why,
            )
        )
    return sorted((p for p in planned if p.due <= end), key=lambda p: (p.due, p.channel))


def merge_plans(plans: Iterable[Sequence[Planned]]) -> list[Planned]:
    """Several channels' plans as one list in time order."""
    return sorted((p for plan in plans for p in plan), key=lambda p: (p.due, p.channel))


_KIND_LABEL = {
    "fr": {"post": "publication", "roundup": "récapitulatif", "urgent": "urgent"},
    "en": {"post": "post", "roundup": "roundup", "urgent": "urgent"},
}


def plan_line(item: Planned, *, language: str, tz: ZoneInfo) -> str:
    """One line of `relais plan` and `/plan`: '03/11 07:00  tg-main  récapitulatif (12) —
    récapitulatif de 07:00', or the article's title for a single post."""
    labels = _KIND_LABEL.get(language, _KIND_LABEL["fr"])
    what = (
        f"{labels['roundup']} ({len(item.articles)})"
        if item.kind == "roundup"
        else f"{labels[item.kind]} : {item.articles[0].title}"
        if item.articles
        else labels[item.kind]
    )
    return (
        f"{item.due.astimezone(tz):%d/%m %H:%M}  {item.channel}  {what} — {item.why.text(language)}"
    )


def plan_record(item: Planned, *, language: str, tz: ZoneInfo) -> dict[str, Any]:
    """One line of `relais plan --json`, exactly as PRODUCT.md describes it."""
    return {
        "channel": item.channel,
        "due": item.due.astimezone(tz).isoformat(),
        "kind": item.kind,
        "state": item.state,
        "delivery": item.delivery,
        "articles": [{"id": a.key, "title": a.title, "url": a.url} for a in item.articles],
        "why": item.why.text(language),
    }

"""Pure queue order: which waiting post takes the next opening, and which went stale waiting."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.delivery.route import too_old
from bot.models import Article, SkipReason
from bot.settings import ChannelSettings

Order = Literal["newest", "oldest"]

STALE_AT_SLOT = SkipReason.STALE_AT_SLOT.value


@dataclass(frozen=True, slots=True)
class Waiting:
    """A queued delivery as the schedule sees it: its article, since when it is due, and whether
    it is breaking news (a priority rule or `/urgent`)."""

    delivery: int | None
    article: Article
    due: datetime
    urgent: bool = False


def _newness(item: Waiting) -> tuple[float, float, int]:
    published = item.article.published or item.due
    return (published.timestamp(), item.due.timestamp(), item.delivery or 0)


def in_order(items: Iterable[Waiting], order: Order) -> list[Waiting]:
    """`newest`: the most recently published article first; `oldest`: the longest waiting."""
    return sorted(items, key=_newness, reverse=order == "newest")


@dataclass(frozen=True, slots=True)
class Pick:
    """The post that takes the opening (None: none left), and those skipped as too old."""

    take: Waiting | None
    stale: tuple[Waiting, ...] = ()


def stale(items: Iterable[Waiting], at: datetime, channel: ChannelSettings) -> tuple[Waiting, ...]:
    """The posts whose article is older than `max_age` at `at`: skipped with `STALE_AT_SLOT`."""
    return tuple(i for i in items if too_old(i.article, channel, at))


def pick_next(items: Sequence[Waiting], at: datetime, channel: ChannelSettings) -> Pick:
    """Among the posts due by `at`, the one the channel's `order` puts first; `max_age` is
    checked again now, so an article that went stale in the queue is skipped, with the reason
    `STALE_AT_SLOT`, and the next one takes the opening."""
    due = [i for i in items if i.due <= at]
    old = stale(due, at, channel)
    fresh = [i for i in in_order(due, channel.order) if i not in old]
    return Pick(fresh[0] if fresh else None, old)

"""Pure routing: which channels get an article, and what to do with a feed's first poll."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.content.text import fold
from bot.models import Article, SkipReason
from bot.settings import ChannelSettings, Filter


def _matches(filt: Filter, categories: Sequence[str], text: str) -> bool:
    cats = {fold(c).strip() for c in categories}
    if any(fold(c).strip() in cats for c in filt.categories):
        return True
    folded = fold(text)
    return any(fold(k) in folded for k in filt.keywords if k.strip())


def follows(channel: ChannelSettings, feed_id: str) -> bool:
    """Whether the channel takes articles from this feed (no `feeds` key: every feed)."""
    return channel.feeds is None or feed_id in channel.feeds


def route(article: Article, channel: ChannelSettings, *, text: str = "") -> SkipReason | None:
    """None when the channel takes the article, else the reason it does not.

    `text` is the article's plain text (teaser or lead) for keyword filters; the title is
    always searched too.
    """
    haystack = f"{article.title}\n{text}"
    include = channel.include
    if (include.categories or include.keywords) and not _matches(
        include, article.categories, haystack
    ):
        return SkipReason.NOT_INCLUDED
    exclude = channel.exclude
    if (exclude.categories or exclude.keywords) and _matches(exclude, article.categories, haystack):
        return SkipReason.EXCLUDED
    return None


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one article on one channel: queued, or skipped with a reason."""

    channel_id: str
    skip_reason: SkipReason | None


def too_old(article: Article, channel: ChannelSettings, now: datetime) -> bool:
    return (
        channel.max_age is not None
        and article.published is not None
        and article.published < now - channel.max_age
    )


def first_run_keep(articles: Sequence[Article], latest: int | None) -> set[str]:
    """Keys of the articles a first poll may post: none (skip), the N newest, or all."""
    if latest is None:
        return {a.key for a in articles}
    ordered = sorted(
        articles,
        key=lambda a: a.published.timestamp() if a.published else float("-inf"),
        reverse=True,
    )
    return {a.key for a in ordered[:latest]}


def decide(
    article: Article,
    channels: Sequence[ChannelSettings],
    *,
    now: datetime,
    baseline: bool,
    text: str = "",
) -> list[Decision]:
    """One decision per channel that follows the article's feed (channels on other feeds: none)."""
    decisions: list[Decision] = []
    for channel in channels:
        if not follows(channel, article.feed_id):
            continue
        reason = route(article, channel, text=text)
        if reason is None and baseline:
            reason = SkipReason.BASELINE
        if reason is None and too_old(article, channel, now):
            reason = SkipReason.TOO_OLD
        decisions.append(Decision(channel.id, reason))
    return decisions

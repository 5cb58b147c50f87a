"""Pure: a delivery's state and reason in the manager's words ("ignoré : catégorie … exclue")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content.text import fold
from bot.models import Article, Delivery, DeliveryState, SkipReason
from bot.settings import ChannelSettings, Filter
from bot.telegram_bot.views import when
from bot.web.texts import Lang, word


def _matched(filt: Filter, article: Article) -> tuple[str, str] | None:
    """The first category or keyword of `filt` that the article matches: (kind, value)."""
    cats = {fold(c).strip() for c in article.categories}
    for category in filt.categories:
        if fold(category).strip() in cats:
            return "category", category
    title = fold(article.title)
    for keyword in filt.keywords:
        if keyword.strip() and fold(keyword) in title:
            return "keyword", keyword
    return None


# The recorded skip reasons, in the manager's words (EXCLUDED says which rule, below).
_SKIPS: dict[SkipReason, str] = {
    SkipReason.BASELINE: "why_baseline",
    SkipReason.REPUBLISHED: "why_duplicate",
    SkipReason.NOT_INCLUDED: "why_not_included",
}
ADMIN_SKIP = "skipped by admin"  # what the dashboard and /skip record, then the admin's id


def skip_reason(
    error: str | None, article: Article, channel: ChannelSettings | None, lang: Lang
) -> str:
    """Why a delivery was skipped, from the reason the outbox recorded."""
    error = error or ""
    try:
        reason: SkipReason | None = SkipReason(error)
    except ValueError:
        reason = None
    if reason in _SKIPS:
        return word(lang, _SKIPS[reason])
    if reason is SkipReason.TOO_OLD:
        age = channel.max_age if channel is not None else None
        hours = int(age.total_seconds() // 3600) if age else 0
        return word(lang, "why_too_old", age=f"{hours} h" if hours else "max_age")
    if reason is SkipReason.EXCLUDED:
        found = _matched(channel.exclude, article) if channel is not None else None
        if found is not None:
            return word(lang, f"why_excluded_{found[0]}", value=found[1])
        return word(lang, "why_excluded")
    if error.startswith(ADMIN_SKIP):
        return word(lang, "why_admin_skip", who=error.removeprefix(ADMIN_SKIP).strip())
    return word(lang, "why_other", error=error)


def explain(
    delivery: Delivery,
    article: Article,
    channel: ChannelSettings | None,
    *,
    lang: Lang,
    tz: ZoneInfo,
    now: datetime,
) -> str:
    """One sentence for one channel: "déjà publié le 3 mai à 07:30", "en attente du …"."""
    state = delivery.state
    if state is DeliveryState.SENT:
        return word(lang, "why_sent", when=when(delivery.sent_at or delivery.updated_at, lang, tz))
    if state is DeliveryState.SKIPPED:
        return word(lang, "why_skipped", reason=skip_reason(delivery.error, article, channel, lang))
    if state is DeliveryState.QUEUED:
        if delivery.due_at <= now:
            return word(lang, "why_due_now")
        if delivery.error:
            return word(
                lang, "why_retry", when=when(delivery.due_at, lang, tz), error=delivery.error
            )
        return word(lang, "why_waiting", when=when(delivery.due_at, lang, tz))
    if state is DeliveryState.SENDING:
        return word(lang, "why_sending")
    if state is DeliveryState.UNKNOWN:
        return word(lang, "why_unknown", error=delivery.error or "")
    return word(lang, "why_failed", error=delivery.error or "")


def missing_channels(
    channels: Sequence[ChannelSettings], deliveries: Sequence[Delivery]
) -> list[str]:
    """Configured channels with no delivery for the article (another feed, or added later)."""
    have = {d.channel_id for d in deliveries}
    return [c.id for c in channels if c.id not in have]

"""Pure breaking-news decisions: does an article match a channel's priority rules, what
`/urgent` may do with it, and how an urgent post goes out (sound, pin, unpin)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.content.text import fold
from bot.delivery.plan_settings import PrioritySettings
from bot.models import Article


def priority_match(
    article: Article, priority: PrioritySettings | None, *, text: str = ""
) -> str | None:
    """Why the article is breaking news on this channel (e.g. 'catégorie Urgent'), or None.

    Categories and WordPress tags both arrive as the entry's `<category>` terms, so `categories`
    and `tags` match the same list, whole terms, accents and case ignored. Keywords match the
    title and `text` (the lead) as whole words, so "alerte" does not match "alertes" but does
    match "ALERTE :".
    """
    if priority is None or not priority.has_rules:
        return None
    terms = {fold(c).strip(): c for c in article.categories}
    for kind, wanted in (("catégorie", priority.categories), ("étiquette", priority.tags)):
        for rule in wanted:
            if fold(rule).strip() in terms:
                return f"{kind} {terms[fold(rule).strip()]}"
    words = _words(f"{article.title}\n{text}")
    for keyword in priority.keywords:
        phrase = _words(keyword)
        if phrase and _contains(words, phrase):
            return f"mot-clé « {keyword.strip()} »"
    return None


def _words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in fold(text)).split() if w]


def _contains(words: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(list(words[i : i + n]) == list(phrase) for i in range(len(words) - n + 1))


UrgentAction = Literal["create", "promote", "refuse"]

_HAS_IT = {"sending", "sent", "unknown"}


@dataclass(frozen=True, slots=True)
class UrgentVerdict:
    action: UrgentAction
    message: str


def urgent_verdict(state: str | None) -> UrgentVerdict:
    """What `/urgent <url>` does on one channel, given the article's delivery state there.

    No delivery yet (another channel may have posted it): create one, due now. Waiting
    (`queued`, `pending`, `covered` by a roundup not yet sent) or set aside (`failed`,
    `skipped`): promote it to urgent, due now. Already out or possibly out (`sending`, `sent`,
    `unknown`): refused, and said so — posting it again would be a double.
    """
    if state is None:
        return UrgentVerdict("create", "publié en urgence")
    if state in _HAS_IT:
        told = {
            "sent": "ce canal l'a déjà publié",
            "sending": "ce canal est en train de le publier",
            "unknown": "ce canal l'a peut-être déjà publié (issue inconnue : voir /retry)",
        }[state]
        return UrgentVerdict("refuse", f"refusé : {told}")
    return UrgentVerdict("promote", "passé en urgence, publié tout de suite")


@dataclass(frozen=True, slots=True)
class UrgentPost:
    """How an urgent post goes out: always with sound; pinned on Telegram when configured,
    and unpinned at `unpin_at` (None: stays pinned)."""

    silent: bool
    pin: bool
    unpin_at: datetime | None


def urgent_post(
    priority: PrioritySettings | None, *, telegram: bool, sent_at: datetime
) -> UrgentPost:
    pin = telegram and priority is not None and priority.pin
    pin_for: timedelta | None = priority.pin_for if priority is not None and pin else None
    return UrgentPost(silent=False, pin=pin, unpin_at=sent_at + pin_for if pin_for else None)

"""Pure approval decisions: which posts wait for an admin, what a timeout does, and how two
admins answering at once settle on the first answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.content.text import fold
from bot.delivery.plan_settings import ApprovalRule, ApprovalTimeout
from bot.models import Article

Answer = Literal["publish", "edit", "skip", "later"]

# "⏰ Plus tard": approved, but not before this long; it then takes the next free slot.
LATER = timedelta(hours=1)

BUTTONS: tuple[tuple[Answer, str], ...] = (
    ("publish", "✅ Publier"),
    ("edit", "✏️ Modifier"),
    ("skip", "⏭ Ignorer"),
    ("later", "⏰ Plus tard"),
)
_CODES: dict[Answer, str] = {"publish": "p", "edit": "e", "skip": "s", "later": "l"}
_ANSWERS = {code: answer for answer, code in _CODES.items()}


def needs_approval(article: Article, rule: ApprovalRule, *, urgent_by_admin: bool = False) -> bool:
    """Whether the post waits in `pending` for an admin. `/urgent` is itself an admin's
    decision and never waits; a priority *rule* match still does (a keyword can be wrong)."""
    if urgent_by_admin or not rule.enabled:
        return False
    if rule.all:
        return True
    wanted = {fold(c).strip() for c in rule.categories}
    return any(fold(c).strip() in wanted for c in article.categories)


def roundup_needs_approval(articles: Sequence[Article], rule: ApprovalRule) -> bool:
    """A roundup is a post too: it waits when the channel approves everything, or when one of
    the articles it lists would have waited on its own."""
    return any(needs_approval(a, rule) for a in articles)


def approval_deadline(asked_at: datetime, timeout: ApprovalTimeout) -> datetime:
    return asked_at + timeout.after


@dataclass(frozen=True, slots=True)
class Verdict:
    """An admin's answer (or the timeout's), who gave it and when."""

    answer: Answer
    by: str
    at: datetime


def timeout_verdict(asked_at: datetime, timeout: ApprovalTimeout) -> Verdict:
    """What the timeout decides for a post nobody answered: publish or skip, by 'délai'."""
    return Verdict(
        "publish" if timeout.then == "publish" else "skip",
        "délai",
        approval_deadline(asked_at, timeout),
    )


@dataclass(frozen=True, slots=True)
class Settlement:
    """The answer that stands, and whether the one just given is it."""

    verdict: Verdict
    applied: bool
    message: str


def settle(recorded: Verdict | None, answer: Verdict) -> Settlement:
    """Two admins answering at once settle on the first answer recorded.

    `recorded` is what the storage holds after its compare-and-set (`UPDATE … WHERE state =
    'pending'`): None when this answer was the one written. An "edit" is not final: the delivery
    stays pending until that admin's next message, so a later answer may still replace it.
    """
    if recorded is None or recorded == answer:
        return Settlement(answer, True, describe(answer))
    if recorded.answer == "edit" and answer.by == recorded.by:
        return Settlement(answer, True, describe(answer))
    return Settlement(recorded, False, f"Déjà décidé : {describe(recorded)}")


def describe(verdict: Verdict) -> str:
    """'✅ Publier — par Awa à 10:02 UTC' (the keyboard's label, who and when)."""
    label = dict(BUTTONS)[verdict.answer]
    return f"{label} — par {verdict.by} à {verdict.at:%H:%M} UTC"


def after_verdict(verdict: Verdict) -> tuple[Literal["queued", "skipped", "pending"], datetime]:
    """The delivery's next state and due time once a verdict stands."""
    if verdict.answer == "publish":
        return "queued", verdict.at
    if verdict.answer == "later":
        return "queued", verdict.at + LATER
    if verdict.answer == "skip":
        return "skipped", verdict.at
    return "pending", verdict.at  # edit: waits for the admin's new teaser


def callback_data(delivery: int, answer: Answer) -> str:
    """`ap:<delivery>:<p|e|s|l>`: well within Telegram's 64 bytes of callback data."""
    return f"ap:{delivery}:{_CODES[answer]}"


def parse_callback(data: str) -> tuple[int, Answer] | None:
    """The delivery and answer of a button, or None for anything else (forged, foreign)."""
    prefix, _, rest = data.partition(":")
    number, _, code = rest.partition(":")
    if prefix != "ap" or not number.isdigit() or code not in _ANSWERS or len(number) > 18:
        return None
    return int(number), _ANSWERS[code]

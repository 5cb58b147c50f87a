"""Builders shared by the core tests: articles, settings and a scriptable publisher."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.feeds.identity import article_key, canonical_url, normalise_title
from bot.models import (
    Article,
    NewArticle,
    Post,
    PublishResult,
    ReconcileOutcome,
    Reconciliation,
    SkipReason,
)
from bot.settings import Settings, settings_from_mapping

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def article(n: int, *, feed: str = "site", title: str | None = None, **kw: Any) -> Article:
    url = kw.pop("url", f"https://sahel-actu.example/2026/11/article-{n}/")
    canon = canonical_url(url)
    return Article(
        feed_id=feed,
        key=article_key(canon),
        guid=kw.pop("guid", f"https://sahel-actu.example/?p={1000 + n}"),
        url=url,
        canonical_url=canon,
        title=title or f"Article numéro {n} : le conseil des ministres se réunit",
        published=kw.pop("published", BASE - timedelta(hours=10 - n)),
        content_html=kw.pop(
            "content_html",
            f"<p>Le gouvernement a annoncé mardi la mesure numéro {n}. Elle entre en vigueur "
            "dès la semaine prochaine dans tout le pays.</p>",
        ),
        **kw,
    )


def new(
    a: Article, channels: Iterable[str], reason: SkipReason | None = None, *, start: Any = None
) -> NewArticle:
    """An article to record for these channels; `start` (a models.Start) for each of them."""
    ids = list(channels)
    starts = {c: start for c in ids} if start is not None else {}
    return NewArticle(a, normalise_title(a.title), [(c, reason) for c in ids], starts=starts)


def settings(channels: list[dict[str, Any]] | None = None, **extra: Any) -> Settings:
    data: dict[str, Any] = {
        "site": {"name": "Sahel Actu", "url": "https://sahel-actu.example", "timezone": "UTC"},
        "feeds": [{"id": "site", "url": "https://sahel-actu.example/feed"}],
        "channels": channels
        if channels is not None
        else [{"id": "out", "type": "console", "min_gap": "0s", "max_age": None}],
    }
    data.update(extra)
    return settings_from_mapping(data, env={})


class ScriptedPublisher:
    """A publisher whose answers are scripted, in order: an exception to raise, or None for a
    success; once the script is used up, every call succeeds."""

    def __init__(self, channel_id: str, script: Iterable[BaseException | None] = ()) -> None:
        self.channel_id = channel_id
        self.script: deque[BaseException | None] = deque(script)
        self.posts: list[Post] = []
        self.attempts = 0
        self.reconcile_answer = Reconciliation(ReconcileOutcome.CANNOT_TELL)
        self.closed = False

    async def publish(self, post: Post) -> PublishResult:
        self.attempts += 1
        outcome = self.script.popleft() if self.script else None
        if outcome is not None:
            raise outcome
        self.posts.append(post)
        return PublishResult(remote_id=f"{self.channel_id}-{len(self.posts)}")

    async def reconcile(self, post: Post, since: datetime) -> Reconciliation:
        return self.reconcile_answer

    async def aclose(self) -> None:
        self.closed = True


def claim_due(
    storage: Any,
    channel_id: str,
    now: datetime,
    *,
    n: int,
    worker: str,
    gap: timedelta | None = None,
    day_start: datetime | None = None,
) -> tuple[list[Any], datetime | None]:
    """Claim up to `n` deliveries of a channel, oldest first, through the real schedule
    (`next_step`) with a `gap` and nothing else; one claim is one turn, this takes several.
    Returns the claimed deliveries and, when none came, when the channel may post next."""
    from bot.delivery.next_post import next_step
    from tests.delivery.builders import BAMAKO, channel

    settings = channel(
        order="oldest", max_age=None, min_gap=f"{int((gap or timedelta()).total_seconds())}s"
    )

    def decide(facts: Any) -> Any:
        tally = facts.tally(now, BAMAKO)
        return next_step(
            now,
            facts.items,
            channel=settings,
            tz=BAMAKO,
            tally=tally,
            last_roundup=facts.last_roundup,
        )

    claimed: list[Any] = []
    later = None
    for _ in range(n):
        turn = storage.claim(
            channel_id, now, day_start=day_start or now, decide=decide, worker=worker
        )
        if turn.delivery is None:
            later = turn.later
            break
        claimed.append(turn.delivery)
    return claimed, (later if not claimed else None)

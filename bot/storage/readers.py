"""ReaderStore: the reader bot's reads and writes (subscribers, broadcasts, digests, search)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.models import Article, DeliveryState
from bot.storage import tables as t
from bot.storage.store import Storage, _article, _chunks

# The rows a broadcast or a digest can be in, as in the outbox.
QUEUED = DeliveryState.QUEUED.value
SENDING = DeliveryState.SENDING.value
SENT = DeliveryState.SENT.value
UNKNOWN = DeliveryState.UNKNOWN.value
SKIPPED = DeliveryState.SKIPPED.value
FAILED = DeliveryState.FAILED.value

# Keys and labels longer than this are cut: a category is a short name, not a paragraph.
TOPIC_KEY_MAX = 255


@dataclass(frozen=True, slots=True)
class Subscriber:
    """What the bot keeps about one reader."""

    user_id: int
    chat_id: int
    language: str | None
    telegram_language: str | None
    digest: bool
    digest_since: datetime | None


@dataclass(frozen=True, slots=True)
class Subscription:
    topic: str  # folded key
    label: str  # as the site spells it


@dataclass(frozen=True, slots=True)
class Topic:
    """One of the site's categories: its folded key, the most used spelling, how many articles."""

    key: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Claimed:
    """A broadcast or digest row moved to `sending`, with what sending it needs."""

    id: int
    user_id: int
    chat_id: int
    language: str | None  # the reader's chosen language, else Telegram's code, else None
    attempts: int
    article_key: str | None = None  # broadcasts
    topic: str | None = None  # broadcasts: the topic's label
    since: datetime | None = None  # digests
    until: datetime | None = None  # digests
    day: str | None = None  # digests


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one claimed row ended. `unsubscribe`: the reader blocked the bot (or is gone): drop
    their topics and digest, and skip whatever else waits for them. `release`: the row was
    never attempted (the bot token was refused): back to `queued`, the attempt not counted."""

    id: int
    user_id: int
    state: DeliveryState
    error: str | None = None
    due_at: datetime | None = None
    message_id: int | None = None
    articles: int | None = None  # digests: how many articles it listed
    unsubscribe: bool = False
    release: bool = False


@dataclass(frozen=True, slots=True)
class Claim:
    """The rows claimed, and the earliest due time of what is still queued (None: nothing)."""

    rows: list[Claimed]
    next_due: datetime | None


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What /stop deleted."""

    subscriber: bool
    subscriptions: int
    broadcasts: int
    digests: int

    @property
    def anything(self) -> bool:
        return bool(self.subscriber or self.subscriptions or self.broadcasts or self.digests)


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One outbox delivery as `/queue` shows it."""

    id: int
    channel_id: str
    state: DeliveryState
    due_at: datetime
    title: str
    error: str | None


def _categories(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return [str(c) for c in value or () if str(c).strip()]


class ReaderStore:
    """Every read and write of the reader bot; each public method is one transaction.

    Built over the same engine as `Storage` (and its transaction helpers), so it shares the
    SQLite file or the PostgreSQL pool and the schema migrations.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        self._storage = Storage(engine)  # for its transaction and upsert helpers

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        with self._storage._tx() as conn:
            yield conn

    def _insert(self, table: sa.Table) -> Any:
        return self._storage._insert(table)

    # ---- subscribers --------------------------------------------------------------------

    def subscriber(self, user_id: int) -> Subscriber | None:
        with self._tx() as conn:
            row = conn.execute(
                sa.select(t.subscribers).where(t.subscribers.c.user_id == user_id)
            ).first()
        return _subscriber(row._mapping) if row else None

    def _ensure(
        self,
        conn: sa.Connection,
        user_id: int,
        chat_id: int,
        telegram_language: str | None,
        now: datetime,
    ) -> None:
        values = {"chat_id": chat_id, "updated_at": now}
        if telegram_language:
            values["telegram_language"] = telegram_language[:16]
        conn.execute(
            self._insert(t.subscribers)
            .values(user_id=user_id, created_at=now, **values)
            .on_conflict_do_update(index_elements=["user_id"], set_=values)
        )

    def touch(self, user_id: int, telegram_language: str | None, now: datetime) -> None:
        """Remember the language Telegram reports for a reader we already keep (no new row)."""
        if not telegram_language:
            return
        s = t.subscribers
        with self._tx() as conn:
            conn.execute(
                s.update()
                .where(
                    s.c.user_id == user_id,
                    sa.or_(
                        s.c.telegram_language.is_(None),
                        s.c.telegram_language != telegram_language[:16],
                    ),
                )
                .values(telegram_language=telegram_language[:16], updated_at=now)
            )

    def set_language(
        self,
        user_id: int,
        chat_id: int,
        language: str,
        now: datetime,
        *,
        telegram_language: str | None = None,
    ) -> None:
        with self._tx() as conn:
            self._ensure(conn, user_id, chat_id, telegram_language, now)
            conn.execute(
                t.subscribers.update()
                .where(t.subscribers.c.user_id == user_id)
                .values(language=language, updated_at=now)
            )

    def set_digest(
        self,
        user_id: int,
        chat_id: int,
        on: bool,
        now: datetime,
        *,
        telegram_language: str | None = None,
    ) -> bool:
        """Turn the daily digest on or off; True when this changed it."""
        s = t.subscribers
        with self._tx() as conn:
            self._ensure(conn, user_id, chat_id, telegram_language, now)
            changed = conn.execute(
                s.update()
                .where(s.c.user_id == user_id, s.c.digest.is_not(on))
                .values(digest=on, digest_since=now if on else None, updated_at=now)
            ).rowcount
        return changed == 1

    def subscriber_count(self) -> tuple[int, int]:
        """(readers with at least one topic or the digest, readers on the digest)."""
        s, sub = t.subscribers, t.subscriptions
        with self._tx() as conn:
            digest = conn.execute(
                sa.select(sa.func.count()).select_from(s).where(s.c.digest.is_(True))
            ).scalar_one()
            either = conn.execute(
                sa.select(sa.func.count())
                .select_from(s)
                .where(
                    sa.or_(
                        s.c.digest.is_(True),
                        sa.exists().where(sub.c.user_id == s.c.user_id),
                    )
                )
            ).scalar_one()
        return int(either), int(digest)

    def forget(self, user_id: int) -> Forgotten:
        """Delete everything stored about a reader (/stop)."""
        with self._tx() as conn:
            subs = conn.execute(
                t.subscriptions.delete().where(t.subscriptions.c.user_id == user_id)
            ).rowcount
            casts = conn.execute(
                t.broadcasts.delete().where(t.broadcasts.c.user_id == user_id)
            ).rowcount
            digests = conn.execute(
                t.digests.delete().where(t.digests.c.user_id == user_id)
            ).rowcount
            row = conn.execute(
                t.subscribers.delete().where(t.subscribers.c.user_id == user_id)
            ).rowcount
        return Forgotten(bool(row), int(subs), int(casts), int(digests))

    # ---- subscriptions ------------------------------------------------------------------

    def subscriptions(self, user_id: int) -> list[Subscription]:
        sub = t.subscriptions
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(sub.c.topic, sub.c.label)
                .where(sub.c.user_id == user_id)
                .order_by(sub.c.topic)
            ).all()
        return [Subscription(r.topic, r.label) for r in rows]

    def subscribe(
        self,
        user_id: int,
        chat_id: int,
        topic: str,
        label: str,
        now: datetime,
        *,
        telegram_language: str | None = None,
    ) -> bool:
        """Add a topic (its folded key) to a reader's; True when it was new."""
        with self._tx() as conn:
            self._ensure(conn, user_id, chat_id, telegram_language, now)
            added = conn.execute(
                self._insert(t.subscriptions)
                .values(
                    user_id=user_id,
                    topic=topic[:TOPIC_KEY_MAX],
                    label=label[:TOPIC_KEY_MAX],
                    created_at=now,
                )
                .on_conflict_do_nothing()
                .returning(t.subscriptions.c.topic)
            ).all()
        return len(added) == 1

    def unsubscribe(self, user_id: int, topic: str) -> bool:
        sub = t.subscriptions
        with self._tx() as conn:
            removed = conn.execute(
                sub.delete().where(sub.c.user_id == user_id, sub.c.topic == topic[:TOPIC_KEY_MAX])
            ).rowcount
        return removed == 1

    def subscription_count(self, user_id: int) -> int:
        sub = t.subscriptions
        with self._tx() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(sub).where(sub.c.user_id == user_id)
                ).scalar_one()
            )

    # ---- the site's articles ------------------------------------------------------------

    def topics(self, fold: Callable[[str], str], *, since: datetime | None = None) -> list[Topic]:
        """The site's categories (`fold(label)` → key), most used first, with article counts."""
        a = t.articles
        query = sa.select(a.c.categories).where(a.c.duplicate_of.is_(None))
        if since is not None:
            query = query.where(a.c.first_seen >= since)
        counts: Counter[str] = Counter()
        spellings: dict[str, Counter[str]] = {}
        with self._tx() as conn:
            for (value,) in conn.execute(query):
                seen: set[str] = set()
                for label in _categories(value):
                    key = fold(label)[:TOPIC_KEY_MAX]
                    if not key or key in seen:
                        continue
                    seen.add(key)
                    counts[key] += 1
                    spellings.setdefault(key, Counter())[label.strip()] += 1
        return [
            Topic(key, spellings[key].most_common(1)[0][0], n)
            for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    def latest(self, *, offset: int = 0, limit: int = 5) -> list[Article]:
        """The newest articles (not republished copies), newest first."""
        a = t.articles
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(a)
                .where(a.c.duplicate_of.is_(None))
                .order_by(sa.func.coalesce(a.c.published, a.c.first_seen).desc(), a.c.key)
                .offset(max(0, offset))
                .limit(max(0, limit))
            ).all()
        return [_article(r._mapping) for r in rows]

    def article(self, key: str) -> Article:
        return self._storage.article(key)

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        with self._tx() as conn:
            for chunk in _chunks(list(keys), 400):
                found.update(
                    conn.execute(sa.select(t.articles.c.key).where(t.articles.c.key.in_(chunk)))
                    .scalars()
                    .all()
                )
        return found

    # ---- search -------------------------------------------------------------------------

    def index(self, texts: Iterable[tuple[str, str]]) -> int:
        """Store the folded search text of recorded articles (key, text); returns how many
        were new. Keys of articles that are not recorded are ignored."""
        pairs = dict(texts)
        if not pairs:
            return 0
        known = self.existing_keys(list(pairs))
        added = 0
        with self._tx() as conn:
            for key in sorted(known):
                added += len(
                    conn.execute(
                        self._insert(t.article_search)
                        .values(article_key=key, text=pairs[key])
                        .on_conflict_do_nothing()
                        .returning(t.article_search.c.article_key)
                    ).all()
                )
        return added

    def unindexed(self, limit: int = 200) -> list[Article]:
        """Recorded articles that have no search text yet (recorded while the bot was off, or
        before version 2 of the schema)."""
        a, s = t.articles, t.article_search
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(a)
                .select_from(a.outerjoin(s, s.c.article_key == a.c.key))
                .where(s.c.article_key.is_(None))
                .order_by(a.c.first_seen.desc())
                .limit(limit)
            ).all()
        return [_article(r._mapping) for r in rows]

    def search(
        self, terms: Sequence[str], *, offset: int = 0, limit: int = 5
    ) -> tuple[list[Article], bool]:
        """Articles whose search text has a word starting with every term (terms already
        folded), newest first; and whether there are more after these."""
        if not terms:
            return [], False
        a, s = t.articles, t.article_search
        query = (
            sa.select(a)
            .select_from(a.join(s, s.c.article_key == a.c.key))
            .where(a.c.duplicate_of.is_(None))
        )
        for term in terms:
            # the text starts with a space and separates words by one: " term" is a word start
            query = query.where(s.c.text.contains(" " + term, autoescape=True))
        query = (
            query.order_by(sa.func.coalesce(a.c.published, a.c.first_seen).desc(), a.c.key)
            .offset(max(0, offset))
            .limit(max(0, limit) + 1)
        )
        with self._tx() as conn:
            rows = conn.execute(query).all()
        found = [_article(r._mapping) for r in rows]
        return found[:limit], len(found) > limit

    # ---- broadcasts ---------------------------------------------------------------------

    def enqueue_broadcasts(
        self, article_key: str, topics: dict[str, str], now: datetime, *, due: datetime
    ) -> int:
        """One queued broadcast of the article per reader subscribed to any of `topics` (folded
        key → label shown), except readers on the daily digest. Returns how many were new."""
        if not topics:
            return 0
        sub, s, b = t.subscriptions, t.subscribers, t.broadcasts
        keys = list(topics)
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(sub.c.user_id, s.c.chat_id, sa.func.min(sub.c.topic))
                .select_from(sub.join(s, s.c.user_id == sub.c.user_id))
                .where(sub.c.topic.in_(keys), s.c.digest.is_(False))
                .group_by(sub.c.user_id, s.c.chat_id)
            ).all()
            added = 0
            for start in range(0, len(rows), 500):
                chunk = rows[start : start + 500]
                added += len(
                    conn.execute(
                        self._insert(b)
                        .values(
                            [
                                {
                                    "article_key": article_key,
                                    "user_id": user_id,
                                    "chat_id": chat_id,
                                    "topic": topics.get(key, key),
                                    "state": QUEUED,
                                    "due_at": due,
                                    "attempts": 0,
                                    "created_at": now,
                                    "updated_at": now,
                                }
                                for user_id, chat_id, key in chunk
                            ]
                        )
                        .on_conflict_do_nothing()
                        .returning(b.c.id)
                    ).all()
                )
        return int(added)

    def claim_broadcasts(
        self, now: datetime, *, limit: int, worker: str, chat_gap: timedelta
    ) -> Claim:
        """Move up to `limit` due broadcasts to `sending`: at most one per reader, and none for
        a reader who was sent something less than `chat_gap` ago (Telegram allows about one
        message a second per chat). PostgreSQL: rows locked by another worker are skipped."""
        b = t.broadcasts
        recent = b.alias("recent")
        busy = (
            sa.exists()
            .where(recent.c.user_id == b.c.user_id, recent.c.attempted_at > now - chat_gap)
            .correlate(b)
        )
        query = (
            sa.select(b.c.id, b.c.user_id)
            .where(b.c.state == QUEUED, b.c.due_at <= now, ~busy)
            .order_by(b.c.due_at, b.c.id)
            .limit(limit * 2)
        )
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True, of=b)
        with self._tx() as conn:
            picked: dict[int, int] = {}
            for row_id, user_id in conn.execute(query):
                if user_id not in picked and len(picked) < limit:
                    picked[user_id] = row_id
            rows: list[Claimed] = []
            if picked:
                ids = _take(conn, b, list(picked.values()), now, worker)
                s = t.subscribers
                for r in conn.execute(
                    sa.select(b, s.c.language, s.c.telegram_language)
                    .select_from(b.outerjoin(s, s.c.user_id == b.c.user_id))
                    .where(b.c.id.in_(ids))
                    .order_by(b.c.id)
                ):
                    rows.append(
                        Claimed(
                            id=int(r.id),
                            user_id=int(r.user_id),
                            chat_id=int(r.chat_id),
                            language=r.language or r.telegram_language,
                            attempts=int(r.attempts),
                            article_key=r.article_key,
                            topic=r.topic,
                        )
                    )
            next_due = conn.execute(
                sa.select(sa.func.min(b.c.due_at)).where(b.c.state == QUEUED)
            ).scalar_one_or_none()
        return Claim(rows, next_due)

    def finish_broadcasts(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        self._finish(t.broadcasts, outcomes, now)

    def next_broadcast_due(self) -> datetime | None:
        b = t.broadcasts
        with self._tx() as conn:
            return conn.execute(
                sa.select(sa.func.min(b.c.due_at)).where(b.c.state == QUEUED)
            ).scalar_one_or_none()

    def broadcast_counts(self) -> dict[str, int]:
        b = t.broadcasts
        with self._tx() as conn:
            rows = conn.execute(sa.select(b.c.state, sa.func.count()).group_by(b.c.state)).all()
        return {str(state): int(n) for state, n in rows}

    def broadcast_rows(self, *, user_id: int | None = None) -> list[dict[str, Any]]:
        """Every broadcast row as a mapping (for status pages and tests)."""
        b = t.broadcasts
        query = sa.select(b).order_by(b.c.id)
        if user_id is not None:
            query = query.where(b.c.user_id == user_id)
        with self._tx() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # ---- digests ------------------------------------------------------------------------

    def plan_digests(
        self, day: str, cutoff: datetime, now: datetime, *, max_span: timedelta
    ) -> int:
        """Queue today's digest for each reader on the digest who chose it before `cutoff`
        (today's digest time) and has none for `day` yet. Each covers the articles first seen
        since that reader's previous digest (at most `max_span` back). Returns how many."""
        s, d = t.subscribers, t.digests
        last = (
            sa.select(d.c.user_id, sa.func.max(d.c.until).label("until"))
            .group_by(d.c.user_id)
            .subquery()
        )
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(s.c.user_id, s.c.chat_id, s.c.digest_since, last.c.until)
                .select_from(s.outerjoin(last, last.c.user_id == s.c.user_id))
                .where(
                    s.c.digest.is_(True),
                    s.c.digest_since <= cutoff,
                    ~sa.exists().where(d.c.user_id == s.c.user_id, d.c.day == day),
                )
            ).all()
            added = 0
            for user_id, chat_id, digest_since, previous in rows:
                since = max(previous or digest_since or now - max_span, now - max_span)
                added += len(
                    conn.execute(
                        self._insert(d)
                        .values(
                            user_id=user_id,
                            chat_id=chat_id,
                            day=day,
                            since=since,
                            until=now,
                            state=QUEUED,
                            due_at=now,
                            attempts=0,
                            created_at=now,
                            updated_at=now,
                        )
                        .on_conflict_do_nothing()
                        .returning(d.c.id)
                    ).all()
                )
        return int(added)

    def claim_digests(self, now: datetime, *, limit: int, worker: str) -> list[Claimed]:
        d, s = t.digests, t.subscribers
        query = (
            sa.select(d.c.id)
            .where(d.c.state == QUEUED, d.c.due_at <= now)
            .order_by(d.c.due_at, d.c.id)
            .limit(limit)
        )
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        with self._tx() as conn:
            ids = list(conn.execute(query).scalars())
            if not ids:
                return []
            claimed = _take(conn, d, ids, now, worker)
            rows = conn.execute(
                sa.select(d, s.c.language, s.c.telegram_language)
                .select_from(d.outerjoin(s, s.c.user_id == d.c.user_id))
                .where(d.c.id.in_(claimed))
                .order_by(d.c.id)
            ).all()
        return [
            Claimed(
                id=int(r.id),
                user_id=int(r.user_id),
                chat_id=int(r.chat_id),
                language=r.language or r.telegram_language,
                attempts=int(r.attempts),
                since=r.since,
                until=r.until,
                day=r.day,
            )
            for r in rows
        ]

    def finish_digests(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        self._finish(t.digests, outcomes, now)

    def digest_articles(
        self,
        user_id: int,
        since: datetime,
        until: datetime,
        fold: Callable[[str], str],
        *,
        limit: int,
    ) -> list[Article]:
        """Articles first seen in (since, until] in the reader's topics (all topics when they
        follow none), newest first."""
        a = t.articles
        with self._tx() as conn:
            keys = set(
                conn.execute(
                    sa.select(t.subscriptions.c.topic).where(t.subscriptions.c.user_id == user_id)
                ).scalars()
            )
            rows = conn.execute(
                sa.select(a)
                .where(a.c.duplicate_of.is_(None), a.c.first_seen > since, a.c.first_seen <= until)
                .order_by(sa.func.coalesce(a.c.published, a.c.first_seen).desc(), a.c.key)
            ).all()
        found: list[Article] = []
        for row in rows:
            article = _article(row._mapping)
            if keys and not any(fold(c)[:TOPIC_KEY_MAX] in keys for c in article.categories):
                continue
            found.append(article)
            if len(found) >= limit:
                break
        return found

    def digest_rows(self, *, user_id: int | None = None) -> list[dict[str, Any]]:
        d = t.digests
        query = sa.select(d).order_by(d.c.id)
        if user_id is not None:
            query = query.where(d.c.user_id == user_id)
        with self._tx() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # ---- both ---------------------------------------------------------------------------

    def _finish(self, table: sa.Table, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Record how claimed rows ended, all in one transaction (only rows still `sending`)."""
        c = table.c
        gone: set[int] = set()
        with self._tx() as conn:
            for o in outcomes:
                values: dict[str, Any] = {
                    "state": o.state.value,
                    "error": o.error,
                    "updated_at": now,
                }
                if o.release:
                    values.update(state=QUEUED, attempts=c.attempts - 1)
                if o.state is DeliveryState.QUEUED and o.due_at is not None:
                    values["due_at"] = o.due_at
                if o.state is DeliveryState.SENT:
                    values.update(sent_at=now, message_id=o.message_id)
                if o.articles is not None and "articles" in c:
                    values["articles"] = o.articles
                conn.execute(table.update().where(c.id == o.id, c.state == SENDING).values(values))
                if o.unsubscribe:
                    gone.add(o.user_id)
            for user_id in sorted(gone):
                self._unsubscribe_all(conn, user_id, "the reader blocked the bot", now)

    def _unsubscribe_all(
        self, conn: sa.Connection, user_id: int, reason: str, now: datetime
    ) -> None:
        conn.execute(t.subscriptions.delete().where(t.subscriptions.c.user_id == user_id))
        conn.execute(
            t.subscribers.update()
            .where(t.subscribers.c.user_id == user_id)
            .values(digest=False, digest_since=None, updated_at=now)
        )
        for table in (t.broadcasts, t.digests):
            conn.execute(
                table.update()
                .where(table.c.user_id == user_id, table.c.state == QUEUED)
                .values(state=SKIPPED, error=reason, updated_at=now)
            )

    def recover(self, now: datetime, *, older_than: datetime | None = None) -> dict[str, int]:
        """Rows left in `sending` by a process that stopped become `unknown`: the message may
        have gone out, so it is never sent again on its own. SQLite (one instance): every
        `sending` row; PostgreSQL: only rows claimed before `older_than`."""
        found: dict[str, int] = {}
        with self._tx() as conn:
            for name, table in (("broadcasts", t.broadcasts), ("digests", t.digests)):
                cond = [table.c.state == SENDING]
                if older_than is not None:
                    cond.append(table.c.attempted_at < older_than)
                found[name] = int(
                    conn.execute(
                        table.update()
                        .where(*cond)
                        .values(
                            state=UNKNOWN,
                            error="the process stopped while sending: outcome unknown",
                            updated_at=now,
                        )
                    ).rowcount
                )
        return found

    # ---- the outbox, as admins see it ---------------------------------------------------

    def outbox_queue(self, channel_id: str | None = None, *, limit: int = 15) -> list[QueueRow]:
        """Deliveries that need attention or are waiting: unknown first, then queued (soonest
        first), then sending, then the most recent failures."""
        d, a = t.deliveries, t.articles
        order = sa.case(
            (d.c.state == UNKNOWN, 0),
            (d.c.state == QUEUED, 1),
            (d.c.state == SENDING, 2),
            else_=3,
        )
        query = (
            sa.select(d.c.id, d.c.channel_id, d.c.state, d.c.due_at, d.c.error, a.c.title)
            .select_from(d.join(a, a.c.key == d.c.article_key))
            .where(d.c.state.in_([UNKNOWN, QUEUED, SENDING, FAILED]))
            .order_by(
                order,
                sa.case((d.c.state == FAILED, None), else_=d.c.due_at),
                d.c.updated_at.desc(),
                d.c.id,
            )
            .limit(limit)
        )
        if channel_id is not None:
            query = query.where(d.c.channel_id == channel_id)
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [
            QueueRow(int(r.id), r.channel_id, DeliveryState(r.state), r.due_at, r.title, r.error)
            for r in rows
        ]


def _subscriber(m: Any) -> Subscriber:
    return Subscriber(
        user_id=int(m["user_id"]),
        chat_id=int(m["chat_id"]),
        language=m["language"],
        telegram_language=m["telegram_language"],
        digest=bool(m["digest"]),
        digest_since=m["digest_since"],
    )


def _take(
    conn: sa.Connection, table: sa.Table, ids: list[int], now: datetime, worker: str
) -> list[int]:
    """Move these queued rows (broadcasts or digests) to `sending` for this worker; the ids it
    got, sorted (a row another worker took meanwhile is not among them)."""
    c = table.c
    taken = conn.execute(
        table.update()
        .where(c.id.in_(ids), c.state == QUEUED)
        .values(
            state=SENDING,
            attempts=c.attempts + 1,
            attempted_at=now,
            updated_at=now,
            worker=worker[:64],
        )
        .returning(c.id)
    ).scalars()
    return sorted(taken)

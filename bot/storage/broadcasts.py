"""Storage part: the reader outboxes, topic broadcasts and morning digests (queue, claim,
finish, recover), over the same `outbox.py` as the channels' deliveries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.models import Article, Claim, Claimed, DeliveryState, Outcome, SkipReason
from bot.storage import outbox, rows
from bot.storage import tables as t
from bot.storage.database import Part
from bot.storage.tables import TOPIC_KEY_MAX

QUEUED = DeliveryState.QUEUED.value


class BroadcastsPart(Part):
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
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(sub.c.user_id, s.c.chat_id, sa.func.min(sub.c.topic))
                .select_from(sub.join(s, s.c.user_id == sub.c.user_id))
                .where(sub.c.topic.in_(keys), s.c.digest.is_(False))
                .group_by(sub.c.user_id, s.c.chat_id)
            ).all()
            added = 0
            for start in range(0, len(found), 500):
                chunk = found[start : start + 500]
                added += len(
                    conn.execute(
                        self.db.insert(b)
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
        if self.db.is_postgres:
            query = query.with_for_update(skip_locked=True, of=b)
        with self.db.tx() as conn:
            picked: dict[int, int] = {}
            for row_id, user_id in conn.execute(query):
                if user_id not in picked and len(picked) < limit:
                    picked[user_id] = row_id
            ids = outbox.take(conn, outbox.BROADCASTS, list(picked.values()), now, worker)
            claimed = _claimed(conn, b, ids)
            next_due = outbox.next_due(conn, outbox.BROADCASTS)
        return Claim(claimed, next_due)

    def finish_broadcasts(
        self, results: Sequence[tuple[Claimed, Outcome]], now: datetime
    ) -> list[int]:
        """Record how claimed broadcasts ended, in one transaction; the ids that were no longer
        this worker's claim (recovered or taken by another worker meanwhile) and were left."""
        return self._finish(outbox.BROADCASTS, [(c, o, None) for c, o in results], now)

    def next_broadcast_due(self) -> datetime | None:
        with self.db.tx() as conn:
            return outbox.next_due(conn, outbox.BROADCASTS)

    def broadcast_counts(self) -> dict[str, int]:
        with self.db.tx() as conn:
            return outbox.counts(conn, outbox.BROADCASTS)

    def broadcast_rows(self, *, user_id: int | None = None) -> list[dict[str, Any]]:
        """Every broadcast row as a mapping (for status pages and tests)."""
        return self._rows(t.broadcasts, user_id)

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
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(s.c.user_id, s.c.chat_id, s.c.digest_since, last.c.until)
                .select_from(s.outerjoin(last, last.c.user_id == s.c.user_id))
                .where(
                    s.c.digest.is_(True),
                    s.c.digest_since <= cutoff,
                    ~sa.exists().where(d.c.user_id == s.c.user_id, d.c.day == day),
                )
            ).all()
            added = 0
            for user_id, chat_id, digest_since, previous in found:
                since = max(previous or digest_since or now - max_span, now - max_span)
                added += len(
                    conn.execute(
                        self.db.insert(d)
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
        with self.db.tx() as conn:
            keys = set(
                conn.execute(
                    sa.select(t.subscriptions.c.topic).where(t.subscriptions.c.user_id == user_id)
                ).scalars()
            )
            candidates = conn.execute(
                sa.select(a)
                .where(a.c.duplicate_of.is_(None), a.c.first_seen > since, a.c.first_seen <= until)
                .order_by(sa.func.coalesce(a.c.published, a.c.first_seen).desc(), a.c.key)
            ).all()
        found: list[Article] = []
        for row in candidates:
            article = rows.article(row._mapping)
            if keys and not any(fold(c)[:TOPIC_KEY_MAX] in keys for c in article.categories):
                continue
            found.append(article)
            if len(found) >= limit:
                break
        return found

    def claim_digests(self, now: datetime, *, limit: int, worker: str) -> list[Claimed]:
        d = t.digests
        query = (
            sa.select(d.c.id)
            .where(d.c.state == QUEUED, d.c.due_at <= now)
            .order_by(d.c.due_at, d.c.id)
            .limit(limit)
        )
        if self.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        with self.db.tx() as conn:
            ids = outbox.take(
                conn, outbox.DIGESTS, list(conn.execute(query).scalars()), now, worker
            )
            return _claimed(conn, d, ids)

    def finish_digests(
        self, results: Sequence[tuple[Claimed, Outcome, int]], now: datetime
    ) -> list[int]:
        """Record how claimed digests ended (with how many articles each listed), in one
        transaction; the ids that were no longer this worker's claim and were left."""
        return self._finish(outbox.DIGESTS, results, now)

    def digest_rows(self, *, user_id: int | None = None) -> list[dict[str, Any]]:
        return self._rows(t.digests, user_id)

    # ---- both ---------------------------------------------------------------------------

    def _finish(
        self,
        queue: outbox.Queue,
        results: Sequence[tuple[Claimed, Outcome, int | None]],
        now: datetime,
    ) -> list[int]:
        left: list[int] = []
        gone: set[int] = set()
        with self.db.tx() as conn:
            for row, outcome, articles in results:
                extra = {"articles": articles} if articles is not None else None
                ticket = outbox.Ticket(row.id, row.worker, row.attempts)
                if not outbox.finish(conn, queue, ticket, outcome, now, extra=extra):
                    left.append(row.id)
                if outcome.unsubscribe:
                    gone.add(row.user_id)
            for user_id in sorted(gone):
                _unsubscribe_all(conn, user_id, SkipReason.READER_GONE, now)
        return left

    def recover(self, now: datetime, *, older_than: datetime | None = None) -> dict[str, int]:
        """Broadcasts and digests left in `sending` by a process that stopped become `unknown`
        (see `outbox.recover`); how many of each."""
        with self.db.tx() as conn:
            return {
                name: len(outbox.recover(conn, queue, now, older_than=older_than))
                for name, queue in (("broadcasts", outbox.BROADCASTS), ("digests", outbox.DIGESTS))
            }

    def _rows(self, table: sa.Table, user_id: int | None) -> list[dict[str, Any]]:
        query = sa.select(table).order_by(table.c.id)
        if user_id is not None:
            query = query.where(table.c.user_id == user_id)
        with self.db.tx() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]


def _unsubscribe_all(conn: sa.Connection, user_id: int, reason: str, now: datetime) -> None:
    """A reader who blocked the bot: drop their topics and digest, skip what waits for them."""
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
            .values(state=DeliveryState.SKIPPED.value, error=reason, updated_at=now)
        )


def _claimed(conn: sa.Connection, table: sa.Table, ids: Sequence[int]) -> list[Claimed]:
    """The claimed rows of a reader outbox, with the reader's language."""
    if not ids:
        return []
    c, s = table.c, t.subscribers
    found = conn.execute(
        sa.select(table, s.c.language, s.c.telegram_language)
        .select_from(table.outerjoin(s, s.c.user_id == c.user_id))
        .where(c.id.in_(list(ids)))
        .order_by(c.id)
    ).all()
    return [
        Claimed(
            id=int(r.id),
            user_id=int(r.user_id),
            chat_id=int(r.chat_id),
            language=r.language or r.telegram_language,
            attempts=int(r.attempts),
            worker=r.worker,
            article_key=r._mapping.get("article_key"),
            topic=r._mapping.get("topic"),
            since=r._mapping.get("since"),
            until=r._mapping.get("until"),
            day=r._mapping.get("day"),
        )
        for r in found
    ]

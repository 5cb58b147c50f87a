"""Storage part: the web dashboard's reads and writes (history search, queue, audit log, logins)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.errors import StorageError
from bot.models import Article, Delivery, DeliveryState
from bot.storage import state_counts
from bot.storage import tables as t
from bot.storage.channels import tally
from bot.storage.database import Part
from bot.storage.rows import article as article_of
from bot.storage.rows import delivery as delivery_of

WEB_SECRET_KEY = "web_secret"
SEARCH_MAX = 200  # characters of a history search
# The deliveries the queue page lists: waiting, in flight, or needing an admin.
OPEN_STATES = (
    DeliveryState.QUEUED,
    DeliveryState.PENDING,  # waiting for an admin's approval
    DeliveryState.SENDING,
    DeliveryState.UNKNOWN,
    DeliveryState.FAILED,
)


@dataclass(frozen=True, slots=True)
class QueuedPost:
    """One delivery of the queue page, with its article and the teaser an admin wrote (if any)."""

    delivery: Delivery
    article: Article
    teaser: str | None


@dataclass(frozen=True, slots=True)
class ArticleHit:
    """One article found by the history search, with its deliveries."""

    article: Article
    first_seen: datetime
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    author: int
    action: str
    target: str
    detail: str


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """What /metrics reports from the database at scrape time."""

    deliveries: dict[tuple[str, str], int]  # (channel, state) → count
    attempts: dict[str, int]  # channel → attempts made (sent, failed, retried)
    late: dict[str, int]  # channel → queued posts due for longer than the grace period
    broadcasts: dict[str, int]  # state → count
    articles: int
    subscribers: int
    actions: int
    alerts: int


def _like(text: str) -> str:
    """A LIKE pattern that matches `text` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class DashboardPart(Part):
    """The dashboard's queries and its own tables (audit log, login nonces, edited teasers,
    alerts journal); composed into `Storage`."""

    # ---- health and the signing secret ---------------------------------------------------

    def ping(self) -> None:
        """Raise StorageError unless the database answers."""
        with self.db.tx() as conn:
            conn.execute(sa.text("SELECT 1"))

    def web_secret(self) -> str:
        """The key that signs login links and session cookies, made once per database: every
        process on the same database (`relais run`, `relais web`, `relais web-login`) shares it."""
        m = t.meta
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(m.c.value).where(m.c.key == WEB_SECRET_KEY)
            ).scalar_one_or_none()
            if found is not None:
                return str(found)
            conn.execute(
                self.db.insert(m)
                .values(key=WEB_SECRET_KEY, value=secrets.token_hex(32))
                .on_conflict_do_nothing()
            )
            return str(
                conn.execute(sa.select(m.c.value).where(m.c.key == WEB_SECRET_KEY)).scalar_one()
            )

    def use_login_nonce(self, nonce: str, user_id: int, now: datetime) -> bool:
        """True the first time a login link's nonce is used, False ever after."""
        with self.db.tx() as conn:
            inserted = conn.execute(
                self.db.insert(t.login_nonces)
                .values(nonce=nonce[:64], user_id=user_id, used_at=now)
                .on_conflict_do_nothing()
                .returning(t.login_nonces.c.nonce)
            )
            return inserted.first() is not None

    # ---- the audit log -------------------------------------------------------------------

    def record_action(
        self, author: int, action: str, target: str, detail: str, now: datetime
    ) -> None:
        with self.db.tx() as conn:
            conn.execute(
                t.audit_log.insert().values(
                    at=now, author=author, action=action[:32], target=target, detail=detail
                )
            )

    def actions(self, limit: int = 20) -> list[AuditEntry]:
        a = t.audit_log
        with self.db.tx() as conn:
            rows = conn.execute(sa.select(a).order_by(a.c.id.desc()).limit(limit)).all()
        return [
            AuditEntry(int(r.id), r.at, int(r.author), r.action, r.target, r.detail) for r in rows
        ]

    # ---- the alerts journal --------------------------------------------------------------

    def record_alert(self, message: str, now: datetime) -> None:
        with self.db.tx() as conn:
            conn.execute(t.alert_log.insert().values(at=now, message=message))

    def alerts(self, since: datetime, limit: int = 20) -> list[tuple[datetime, str]]:
        """The alerts sent since `since`, newest first."""
        g = t.alert_log
        with self.db.tx() as conn:
            rows = conn.execute(
                sa.select(g.c.at, g.c.message)
                .where(g.c.at >= since)
                .order_by(g.c.id.desc())
                .limit(limit)
            ).all()
        return [(at, str(message)) for at, message in rows]

    # ---- history -------------------------------------------------------------------------

    def search_articles(self, query: str, limit: int = 30) -> list[ArticleHit]:
        """Articles whose title or link contains `query` (case-insensitive), newest first; an
        empty query gives the latest articles. Each comes with every channel's delivery."""
        a, d = t.articles, t.deliveries
        stmt = sa.select(a).order_by(a.c.first_seen.desc(), a.c.key).limit(limit)
        words = query.strip()[:SEARCH_MAX]
        if words:
            pattern = _like(words.lower())
            stmt = stmt.where(
                sa.or_(
                    sa.func.lower(a.c.title).like(pattern, escape="\\"),
                    sa.func.lower(a.c.url).like(pattern, escape="\\"),
                    sa.func.lower(a.c.canonical_url).like(pattern, escape="\\"),
                )
            )
        with self.db.tx() as conn:
            rows = conn.execute(stmt).all()
            keys = [r.key for r in rows]
            found: dict[str, list[Delivery]] = {k: [] for k in keys}
            if keys:
                for row in conn.execute(
                    sa.select(d).where(d.c.article_key.in_(keys)).order_by(d.c.channel_id)
                ):
                    found[row.article_key].append(delivery_of(row._mapping))
        return [ArticleHit(article_of(r._mapping), r.first_seen, tuple(found[r.key])) for r in rows]

    def article_deliveries(self, key: str) -> tuple[Article, datetime, list[Delivery]]:
        """One article, when it was first seen, and its delivery on every channel."""
        a, d = t.articles, t.deliveries
        with self.db.tx() as conn:
            row = conn.execute(sa.select(a).where(a.c.key == key)).first()
            if row is None:
                raise StorageError(f"no article with key {key!r}")
            deliveries = [
                delivery_of(r._mapping)
                for r in conn.execute(
                    sa.select(d).where(d.c.article_key == key).order_by(d.c.channel_id)
                )
            ]
        return article_of(row._mapping), row.first_seen, deliveries

    # ---- the queue -----------------------------------------------------------------------

    def queue(
        self,
        channel_id: str | None = None,
        *,
        states: Sequence[DeliveryState] = OPEN_STATES,
        limit: int = 100,
    ) -> list[QueuedPost]:
        """Open deliveries (queued, sending, unknown, failed: or `states`) in due-time order."""
        d, a, e = t.deliveries, t.articles, t.teaser_edits
        stmt = (
            sa.select(d, a, e.c.teaser)  # no column name is in both tables
            .select_from(
                d.join(a, a.c.key == d.c.article_key).outerjoin(e, e.c.delivery_id == d.c.id)
            )
            .where(d.c.state.in_([s.value for s in states]))
            .order_by(d.c.due_at, d.c.id)
            .limit(limit)
        )
        if channel_id is not None:
            stmt = stmt.where(d.c.channel_id == channel_id)
        with self.db.tx() as conn:
            rows = conn.execute(stmt).all()
        return [QueuedPost(delivery_of(r._mapping), article_of(r._mapping), r.teaser) for r in rows]

    def reschedule(self, delivery_id: int, due: datetime, now: datetime) -> bool:
        """Give a queued delivery another due time (publish now, or move to a later slot)."""
        d = t.deliveries
        with self.db.tx() as conn:
            return (
                conn.execute(
                    d.update()
                    .where(d.c.id == delivery_id, d.c.state == DeliveryState.QUEUED.value)
                    .values(due_at=due, updated_at=now)
                ).rowcount
                == 1
            )

    def set_teaser(self, delivery_id: int, teaser: str, author: int, now: datetime) -> bool:
        """Rewrite the teaser of a delivery that has not gone out yet; an empty text goes back
        to the article's own lead. False when the delivery is sent, sending or skipped."""
        d, e = t.deliveries, t.teaser_edits
        editable = [DeliveryState.QUEUED.value, DeliveryState.FAILED.value]
        editable += [DeliveryState.UNKNOWN.value, DeliveryState.PENDING.value]
        with self.db.tx() as conn:
            state = conn.execute(
                sa.select(d.c.state).where(d.c.id == delivery_id)
            ).scalar_one_or_none()
            if state not in editable:
                return False
            conn.execute(e.delete().where(e.c.delivery_id == delivery_id))
            if teaser.strip():
                conn.execute(
                    e.insert().values(delivery_id=delivery_id, teaser=teaser, author=author, at=now)
                )
            return True

    def teaser_edit(self, delivery_id: int) -> str | None:
        e = t.teaser_edits
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(e.c.teaser).where(e.c.delivery_id == delivery_id)
            ).scalar_one_or_none()
        return str(found) if found is not None else None

    def teaser_edits(self, delivery_ids: Sequence[int]) -> dict[int, str]:
        e = t.teaser_edits
        if not delivery_ids:
            return {}
        with self.db.tx() as conn:
            rows = conn.execute(
                sa.select(e.c.delivery_id, e.c.teaser).where(e.c.delivery_id.in_(delivery_ids))
            ).all()
        return {int(i): str(text) for i, text in rows}

    def pacing_facts(self, channel_id: str, day_start: datetime) -> tuple[datetime | None, int]:
        """The channel's last post and how many it made since `day_start`, as the outbox's
        claim counts them for its pacing (`channels.tally`: posts and roundups, from the index)."""
        with self.db.tx() as conn:
            return tally(conn, channel_id, day_start)

    # ---- subscribers ---------------------------------------------------------------------

    def readers_per_topic(self, limit: int = 50) -> list[tuple[str, int]]:
        """Each followed topic (as the site spells it) and how many readers follow it."""
        s = t.subscriptions
        with self.db.tx() as conn:
            rows = conn.execute(
                sa.select(sa.func.min(s.c.label), sa.func.count())
                .group_by(s.c.topic)
                .order_by(sa.func.count().desc(), sa.func.min(s.c.label))
                .limit(limit)
            ).all()
        return [(str(label), int(n)) for label, n in rows]

    def recent_digests(self, limit: int = 10) -> list[tuple[str, str, int]]:
        """The latest digests: (local day, state, articles listed)."""
        g = t.digests
        with self.db.tx() as conn:
            rows = conn.execute(
                sa.select(g.c.day, g.c.state, g.c.articles).order_by(g.c.id.desc()).limit(limit)
            ).all()
        return [(str(day), str(state), int(n)) for day, state, n in rows]

    # ---- metrics -------------------------------------------------------------------------

    def metrics(self, late_before: datetime) -> MetricsSnapshot:
        """Counts for /metrics; `late_before`: a queued post due before this is late."""
        d, b = t.deliveries, t.broadcasts
        with self.db.tx() as conn:
            counts, rows_read = state_counts.read(conn)
            deliveries = {(c, s): n for c, per in counts.items() for s, n in per.items()}
            attempts = {
                str(c): int(n or 0)
                for c, n in conn.execute(
                    sa.select(d.c.channel_id, sa.func.sum(d.c.attempts)).group_by(d.c.channel_id)
                )
            }
            late = {
                str(c): int(n)
                for c, n in conn.execute(
                    sa.select(d.c.channel_id, sa.func.count())
                    .where(d.c.state == DeliveryState.QUEUED.value, d.c.due_at < late_before)
                    .group_by(d.c.channel_id)
                )
            }
            broadcasts = {
                str(s): int(n)
                for s, n in conn.execute(sa.select(b.c.state, sa.func.count()).group_by(b.c.state))
            }
            articles = conn.execute(sa.select(sa.func.count()).select_from(t.articles))
            n_articles = int(articles.scalar_one())
            subscribers = conn.execute(sa.select(sa.func.count()).select_from(t.subscribers))
            n_subscribers = int(subscribers.scalar_one())
            actions = conn.execute(sa.select(sa.func.count()).select_from(t.audit_log))
            n_actions = int(actions.scalar_one())
            alerts = conn.execute(sa.select(sa.func.count()).select_from(t.alert_log))
            n_alerts = int(alerts.scalar_one())
        state_counts.fold_if_long(self.db, rows_read)
        return MetricsSnapshot(
            deliveries, attempts, late, broadcasts, n_articles, n_subscribers, n_actions, n_alerts
        )

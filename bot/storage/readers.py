"""Storage part: subscribers, the topics they follow, and the site's topics."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.models import Forgotten, Subscriber, Subscription
from bot.storage import rows
from bot.storage import tables as t
from bot.storage.articles import ArticlesPart
from bot.storage.broadcasts import BroadcastsPart
from bot.storage.channels import DeliveriesPart
from bot.storage.database import Database
from bot.storage.search import SearchPart
from bot.storage.tables import TOPIC_KEY_MAX
from bot.storage.topics import TopicsPart


class ReadersPart(TopicsPart):
    """Subscribers and what they follow; the site's topics come from `TopicsPart`."""

    # ---- subscribers --------------------------------------------------------------------

    def subscriber(self, user_id: int) -> Subscriber | None:
        with self.db.tx() as conn:
            row = conn.execute(
                sa.select(t.subscribers).where(t.subscribers.c.user_id == user_id)
            ).first()
        return rows.subscriber(row._mapping) if row else None

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
            self.db.insert(t.subscribers)
            .values(user_id=user_id, created_at=now, **values)
            .on_conflict_do_update(index_elements=["user_id"], set_=values)
        )

    def touch(self, user_id: int, telegram_language: str | None, now: datetime) -> None:
        """Remember the language Telegram reports for a reader we already keep (no new row)."""
        if not telegram_language:
            return
        s = t.subscribers
        with self.db.tx() as conn:
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
        with self.db.tx() as conn:
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
        with self.db.tx() as conn:
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
        with self.db.tx() as conn:
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
        with self.db.tx() as conn:
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
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(sub.c.topic, sub.c.label)
                .where(sub.c.user_id == user_id)
                .order_by(sub.c.topic)
            ).all()
        return [Subscription(r.topic, r.label) for r in found]

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
        with self.db.tx() as conn:
            self._ensure(conn, user_id, chat_id, telegram_language, now)
            added = conn.execute(
                self.db.insert(t.subscriptions)
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
        with self.db.tx() as conn:
            removed = conn.execute(
                sub.delete().where(sub.c.user_id == user_id, sub.c.topic == topic[:TOPIC_KEY_MAX])
            ).rowcount
        return removed == 1

    def subscription_count(self, user_id: int) -> int:
        sub = t.subscriptions
        with self.db.tx() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(sub).where(sub.c.user_id == user_id)
                ).scalar_one()
            )

    # ---- the site's topics ---------------------------------------------------------------


class ReaderStore(ArticlesPart, SearchPart, ReadersPart, BroadcastsPart, DeliveriesPart):
    """The reader bot's view of the storage: the same parts over the same `Database` as
    `Storage` (the SQLite file or the PostgreSQL pool, and the schema migrations)."""

    def __init__(self, db: Database | sa.Engine) -> None:
        self.db = db if isinstance(db, Database) else Database(db)

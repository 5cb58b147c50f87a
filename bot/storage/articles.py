"""Storage part: recording new articles with their deliveries, identity lookups, reading back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.errors import StorageError
from bot.feeds.dates import not_after_first_seen
from bot.models import REGULAR, Article, DeliveryState, FeedState, NewArticle, SkipReason, Start
from bot.storage import rows
from bot.storage import tables as t
from bot.storage.database import Database, Part, chunks, digest
from bot.storage.feeds import feed_state_row, feed_state_upsert
from bot.storage.topics import count_topics


class ArticlesPart(Part):
    def known_keys(self, articles: Sequence[Article]) -> dict[str, str]:
        """For each given article already recorded (same canonical link, or same guid: a URL
        guid anywhere, another guid within its feed), its key → the key it was recorded under."""
        found: dict[str, str] = {}
        if not articles:
            return found
        a = t.articles
        with self.db.tx() as conn:
            same_link: set[str] = set()
            for chunk in chunks([x.key for x in articles]):
                same_link.update(
                    conn.execute(sa.select(a.c.key).where(a.c.key.in_(chunk))).scalars()
                )
            by_guid: dict[tuple[str, str], str] = {}
            guid_keys = [digest(x.guid) for x in articles if x.guid]
            for chunk in chunks(guid_keys):
                found_rows = conn.execute(
                    sa.select(a.c.key, a.c.guid, a.c.feed_id).where(a.c.guid_key.in_(chunk))
                )
                for key, guid, feed_id in found_rows:
                    by_guid[(_guid_scope(guid, feed_id), guid)] = key
        for article in articles:
            guid = article.guid
            if article.key in same_link:
                found[article.key] = article.key
            elif guid and (match := by_guid.get((_guid_scope(guid, article.feed_id), guid))):
                found[article.key] = match
        return found

    def carried(self, feed_id: str, keys: Sequence[str]) -> set[str]:
        """The keys among these that this feed has carried before."""
        found: set[str] = set()
        sg = t.sightings
        with self.db.tx() as conn:
            for chunk in chunks(list(keys)):
                found.update(
                    conn.execute(
                        sa.select(sg.c.article_key).where(
                            sg.c.feed_id == feed_id, sg.c.article_key.in_(chunk)
                        )
                    ).scalars()
                )
        return found

    def seen(self, keys: Sequence[str]) -> dict[str, tuple[datetime, set[str]]]:
        """For recorded articles: when each was first seen, and the channels it has a delivery
        row for (whatever its state)."""
        out: dict[str, tuple[datetime, set[str]]] = {}
        a, d = t.articles, t.deliveries
        with self.db.tx() as conn:
            for chunk in chunks(list(keys)):
                for key, first_seen in conn.execute(
                    sa.select(a.c.key, a.c.first_seen).where(a.c.key.in_(chunk))
                ):
                    out[key] = (first_seen, set())
                for key, channel_id in conn.execute(
                    sa.select(d.c.article_key, d.c.channel_id).where(d.c.article_key.in_(chunk))
                ):
                    out[key][1].add(channel_id)
        return out

    def recent_title(self, feed_id: str, title_norm: str, since: datetime) -> str | None:
        """The key of an article of this feed with the same normalised title seen since `since`."""
        return self.recent_titles(feed_id, [title_norm], since).get(title_norm)

    def recent_titles(
        self, feed_id: str, title_norms: Sequence[str], since: datetime
    ) -> dict[str, str]:
        """For each of these normalised titles that an article of this feed seen since `since`
        has, one such article's key (one query for a poll's new articles)."""
        by_digest = {digest(norm): norm for norm in title_norms}
        a = t.articles
        found: dict[str, str] = {}
        with self.db.tx() as conn:
            for chunk in chunks(list(by_digest)):
                for key, title_key in conn.execute(
                    sa.select(a.c.key, a.c.title_key)
                    .where(
                        a.c.feed_id == feed_id, a.c.title_key.in_(chunk), a.c.first_seen >= since
                    )
                    .order_by(a.c.key)
                ):
                    found.setdefault(by_digest[title_key], key)
        return found

    def record(
        self,
        items: Sequence[NewArticle],
        now: datetime,
        *,
        feed_state: FeedState | None = None,
        more: Sequence[tuple[str, str, SkipReason | None]] = (),
        more_starts: Mapping[tuple[str, str], Start] | None = None,
        sighted: Sequence[str] = (),
    ) -> list[str]:
        """Record new articles and their deliveries, and the feed's state, in one transaction.
        An article that another worker recorded first is left alone (no deliveries created).
        `more` adds deliveries (article key, channel, skip reason) for articles already known,
        reached now through another feed (`more_starts`: how they start, when not regular).
        `sighted`: the keys of every article the feed of
        `feed_state` carries now. Returns the keys recorded."""
        starts = more_starts or {}
        deliveries = [
            delivery_row(key, channel_id, skip, now, starts.get((key, channel_id), REGULAR))
            for key, channel_id, skip in more
        ]
        # Each kind of row in one statement (many rows at once): the engines' ON CONFLICT
        # statements are compiled on every execution, once per row was most of a poll's cost.
        with self.db.tx() as conn:
            if feed_state is not None:
                conn.execute(feed_state_upsert(self.db), feed_state_row(feed_state))
                if sighted:
                    seen = {"feed_id": feed_state.feed_id, "first_seen": now}
                    conn.execute(
                        self.db.insert(t.sightings).on_conflict_do_nothing(),
                        [{"article_key": key, **seen} for key in dict.fromkeys(sighted)],
                    )
            inserted: set[str] = set()
            if items:
                stmt = self.db.insert(t.articles).on_conflict_do_nothing()
                inserted = set(  # an article another worker recorded first is not returned
                    conn.execute(
                        stmt.returning(t.articles.c.key), [article_row(i, now) for i in items]
                    ).scalars()
                )
            mine = [i for i in items if i.article.key in inserted]
            count_topics(
                self.db, conn, [i.article.categories for i in mine if i.duplicate_of is None]
            )
            deliveries += [
                delivery_row(i.article.key, c, skip, now, i.starts.get(c, REGULAR))
                for i in mine
                for c, skip in i.decisions
            ]
            add_deliveries(self.db, conn, deliveries)
        return [i.article.key for i in mine]

    def article(self, key: str) -> Article:
        with self.db.tx() as conn:
            row = conn.execute(sa.select(t.articles).where(t.articles.c.key == key)).first()
        if row is None:
            raise StorageError(f"no article with key {key!r}")
        return rows.article(row._mapping)

    def latest(self, *, offset: int = 0, limit: int = 5) -> list[Article]:
        """The newest articles (not republished copies), newest first."""
        a = t.articles
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(a)
                .where(a.c.duplicate_of.is_(None))
                .order_by(sa.func.coalesce(a.c.published, a.c.first_seen).desc(), a.c.key)
                .offset(max(0, offset))
                .limit(max(0, limit))
            ).all()
        return [rows.article(r._mapping) for r in found]

    def latest_articles(self, limit: int = 10) -> list[Article]:
        """The `limit` newest articles (not republished copies), newest first."""
        return self.latest(limit=limit)

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """The keys among these that are recorded."""
        found: set[str] = set()
        with self.db.tx() as conn:
            for chunk in chunks(list(keys)):
                found.update(
                    conn.execute(
                        sa.select(t.articles.c.key).where(t.articles.c.key.in_(chunk))
                    ).scalars()
                )
        return found


def article_row(item: NewArticle, now: datetime) -> dict[str, Any]:
    """A new article as the parameters of its INSERT."""
    a = item.article
    return {
        "key": a.key,
        "feed_id": a.feed_id,
        "guid": a.guid,
        "guid_key": digest(a.guid) if a.guid else None,
        "url": a.url,
        "canonical_url": a.canonical_url,
        "title": a.title,
        "title_key": digest(item.title_norm),
        "published": not_after_first_seen(a.published, now),
        "author": a.author,
        "categories": list(a.categories),
        "image": a.image,
        "content_html": a.content_html,
        "summary_html": a.summary_html,
        "first_seen": now,
        "duplicate_of": item.duplicate_of,
    }


def delivery_row(
    key: str, channel_id: str, skip: SkipReason | None, now: datetime, start: Start = REGULAR
) -> dict[str, Any]:
    """A new outbox row for (article, channel): queued (urgent, or `pending` an admin's
    approval, as `start` says), or skipped with its reason."""
    state = DeliveryState.QUEUED if skip is None else DeliveryState.SKIPPED
    if skip is None and start.pending:
        state = DeliveryState.PENDING
    return {
        "article_key": key,
        "channel_id": channel_id,
        "state": state.value,
        "urgent": skip is None and start.urgent,
        "due_at": now,
        "error": None if skip is None else skip.value,
        "created_at": now,
        "updated_at": now,
    }


def add_deliveries(db: Database, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """New outbox rows (`delivery_row`), in one statement; a row that exists is left alone."""
    if rows:
        conn.execute(db.insert(t.deliveries).on_conflict_do_nothing(), list(rows))


def _guid_scope(guid: str, feed_id: str) -> str:
    """A URL guid names one article anywhere; a guid such as "1234" only within its feed."""
    return "" if guid.startswith(("http://", "https://")) else feed_id

"""The Storage class: every read and write Relais makes, over SQLite or PostgreSQL."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from bot.errors import InstanceLockedError, StorageError
from bot.models import Article, Delivery, DeliveryState, FeedState, PublishResult
from bot.storage import migrations
from bot.storage import tables as t

SENT_LIKE = (DeliveryState.SENDING, DeliveryState.SENT, DeliveryState.UNKNOWN)


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article to record with its per-channel decisions (None = queue, else skip reason)."""

    article: Article
    title_norm: str
    decisions: Sequence[tuple[str, str | None]]
    duplicate_of: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelState:
    channel_id: str
    paused: bool = False
    pause_reason: str | None = None
    chat_override: str | None = None
    paused_by: str | None = None
    chat_override_from: str | None = None
    created_at: datetime | None = None

    def chat_for(self, configured: str | None) -> str | None:
        """The chat to post to: a migrated chat's new id, while the config names the old one."""
        if self.chat_override and self.chat_override_from == configured:
            return self.chat_override
        return configured


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    channel_id: str
    counts: dict[str, int]
    next_due: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    delivery: Delivery
    title: str
    url: str


def _sqlite_path(url: sa.URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str, *, writer: bool = False) -> sa.Engine:
    """An engine with the settings Relais needs (SQLite: WAL, foreign keys, busy timeout).

    `writer` (SQLite): every transaction starts with BEGIN IMMEDIATE, taking the write lock up
    front and waiting for it, so that a read-then-write transaction never fails because another
    connection wrote in between. Readers (status, history) keep plain deferred transactions.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_path(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 10})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below run the transactions
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA busy_timeout=10000")
            if path is not None:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            # IMMEDIATE takes the write lock up front (waiting for it under busy_timeout) where
            # a transaction will write after reading, e.g. two processes migrating a new file.
            immediate = writer or conn.get_execution_options().get("immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(url, pool_pre_ping=True)
    raise StorageError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


class Storage:
    """Reads and writes; each public method is one transaction."""

    def __init__(self, engine: sa.Engine, *, lock_file: IO[str] | None = None) -> None:
        self.engine = engine
        self._lock_file = lock_file
        self.is_postgres = engine.dialect.name == "postgresql"

    # ---- opening and closing ------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, exclusive: bool = False) -> Storage:
        """Connect, migrate, and (`exclusive`, SQLite only) take the one-instance lock."""
        engine = make_engine(url, writer=exclusive)
        lock_file = None
        if exclusive and engine.dialect.name == "sqlite":
            path = _sqlite_path(engine.url)
            if path is not None:
                lock_file = _take_lock(path)
        try:
            _migrate(engine)
        except sa.exc.DBAPIError as err:
            if lock_file is not None:
                lock_file.close()
            engine.dispose()
            raise StorageError(f"cannot open the database: {_db_message(err)}") from None
        except Exception:
            if lock_file is not None:
                lock_file.close()
            engine.dispose()
            raise
        return cls(engine, lock_file=lock_file)

    def close(self) -> None:
        self.engine.dispose()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.DBAPIError as err:
            raise StorageError(f"database error: {_db_message(err)}") from None

    def _insert(self, table: sa.Table) -> Any:
        dialect = postgresql if self.is_postgres else sqlite
        return dialect.insert(table)

    # ---- feeds --------------------------------------------------------------------------

    def feed_state(self, feed_id: str) -> FeedState | None:
        with self._tx() as conn:
            row = conn.execute(sa.select(t.feeds).where(t.feeds.c.feed_id == feed_id)).first()
        return _feed_state(row._mapping) if row else None

    def feed_states(self) -> list[FeedState]:
        with self._tx() as conn:
            rows = conn.execute(sa.select(t.feeds).order_by(t.feeds.c.feed_id)).all()
        return [_feed_state(r._mapping) for r in rows]

    def save_feed_state(self, state: FeedState) -> None:
        with self._tx() as conn:
            conn.execute(self._feed_state_upsert(state))

    def _feed_state_upsert(self, state: FeedState) -> Any:
        values = {
            "url": state.url,
            "configured_url": state.configured_url,
            "etag": state.etag,
            "last_modified": state.last_modified,
            "last_poll": state.last_poll,
            "last_result": state.last_result,
            "next_poll": state.next_poll,
            "consecutive_errors": state.consecutive_errors,
            "baselined": state.baselined,
            "failing_since": state.failing_since,
        }
        stmt = self._insert(t.feeds).values(feed_id=state.feed_id, **values)
        return stmt.on_conflict_do_update(index_elements=["feed_id"], set_=values)

    # ---- articles -----------------------------------------------------------------------

    def known_keys(self, articles: Sequence[Article]) -> dict[str, str]:
        """For each given article already recorded (same canonical link, or same guid: a URL
        guid anywhere, another guid within its feed), its key → the key it was recorded under."""
        found: dict[str, str] = {}
        if not articles:
            return found
        a = t.articles
        with self._tx() as conn:
            same_link: set[str] = set()
            for chunk in _chunks([x.key for x in articles], 400):
                same_link.update(
                    conn.execute(sa.select(a.c.key).where(a.c.key.in_(chunk))).scalars()
                )
            by_guid: dict[tuple[str, str], str] = {}
            guid_keys = [_digest(x.guid) for x in articles if x.guid]
            for chunk in _chunks(guid_keys, 400):
                rows = conn.execute(
                    sa.select(a.c.key, a.c.guid, a.c.feed_id).where(a.c.guid_key.in_(chunk))
                )
                for key, guid, feed_id in rows:
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
        with self._tx() as conn:
            for chunk in _chunks(list(keys), 400):
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
        with self._tx() as conn:
            for chunk in _chunks(list(keys), 400):
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
        with self._tx() as conn:
            return conn.execute(
                sa.select(t.articles.c.key)
                .where(
                    t.articles.c.feed_id == feed_id,
                    t.articles.c.title_key == _digest(title_norm),
                    t.articles.c.first_seen >= since,
                )
                .limit(1)
            ).scalar_one_or_none()

    def record(
        self,
        items: Sequence[NewArticle],
        now: datetime,
        *,
        feed_state: FeedState | None = None,
        more: Sequence[tuple[str, str, str | None]] = (),
        sighted: Sequence[str] = (),
    ) -> list[str]:
        """Record new articles and their deliveries, and the feed's state, in one transaction.
        An article that another worker recorded first is left alone (no deliveries created).
        `more` adds deliveries (article key, channel, skip reason) for articles already known,
        reached now through another feed. `sighted`: the keys of every article the feed of
        `feed_state` carries now. Returns the keys recorded."""
        recorded: list[str] = []
        with self._tx() as conn:
            if feed_state is not None:
                conn.execute(self._feed_state_upsert(feed_state))
            for key, channel_id, skip_reason in more:
                self._add_delivery(conn, key, channel_id, skip_reason, now)
            if feed_state is not None:
                for key in sighted:
                    conn.execute(
                        self._insert(t.sightings)
                        .values(article_key=key, feed_id=feed_state.feed_id, first_seen=now)
                        .on_conflict_do_nothing()
                    )
            for item in items:
                a = item.article
                stmt = (
                    self._insert(t.articles)
                    .values(
                        key=a.key,
                        feed_id=a.feed_id,
                        guid=a.guid,
                        guid_key=_digest(a.guid) if a.guid else None,
                        url=a.url,
                        canonical_url=a.canonical_url,
                        title=a.title,
                        title_key=_digest(item.title_norm),
                        published=a.published,
                        author=a.author,
                        categories=list(a.categories),
                        image=a.image,
                        content_html=a.content_html,
                        summary_html=a.summary_html,
                        first_seen=now,
                        duplicate_of=item.duplicate_of,
                    )
                    .on_conflict_do_nothing()
                    .returning(t.articles.c.key)
                )
                if conn.execute(stmt).first() is None:  # another worker recorded it first
                    continue
                recorded.append(a.key)
                for channel_id, skip_reason in item.decisions:
                    self._add_delivery(conn, a.key, channel_id, skip_reason, now)
        return recorded

    def _add_delivery(
        self, conn: sa.Connection, key: str, channel_id: str, skip: str | None, now: datetime
    ) -> None:
        state = DeliveryState.QUEUED if skip is None else DeliveryState.SKIPPED
        conn.execute(
            self._insert(t.deliveries)
            .values(
                article_key=key,
                channel_id=channel_id,
                state=state.value,
                due_at=now,
                error=skip,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )

    def article(self, key: str) -> Article:
        with self._tx() as conn:
            row = conn.execute(sa.select(t.articles).where(t.articles.c.key == key)).first()
        if row is None:
            raise StorageError(f"no article with key {key!r}")
        return _article(row._mapping)

    def latest_articles(self, limit: int = 10) -> list[Article]:
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(t.articles)
                .where(t.articles.c.duplicate_of.is_(None))
                .order_by(t.articles.c.published.desc(), t.articles.c.first_seen.desc())
                .limit(limit)
            ).all()
        return [_article(r._mapping) for r in rows]

    # ---- channels -----------------------------------------------------------------------

    def channel_state(self, channel_id: str) -> ChannelState:
        with self._tx() as conn:
            row = conn.execute(
                sa.select(t.channels).where(t.channels.c.channel_id == channel_id)
            ).first()
        if row is None:
            return ChannelState(channel_id)
        m = row._mapping
        return ChannelState(
            channel_id,
            bool(m["paused"]),
            m["pause_reason"],
            m["chat_override"],
            m["paused_by"],
            m["chat_override_from"],
            m["created_at"],
        )

    def ensure_channels(self, channel_ids: Sequence[str], now: datetime) -> None:
        """Give each configured channel its row, dated now when it is new: a channel receives
        the articles first seen from the time it was first configured."""
        with self._tx() as conn:
            for channel_id in channel_ids:
                conn.execute(self._channel_row(channel_id, now))

    def channels_created(self, channel_ids: Sequence[str]) -> dict[str, datetime]:
        c = t.channels
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(c.c.channel_id, c.c.created_at).where(
                    c.c.channel_id.in_(channel_ids), c.c.created_at.is_not(None)
                )
            ).all()
        return {channel_id: created for channel_id, created in rows}

    def _channel_row(self, channel_id: str, now: datetime) -> Any:
        return (
            self._insert(t.channels)
            .values(channel_id=channel_id, created_at=now, updated_at=now)
            .on_conflict_do_nothing()
        )

    def _upsert_channel(self, channel_id: str, now: datetime, **values: Any) -> None:
        stmt = self._insert(t.channels).values(
            channel_id=channel_id, created_at=now, updated_at=now, **values
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["channel_id"], set_={"updated_at": now, **values}
        )
        with self._tx() as conn:
            conn.execute(stmt)

    def set_paused(
        self,
        channel_id: str,
        paused: bool,
        reason: str | None,
        now: datetime,
        *,
        by: str = "admin",
    ) -> bool:
        """Pause (`by` "admin" or "auth") or resume a channel; True when this changed its state.

        A pause never overwrites another one (an admin's /pause stays an admin's). When resuming,
        `by="auth"` resumes only a channel that was paused for its credentials.
        """
        c = t.channels
        guard = [c.c.channel_id == channel_id, c.c.paused == (not paused)]
        if paused:
            values: dict[str, Any] = {"paused": True, "pause_reason": reason, "paused_by": by}
            values.update(paused_at=now, updated_at=now)
        else:
            values = {"paused": False, "pause_reason": None, "paused_by": None, "paused_at": None}
            values["updated_at"] = now
            if by == "auth":
                guard.append(c.c.paused_by == "auth")
        with self._tx() as conn:
            conn.execute(self._channel_row(channel_id, now))
            return conn.execute(c.update().where(*guard).values(**values)).rowcount == 1

    def set_chat_override(
        self, channel_id: str, configured: str | None, chat: str, now: datetime
    ) -> None:
        """Telegram moved the chat `configured` to `chat` (a group became a supergroup)."""
        self._upsert_channel(channel_id, now, chat_override=chat, chat_override_from=configured)

    # ---- the outbox ---------------------------------------------------------------------

    def claim(
        self,
        channel_id: str,
        now: datetime,
        *,
        day_start: datetime,
        next_slot: Callable[[datetime | None, int], datetime],
        limit: int,
        worker: str,
    ) -> tuple[list[Delivery], datetime | None]:
        """Move up to `limit` due deliveries of a channel to `sending`, oldest article first.

        Pacing is decided inside the transaction (`next_slot(last_post, posts_today)` → the
        earliest allowed time), with the channel row locked on PostgreSQL, so that two workers
        never break a channel's gap. Returns the claimed deliveries and, when none could be
        claimed, the time the channel may post next (None: nothing is queued).
        """
        d = t.deliveries
        with self._tx() as conn:
            conn.execute(self._channel_row(channel_id, now))
            paused = sa.select(t.channels.c.paused).where(t.channels.c.channel_id == channel_id)
            if self.is_postgres:
                paused = paused.with_for_update()
            if conn.execute(paused).scalar_one():
                return [], None  # paused since the round began (an admin's /pause)
            last_post, posts_today = conn.execute(
                sa.select(
                    sa.func.max(d.c.attempted_at),
                    sa.func.count().filter(d.c.attempted_at >= day_start),
                ).where(d.c.channel_id == channel_id, d.c.state.in_([s.value for s in SENT_LIKE]))
            ).one()
            first_due = conn.execute(
                sa.select(sa.func.min(d.c.due_at)).where(
                    d.c.channel_id == channel_id, d.c.state == DeliveryState.QUEUED.value
                )
            ).scalar_one_or_none()
            if first_due is None:
                return [], None
            slot = next_slot(last_post, int(posts_today or 0))
            if slot > now or first_due > now:
                return [], max(slot, first_due)
            query = (
                sa.select(d.c.id)
                .select_from(d.join(t.articles, t.articles.c.key == d.c.article_key))
                .where(
                    d.c.channel_id == channel_id,
                    d.c.state == DeliveryState.QUEUED.value,
                    d.c.due_at <= now,
                )
                .order_by(
                    d.c.due_at,
                    sa.func.coalesce(t.articles.c.published, t.articles.c.first_seen),
                    d.c.id,
                )
                .limit(limit)
            )
            if self.is_postgres:
                query = query.with_for_update(skip_locked=True, of=d)
            ids = list(conn.execute(query).scalars())
            if not ids:
                return [], None
            conn.execute(
                d.update()
                .where(d.c.id.in_(ids))
                .values(
                    state=DeliveryState.SENDING.value,
                    attempts=d.c.attempts + 1,
                    attempted_at=now,
                    updated_at=now,
                    worker=worker,
                )
            )
            rows = conn.execute(sa.select(d).where(d.c.id.in_(ids)).order_by(d.c.id)).all()
        by_id = {r.id: _delivery(r._mapping) for r in rows}
        return [by_id[i] for i in ids], None

    def finish(
        self,
        claim: Delivery,
        now: datetime,
        *,
        state: DeliveryState,
        error: str | None = None,
        due: datetime | None = None,
        result: PublishResult | None = None,
        release: bool = False,
    ) -> bool:
        """Record the outcome of a claim this worker made. The row must still be the one it
        claimed (`sending`, same worker, same attempt): a row that another worker recovered or
        took since is left alone, and False says so.

        `release`: the claim is given back unattempted (a paused channel); its attempt does not
        count. `due` is when a re-queued delivery may go again (default: now).
        """
        d = t.deliveries
        values: dict[str, Any] = {"state": state.value, "error": error, "updated_at": now}
        if state is DeliveryState.SENT:
            if result is None:
                raise ValueError("a sent delivery needs the platform's result")
            values.update(remote_id=result.remote_id, remote_link=result.link, sent_at=now)
        if state is DeliveryState.QUEUED:
            values["due_at"] = due or now
        if release:
            values["attempts"] = d.c.attempts - 1
        return self._update(
            d.c.id == claim.id,
            d.c.state == DeliveryState.SENDING.value,
            d.c.worker == claim.worker,
            d.c.attempts == claim.attempts,
            values=values,
        )

    def _update(self, *where: Any, values: dict[str, Any]) -> bool:
        with self._tx() as conn:
            return conn.execute(t.deliveries.update().where(*where).values(**values)).rowcount == 1

    def _by_id(self, delivery_id: int, expect: Iterable[DeliveryState], **values: Any) -> bool:
        d = t.deliveries
        return self._update(
            d.c.id == delivery_id, d.c.state.in_([s.value for s in expect]), values=values
        )

    def resolve_found(self, delivery_id: int, result: PublishResult, now: datetime) -> bool:
        """An `unknown` delivery was found on the platform: it is sent."""
        return self._by_id(
            delivery_id,
            (DeliveryState.UNKNOWN,),
            state=DeliveryState.SENT.value,
            remote_id=result.remote_id,
            remote_link=result.link,
            error=None,
            sent_at=now,
            updated_at=now,
        )

    def mark_queued(
        self, delivery_id: int, due: datetime, error: str | None, now: datetime
    ) -> bool:
        """Queue an `unknown` or `failed` delivery again (reconciled absent, or an admin's
        /retry). Never a `sending` one: that belongs to the worker that claimed it."""
        return self._by_id(
            delivery_id,
            (DeliveryState.UNKNOWN, DeliveryState.FAILED),
            state=DeliveryState.QUEUED.value,
            due_at=due,
            error=error,
            updated_at=now,
        )

    def mark_skipped(self, delivery_id: int, reason: str, now: datetime) -> bool:
        """Give up a delivery that is not in flight (an admin's /skip)."""
        return self._by_id(
            delivery_id,
            (DeliveryState.QUEUED, DeliveryState.UNKNOWN, DeliveryState.FAILED),
            state=DeliveryState.SKIPPED.value,
            error=reason,
            updated_at=now,
        )

    def recover_sending(self, now: datetime, *, older_than: datetime | None = None) -> list[int]:
        """Deliveries left in `sending` by a process that died become `unknown`.

        SQLite (one instance): every `sending` row. PostgreSQL: only rows claimed before
        `older_than`, since another live worker may be sending the recent ones.
        """
        d = t.deliveries
        cond = [d.c.state == DeliveryState.SENDING.value]
        if older_than is not None:
            cond.append(d.c.attempted_at < older_than)
        with self._tx() as conn:
            ids = list(conn.execute(sa.select(d.c.id).where(*cond)).scalars())
            if ids:
                conn.execute(
                    d.update()
                    .where(d.c.id.in_(ids), d.c.state == DeliveryState.SENDING.value)
                    .values(
                        state=DeliveryState.UNKNOWN.value,
                        error="the process stopped while sending: outcome unknown",
                        updated_at=now,
                    )
                )
        return ids

    def deliveries(
        self,
        *,
        channel_id: str | None = None,
        states: Sequence[DeliveryState] | None = None,
        limit: int | None = None,
    ) -> list[Delivery]:
        d = t.deliveries
        query = sa.select(d).order_by(d.c.id)
        if channel_id is not None:
            query = query.where(d.c.channel_id == channel_id)
        if states is not None:
            query = query.where(d.c.state.in_([s.value for s in states]))
        if limit is not None:
            query = query.limit(limit)
        with self._tx() as conn:
            return [_delivery(r._mapping) for r in conn.execute(query)]

    def delivery(self, delivery_id: int) -> Delivery | None:
        with self._tx() as conn:
            row = conn.execute(
                sa.select(t.deliveries).where(t.deliveries.c.id == delivery_id)
            ).first()
        return _delivery(row._mapping) if row else None

    def channel_counts(self) -> list[ChannelCounts]:
        d = t.deliveries
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(d.c.channel_id, d.c.state, sa.func.count()).group_by(
                    d.c.channel_id, d.c.state
                )
            ).all()
            due_rows = conn.execute(
                sa.select(d.c.channel_id, sa.func.min(d.c.due_at))
                .where(d.c.state == DeliveryState.QUEUED.value)
                .group_by(d.c.channel_id)
            ).all()
        counts: dict[str, dict[str, int]] = {}
        for channel_id, state, n in rows:
            counts.setdefault(channel_id, {})[state] = int(n)
        due: dict[str, datetime] = {str(c): v for c, v in due_rows}
        return [ChannelCounts(c, counts[c], due.get(c)) for c in sorted(counts)]

    def history(self, limit: int = 20) -> list[HistoryRow]:
        d, a = t.deliveries, t.articles
        query = (
            sa.select(d, a.c.title, a.c.url)
            .select_from(d.join(a, a.c.key == d.c.article_key))
            .where(  # all but a first poll's baseline, which would bury everything else
                sa.or_(
                    d.c.state != DeliveryState.SKIPPED.value,
                    sa.not_(sa.func.coalesce(d.c.error, "").startswith("baseline")),
                )
            )
            .order_by(d.c.updated_at.desc(), d.c.id.desc())
            .limit(limit)
        )
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [HistoryRow(_delivery(r._mapping), r.title, r.url) for r in rows]


def _migrate(engine: sa.Engine, attempts: int = 20) -> None:
    """Run the migrations; on SQLite, wait out another process that is creating the same file
    (switching a new file to WAL needs an exclusive lock that the busy timeout does not cover)."""
    for attempt in range(attempts):
        try:
            with engine.connect() as conn:
                conn.execution_options(immediate=True)
                with conn.begin():
                    migrations.migrate(conn)
            return
        except sa.exc.OperationalError as err:
            if "locked" not in str(err.orig) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _guid_scope(guid: str, feed_id: str) -> str:
    """A URL guid names one article anywhere; a guid such as "1234" only within its feed."""
    return "" if guid.startswith(("http://", "https://")) else feed_id


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _db_message(err: sa.exc.DBAPIError) -> str:
    text = str(err.orig) if err.orig is not None else str(err)
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    if "locked" in first:
        return f"{first} (another program holds a write lock on the SQLite file; try again)"
    return first


def _take_lock(db_path: Path) -> IO[str]:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = db_path.with_name(db_path.name + ".lock")
    handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise InstanceLockedError(
            f"another Relais ({holder}) is already running on {db_path}; stop it first, or use "
            "PostgreSQL (DATABASE_URL) to run several instances"
        ) from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


def _feed_state(m: Any) -> FeedState:
    return FeedState(
        feed_id=m["feed_id"],
        url=m["url"],
        configured_url=m["configured_url"],
        etag=m["etag"],
        last_modified=m["last_modified"],
        last_poll=m["last_poll"],
        last_result=m["last_result"],
        next_poll=m["next_poll"],
        consecutive_errors=int(m["consecutive_errors"]),
        baselined=bool(m["baselined"]),
        failing_since=m["failing_since"],
    )


def _article(m: Any) -> Article:
    categories = m["categories"]
    if isinstance(categories, str):
        categories = json.loads(categories)
    return Article(
        feed_id=m["feed_id"],
        key=m["key"],
        guid=m["guid"],
        url=m["url"],
        canonical_url=m["canonical_url"],
        title=m["title"],
        published=m["published"],
        author=m["author"],
        categories=tuple(categories or ()),
        image=m["image"],
        content_html=m["content_html"] or "",
        summary_html=m["summary_html"] or "",
    )


def _delivery(m: Any) -> Delivery:
    return Delivery(
        id=int(m["id"]),
        article_key=m["article_key"],
        channel_id=m["channel_id"],
        state=DeliveryState(m["state"]),
        due_at=m["due_at"],
        attempts=int(m["attempts"]),
        remote_id=m["remote_id"],
        remote_link=m["remote_link"],
        error=m["error"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        sent_at=m["sent_at"],
        attempted_at=m["attempted_at"],
        worker=m["worker"],
    )

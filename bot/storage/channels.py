"""Storage part: each channel's state and its outbox of deliveries (claim, finish, views)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.models import (
    ChannelCounts,
    ChannelState,
    Delivery,
    DeliveryState,
    HistoryRow,
    Outcome,
    PublishResult,
    QueueRow,
    SkipReason,
)
from bot.storage import outbox, rows
from bot.storage import tables as t
from bot.storage.database import Part

S = DeliveryState
# The states that count as a post for a channel's pacing (min_gap, max_per_day).
SENT_LIKE = (S.SENDING, S.SENT, S.UNKNOWN)


class ChannelsPart(Part):
    # ---- a channel's state ----------------------------------------------------------------

    def channel_state(self, channel_id: str) -> ChannelState:
        with self.db.tx() as conn:
            row = conn.execute(
                sa.select(t.channels).where(t.channels.c.channel_id == channel_id)
            ).first()
        return rows.channel_state(row._mapping) if row else ChannelState(channel_id)

    def ensure_channels(self, channel_ids: Sequence[str], now: datetime) -> None:
        """Give each configured channel its row, dated now when it is new: a channel receives
        the articles first seen from the time it was first configured."""
        with self.db.tx() as conn:
            for channel_id in channel_ids:
                conn.execute(self._channel_row(channel_id, now))

    def channels_created(self, channel_ids: Sequence[str]) -> dict[str, datetime]:
        c = t.channels
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(c.c.channel_id, c.c.created_at).where(
                    c.c.channel_id.in_(channel_ids), c.c.created_at.is_not(None)
                )
            ).all()
        return {channel_id: created for channel_id, created in found}

    def _channel_row(self, channel_id: str, now: datetime) -> Any:
        return (
            self.db.insert(t.channels)
            .values(channel_id=channel_id, created_at=now, updated_at=now)
            .on_conflict_do_nothing()
        )

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
        with self.db.tx() as conn:
            conn.execute(self._channel_row(channel_id, now))
            return conn.execute(c.update().where(*guard).values(**values)).rowcount == 1

    def set_chat_override(
        self, channel_id: str, configured: str | None, chat: str, now: datetime
    ) -> None:
        """Telegram moved the chat `configured` to `chat` (a group became a supergroup)."""
        values = {"chat_override": chat, "chat_override_from": configured}
        stmt = self.db.insert(t.channels).values(
            channel_id=channel_id, created_at=now, updated_at=now, **values
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["channel_id"], set_={"updated_at": now, **values}
        )
        with self.db.tx() as conn:
            conn.execute(stmt)

    # ---- the outbox -----------------------------------------------------------------------

    def claim(
        self,
        channel_id: str,
        now: datetime,
        *,
        day_start: datetime,
        next_slot: Callable[[datetime | None, int], datetime],
        limit: int,
        worker: str,
        window: Callable[[Sequence[datetime]], datetime | None] | None = None,
    ) -> tuple[list[Delivery], datetime | None]:
        """Move up to `limit` due deliveries of a channel to `sending`, oldest article first.

        Pacing is decided inside the transaction (`next_slot(last_post, posts_today)` → the
        earliest allowed time), with the channel row locked on PostgreSQL, so that two workers
        never break a channel's gap. `window` (a platform's rate, `telegram_rates.window_opens`)
        gets the channel's latest attempts and says when one more fits. Returns the claimed
        deliveries and, when none could be claimed, the time the channel may post next (None:
        nothing is queued).
        """
        d = t.deliveries
        with self.db.tx() as conn:
            conn.execute(self._channel_row(channel_id, now))
            paused = sa.select(t.channels.c.paused).where(t.channels.c.channel_id == channel_id)
            if self.db.is_postgres:
                paused = paused.with_for_update()
            if conn.execute(paused).scalar_one():
                return [], None  # paused since the round began (an admin's /pause)
            last_post, posts_today = conn.execute(
                sa.select(
                    sa.func.max(d.c.attempted_at),
                    sa.func.count().filter(d.c.attempted_at >= day_start),
                ).where(d.c.channel_id == channel_id, d.c.state.in_([s.value for s in SENT_LIKE]))
            ).one()
            first_due = outbox.next_due(conn, outbox.DELIVERIES, d.c.channel_id == channel_id)
            if first_due is None:
                return [], None
            slot = next_slot(last_post, int(posts_today or 0))
            if window is not None:
                slot = max(slot, window(_latest_attempts(conn, channel_id)) or slot)
            if slot > now or first_due > now:
                return [], max(slot, first_due)
            query = (
                sa.select(d.c.id)
                .select_from(d.join(t.articles, t.articles.c.key == d.c.article_key))
                .where(
                    d.c.channel_id == channel_id,
                    d.c.state == S.QUEUED.value,
                    d.c.due_at <= now,
                )
                .order_by(
                    d.c.due_at,
                    sa.func.coalesce(t.articles.c.published, t.articles.c.first_seen),
                    d.c.id,
                )
                .limit(limit)
            )
            if self.db.is_postgres:
                query = query.with_for_update(skip_locked=True, of=d)
            ids = list(conn.execute(query).scalars())
            taken = set(outbox.take(conn, outbox.DELIVERIES, ids, now, worker))
            if not taken:
                return [], None
            found = conn.execute(sa.select(d).where(d.c.id.in_(taken))).all()
        by_id = {r.id: rows.delivery(r._mapping) for r in found}
        return [by_id[i] for i in ids if i in by_id], None

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
        outcome = Outcome(state, error, due=due, result=result, release=release)
        ticket = outbox.Ticket(claim.id, claim.worker, claim.attempts)
        with self.db.tx() as conn:
            return outbox.finish(conn, outbox.DELIVERIES, ticket, outcome, now)

    def recover_sending(self, now: datetime, *, older_than: datetime | None = None) -> list[int]:
        """Deliveries left in `sending` by a process that died become `unknown`.

        SQLite (one instance): every `sending` row. PostgreSQL: only rows claimed before
        `older_than`, since another live worker may be sending the recent ones.
        """
        with self.db.tx() as conn:
            return outbox.recover(conn, outbox.DELIVERIES, now, older_than=older_than)

    # ---- an admin's or reconciliation's decisions on rows not in flight -------------------

    def _by_id(self, delivery_id: int, expect: Iterable[DeliveryState], **values: Any) -> bool:
        d = t.deliveries
        with self.db.tx() as conn:
            updated = conn.execute(
                d.update()
                .where(d.c.id == delivery_id, d.c.state.in_([s.value for s in expect]))
                .values(**values)
            )
        return updated.rowcount == 1

    def resolve_found(self, delivery_id: int, result: PublishResult, now: datetime) -> bool:
        """An `unknown` delivery was found on the platform: it is sent."""
        return self._by_id(
            delivery_id,
            (S.UNKNOWN,),
            state=S.SENT.value,
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
            (S.UNKNOWN, S.FAILED),
            state=S.QUEUED.value,
            due_at=due,
            error=error,
            updated_at=now,
        )

    def mark_skipped(self, delivery_id: int, reason: str, now: datetime) -> bool:
        """Give up a delivery that is not in flight (an admin's /skip)."""
        return self._by_id(
            delivery_id,
            (S.QUEUED, S.UNKNOWN, S.FAILED),
            state=S.SKIPPED.value,
            error=reason,
            updated_at=now,
        )


RATE_WINDOW_ROWS = 50  # the latest attempts a platform's rate window is judged on


def _latest_attempts(conn: sa.Connection, channel_id: str) -> list[datetime]:
    d = t.deliveries
    return list(
        conn.execute(
            sa.select(d.c.attempted_at)
            .where(d.c.channel_id == channel_id, d.c.state.in_([s.value for s in SENT_LIKE]))
            .order_by(d.c.attempted_at.desc())
            .limit(RATE_WINDOW_ROWS)
        ).scalars()
    )


class DeliveriesPart(Part):
    """The outbox as people read it: rows, counts per channel, history, the admins' queue."""

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
        with self.db.tx() as conn:
            return [rows.delivery(r._mapping) for r in conn.execute(query)]

    def delivery(self, delivery_id: int) -> Delivery | None:
        with self.db.tx() as conn:
            row = conn.execute(
                sa.select(t.deliveries).where(t.deliveries.c.id == delivery_id)
            ).first()
        return rows.delivery(row._mapping) if row else None

    def channel_counts(self) -> list[ChannelCounts]:
        d = t.deliveries
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(d.c.channel_id, d.c.state, sa.func.count()).group_by(
                    d.c.channel_id, d.c.state
                )
            ).all()
            due_rows = conn.execute(
                sa.select(d.c.channel_id, sa.func.min(d.c.due_at))
                .where(d.c.state == S.QUEUED.value)
                .group_by(d.c.channel_id)
            ).all()
        counts: dict[str, dict[str, int]] = {}
        for channel_id, state, n in found:
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
                    d.c.state != S.SKIPPED.value,
                    sa.func.coalesce(d.c.error, "") != SkipReason.BASELINE.value,
                )
            )
            .order_by(d.c.updated_at.desc(), d.c.id.desc())
            .limit(limit)
        )
        with self.db.tx() as conn:
            found = conn.execute(query).all()
        return [HistoryRow(rows.delivery(r._mapping), r.title, r.url) for r in found]

    def outbox_queue(self, channel_id: str | None = None, *, limit: int = 15) -> list[QueueRow]:
        """Deliveries that need attention or are waiting: unknown first, then queued (soonest
        first), then sending, then the most recent failures."""
        d, a = t.deliveries, t.articles
        order = sa.case(
            (d.c.state == S.UNKNOWN.value, 0),
            (d.c.state == S.QUEUED.value, 1),
            (d.c.state == S.SENDING.value, 2),
            else_=3,
        )
        waiting = [S.UNKNOWN.value, S.QUEUED.value, S.SENDING.value, S.FAILED.value]
        query = (
            sa.select(d.c.id, d.c.channel_id, d.c.state, d.c.due_at, d.c.error, a.c.title)
            .select_from(d.join(a, a.c.key == d.c.article_key))
            .where(d.c.state.in_(waiting))
            .order_by(
                order,
                sa.case((d.c.state == S.FAILED.value, None), else_=d.c.due_at),
                d.c.updated_at.desc(),
                d.c.id,
            )
            .limit(limit)
        )
        if channel_id is not None:
            query = query.where(d.c.channel_id == channel_id)
        with self.db.tx() as conn:
            found = conn.execute(query).all()
        return [
            QueueRow(int(r.id), r.channel_id, DeliveryState(r.state), r.due_at, r.title, r.error)
            for r in found
        ]

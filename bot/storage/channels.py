"""Storage part: each channel's state and its outbox of deliveries (claim, finish, views)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.delivery.next_post import Step
from bot.delivery.plan import PendingApproval, ScheduleFacts
from bot.delivery.queue_order import Waiting
from bot.models import (
    ChannelCounts,
    ChannelState,
    Delivery,
    DeliveryState,
    HistoryRow,
    Outcome,
    PublishResult,
    QueueRow,
    Roundup,
    SkipReason,
    Turn,
)
from bot.storage import outbox, rows, state_counts
from bot.storage import tables as t
from bot.storage.database import Part

S = DeliveryState
# What a channel's claim asks the schedule: its facts → the step to take (`next_post.next_step`
# with the channel's settings and now bound).
Decide = Callable[[ScheduleFacts], Step]
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
        decide: Decide,
        worker: str,
        window: Callable[[Sequence[datetime]], datetime | None] | None = None,
    ) -> Turn:
        """The channel's next turn, decided and taken in one transaction (the channel row locked
        on PostgreSQL, so two workers never break a channel's pacing or make one roundup twice).

        A roundup that was re-queued (a 429) goes first. Otherwise the channel's facts (queued
        deliveries, what it posted: last attempt and count since `day_start`, from an index; its
        last roundup) go to `decide` (the pure `next_post.next_step`), and its step is applied
        here: a post or urgent post is taken (`sending`); a roundup row is created with the
        deliveries it covers (`covered`, in order) and taken; stale posts are skipped; a wait
        comes back as `later`. `window` (a platform's rate, `telegram_rates.window_opens`)
        gets the channel's latest attempts and says when one more send fits (Telegram's 20 a
        minute per channel, held in the database for every instance)."""
        d = t.deliveries
        with self.db.tx() as conn:
            conn.execute(self._channel_row(channel_id, now))
            paused = sa.select(t.channels.c.paused).where(t.channels.c.channel_id == channel_id)
            if self.db.is_postgres:
                paused = paused.with_for_update()
            if conn.execute(paused).scalar_one():
                return Turn()  # paused since the round began (an admin's /pause)
            opens = window(_latest_attempts(conn, channel_id)) if window is not None else None
            if opens is not None and opens > now:
                return Turn(later=opens)  # the platform's per-channel rate: no send fits yet
            r = t.roundups
            retry = conn.execute(
                sa.select(r.c.id, r.c.due_at)
                .where(r.c.channel_id == channel_id, r.c.state == S.QUEUED.value)
                .order_by(r.c.due_at, r.c.id)
                .limit(1)
            ).first()
            if retry is not None and retry.due_at <= now:
                taken = outbox.take(conn, outbox.ROUNDUPS, [retry.id], now, worker)
                return Turn(roundup=_roundup(conn, taken[0])) if taken else Turn()
            facts = _facts(conn, channel_id, day_start)
            step = decide(facts)
            ids = [i.delivery for i in step.items if i.delivery is not None]
            if retry is not None and step.kind != "urgent":  # the re-queued roundup goes first
                return Turn(
                    later=min(retry.due_at, step.at) if step.kind == "wait" else retry.due_at
                )
            if step.kind in ("post", "urgent"):
                taken = outbox.take(conn, outbox.DELIVERIES, ids[:1], now, worker)
                if not taken:
                    return Turn(later=now)
                row = conn.execute(sa.select(d).where(d.c.id == taken[0])).one()
                return Turn(delivery=rows.delivery(row._mapping), urgent=step.kind == "urgent")
            if step.kind == "skip":
                conn.execute(
                    d.update()
                    .where(d.c.id.in_(ids), d.c.state == S.QUEUED.value)
                    .values(
                        state=S.SKIPPED.value, error=SkipReason.STALE_AT_SLOT.value, updated_at=now
                    )
                )
                return Turn(skipped=tuple(ids))
            if step.kind == "roundup" and step.roundup_of is not None:
                return Turn(
                    roundup=self._gather(conn, channel_id, step.roundup_of, ids, now, worker)
                )
            return Turn(later=step.at if step.kind == "wait" else None)

    def schedule_facts(self, channel_id: str, day_start: datetime) -> ScheduleFacts:
        """The facts the channel's claim gives its schedule, read for `relais plan` and `/plan`."""
        with self.db.tx() as conn:
            return _facts(conn, channel_id, day_start)

    def _gather(
        self,
        conn: sa.Connection,
        channel_id: str,
        at: datetime,
        ids: Sequence[int],
        now: datetime,
        worker: str,
    ) -> Roundup | None:
        """Create the roundup of `at`, mark the deliveries it lists `covered` by it, and take it:
        one transaction, so a crash leaves either nothing or a roundup that covers them all."""
        r, d = t.roundups, t.deliveries
        made = conn.execute(
            self.db.insert(r)
            .values(
                channel_id=channel_id,
                at=at,
                covered=list(ids),
                state=S.QUEUED.value,
                due_at=now,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
            .returning(r.c.id)
        ).scalar_one_or_none()
        if made is None:  # pragma: no cover - the channel row lock makes this one worker's
            return None
        conn.execute(
            d.update()
            .where(d.c.id.in_(list(ids)), d.c.state == S.QUEUED.value)
            .values(state=S.COVERED.value, covered_by=made, updated_at=now)
        )
        taken = outbox.take(conn, outbox.ROUNDUPS, [made], now, worker)
        return _roundup(conn, taken[0]) if taken else None

    def finish_roundup(self, claim: Roundup, now: datetime, outcome: Outcome) -> bool:
        """Record how a roundup's claim ended (guarded like `finish`). A roundup that failed for
        good gives its articles back: they go out alone, in the slots."""
        ticket = outbox.Ticket(claim.id, claim.worker, claim.attempts)
        d = t.deliveries
        with self.db.tx() as conn:
            done = outbox.finish(conn, outbox.ROUNDUPS, ticket, outcome, now)
            if done and outcome.state in (S.FAILED, S.SKIPPED):
                conn.execute(
                    d.update()
                    .where(d.c.covered_by == claim.id, d.c.state == S.COVERED.value)
                    .values(state=S.QUEUED.value, covered_by=None, due_at=now, updated_at=now)
                )
            return done

    def roundup(self, roundup_id: int) -> Roundup | None:
        with self.db.tx() as conn:
            return _roundup(conn, roundup_id)

    def roundups(self, channel_id: str | None = None) -> list[Roundup]:
        r = t.roundups
        query = sa.select(r.c.id).order_by(r.c.id)
        if channel_id is not None:
            query = query.where(r.c.channel_id == channel_id)
        with self.db.tx() as conn:
            return [x for i in conn.execute(query).scalars() if (x := _roundup(conn, i))]

    def resolve_roundup_found(self, roundup_id: int, result: PublishResult, now: datetime) -> bool:
        """An `unknown` roundup whose post is known to exist: sent."""
        r = t.roundups
        with self.db.tx() as conn:
            updated = conn.execute(
                r.update()
                .where(r.c.id == roundup_id, r.c.state == S.UNKNOWN.value)
                .values(
                    state=S.SENT.value,
                    remote_id=result.remote_id,
                    remote_link=result.link,
                    error=None,
                    sent_at=now,
                    updated_at=now,
                )
            )
        return updated.rowcount == 1

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

    def recover_roundups(self, now: datetime, *, older_than: datetime | None = None) -> list[int]:
        """Roundups left in `sending` become `unknown`, as deliveries do (`recover_sending`);
        the articles they cover stay covered: the roundup may have gone out."""
        with self.db.tx() as conn:
            return outbox.recover(conn, outbox.ROUNDUPS, now, older_than=older_than)

    # ---- breaking news: /urgent ------------------------------------------------------------

    def states_of(self, article_key: str) -> dict[str, DeliveryState]:
        """Each channel's delivery state for an article (channels without one are absent)."""
        d = t.deliveries
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(d.c.channel_id, d.c.state).where(d.c.article_key == article_key)
            ).all()
        return {str(c): DeliveryState(state) for c, state in found}

    def promote_urgent(self, article_key: str, channel_id: str, now: datetime) -> bool:
        """An admin's /urgent on a post that waits or was set aside: urgent, queued, due now.
        Guarded on the states `priority.urgent_verdict` promotes: never one that is out."""
        d = t.deliveries
        waiting = [S.QUEUED.value, S.PENDING.value, S.FAILED.value, S.SKIPPED.value]
        with self.db.tx() as conn:
            updated = conn.execute(
                d.update()
                .where(
                    d.c.article_key == article_key,
                    d.c.channel_id == channel_id,
                    d.c.state.in_(waiting),
                )
                .values(state=S.QUEUED.value, urgent=True, due_at=now, error=None, updated_at=now)
            )
        return updated.rowcount == 1

    # ---- pins of urgent posts -------------------------------------------------------------

    def set_pinned(self, delivery_id: int, until: datetime | None, now: datetime) -> None:
        """An urgent post was pinned; `until`: when to unpin it (None: it stays pinned)."""
        d = t.deliveries
        with self.db.tx() as conn:
            conn.execute(
                d.update().where(d.c.id == delivery_id).values(pinned_until=until, updated_at=now)
            )

    def due_unpins(self, now: datetime) -> list[Delivery]:
        """Pinned posts whose `pin_for` is over."""
        d = t.deliveries
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(d).where(d.c.pinned_until.is_not(None), d.c.pinned_until <= now)
            ).all()
        return [rows.delivery(r._mapping) for r in found]

    def unpinned(self, delivery_id: int, now: datetime) -> None:
        d = t.deliveries
        with self.db.tx() as conn:
            conn.execute(
                d.update().where(d.c.id == delivery_id).values(pinned_until=None, updated_at=now)
            )

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

    def mark_deleted(self, delivery_id: int, note: str, now: datetime) -> bool:
        """A sent post an admin removed: still `sent` (it was posted: never again), noted."""
        return self._by_id(delivery_id, (S.SENT,), error=note, pinned_until=None, updated_at=now)

    def mark_skipped(self, delivery_id: int, reason: str, now: datetime) -> bool:
        """Give up a delivery that is not in flight (an admin's /skip)."""
        return self._by_id(
            delivery_id,
            (S.QUEUED, S.UNKNOWN, S.FAILED),
            state=S.SKIPPED.value,
            error=reason,
            updated_at=now,
        )


def _facts(conn: sa.Connection, channel_id: str, day_start: datetime) -> ScheduleFacts:
    """What the schedule needs to know of a channel: its queued posts, what it posted (last
    attempt, count since `day_start`), its last roundup, and the posts pending approval."""
    d, r = t.deliveries, t.roundups
    columns = (d.c.id, d.c.state, d.c.due_at, d.c.urgent, d.c.asked_at, d.c.created_at)
    found = conn.execute(
        sa.select(*columns, t.articles)
        .select_from(d.join(t.articles, t.articles.c.key == d.c.article_key))
        .where(d.c.channel_id == channel_id, d.c.state.in_([S.QUEUED.value, S.PENDING.value]))
        .order_by(d.c.id)
    ).all()
    items = [
        Waiting(int(f.id), rows.article(f._mapping), f.due_at, bool(f.urgent))
        for f in found
        if f.state == S.QUEUED.value
    ]
    pending = [
        PendingApproval(int(f.id), rows.article(f._mapping), f.asked_at or f.created_at)
        for f in found
        if f.state == S.PENDING.value
    ]
    last_post, posts_today = tally(conn, channel_id, day_start)
    last_roundup = conn.execute(
        sa.select(sa.func.max(r.c.at)).where(r.c.channel_id == channel_id)
    ).scalar_one_or_none()
    return ScheduleFacts(tuple(items), last_post, posts_today, last_roundup, tuple(pending))


def tally(conn: sa.Connection, channel_id: str, day_start: datetime) -> tuple[datetime | None, int]:
    """The channel's last post (its attempt time) and how many it made since `day_start`, posts
    and roundups alike; each read from the (channel_id, attempted_at) index."""
    last: datetime | None = None
    count = 0
    for table in (t.deliveries, t.roundups):
        c = table.c
        mine = [c.channel_id == channel_id, c.state.in_([s.value for s in SENT_LIKE])]
        latest = conn.execute(
            sa.select(c.attempted_at)
            .where(*mine, c.attempted_at.is_not(None))
            .order_by(c.attempted_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        if latest is not None and (last is None or latest > last):
            last = latest
        count += int(
            conn.execute(
                sa.select(sa.func.count()).where(*mine, c.attempted_at >= day_start)
            ).scalar_one()
        )
    return last, count


def _roundup(conn: sa.Connection, roundup_id: int) -> Roundup | None:
    r, d = t.roundups, t.deliveries
    row = conn.execute(sa.select(r).where(r.c.id == roundup_id)).first()
    if row is None:
        return None
    covered = tuple(int(i) for i in row.covered)
    keys = dict(
        conn.execute(sa.select(d.c.id, d.c.article_key).where(d.c.id.in_(covered))).tuples().all()
    )
    return Roundup(
        id=int(row.id),
        channel_id=row.channel_id,
        at=row.at,
        covered=covered,
        article_keys=tuple(keys[i] for i in covered if i in keys),
        state=DeliveryState(row.state),
        attempts=int(row.attempts),
        worker=row.worker,
        remote_id=row.remote_id,
    )


RATE_WINDOW_ROWS = 50  # the latest attempts a platform's rate window is judged on


def _latest_attempts(conn: sa.Connection, channel_id: str) -> list[datetime]:
    """The channel's latest sends, posts and roundups alike, newest first."""
    found: list[datetime] = []
    for table in (t.deliveries, t.roundups):
        c = table.c
        found += conn.execute(
            sa.select(c.attempted_at)
            .where(c.channel_id == channel_id, c.state.in_([s.value for s in SENT_LIKE]))
            .where(c.attempted_at.is_not(None))
            .order_by(c.attempted_at.desc())
            .limit(RATE_WINDOW_ROWS)
        ).scalars()
    return sorted(found, reverse=True)[:RATE_WINDOW_ROWS]


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
        """Each channel's deliveries per state and its next due time: from the kept counts and
        the work in hand (`state_counts`), not from the whole history."""
        d = t.deliveries
        with self.db.tx() as conn:
            counts, rows_read = state_counts.read(conn)
            due_rows = conn.execute(
                sa.select(d.c.channel_id, sa.func.min(d.c.due_at))
                .where(d.c.state == S.QUEUED.value)
                .group_by(d.c.channel_id)
            ).all()
        state_counts.fold_if_long(self.db, rows_read)
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

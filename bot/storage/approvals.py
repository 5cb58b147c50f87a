"""Storage part: deliveries `pending` an admin's approval — asking once, answering by
compare-and-set (two admins at once settle on one answer), an admin's own teaser, timeouts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from bot.delivery.approval import Verdict
from bot.models import Delivery, DeliveryState, SkipReason
from bot.storage import rows
from bot.storage import tables as t
from bot.storage.database import Part

S = DeliveryState
PENDING = S.PENDING.value


class ApprovalsPart(Part):
    def pending_to_ask(self, channel_id: str) -> list[Delivery]:
        """The channel's pending posts the admins were not asked about yet."""
        d = t.deliveries
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(d)
                .where(d.c.channel_id == channel_id, d.c.state == PENDING, d.c.asked_at.is_(None))
                .order_by(d.c.id)
            ).all()
        return [rows.delivery(r._mapping) for r in found]

    def mark_asked(self, delivery_id: int, now: datetime) -> bool:
        """This worker asks the admins about the post (compare-and-set: one worker asks)."""
        d = t.deliveries
        with self.db.tx() as conn:
            updated = conn.execute(
                d.update()
                .where(d.c.id == delivery_id, d.c.state == PENDING, d.c.asked_at.is_(None))
                .values(asked_at=now, updated_at=now)
            )
        return updated.rowcount == 1

    def set_approval_messages(self, delivery_id: int, messages: Sequence[tuple[int, int]]) -> None:
        """The admins' messages (chat, message id) that show this post and its buttons."""
        d = t.deliveries
        with self.db.tx() as conn:
            conn.execute(
                d.update()
                .where(d.c.id == delivery_id)
                .values(approval_messages=[list(m) for m in messages])
            )

    def approval_messages(self, delivery_id: int) -> list[tuple[int, int]]:
        d = t.deliveries
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(d.c.approval_messages).where(d.c.id == delivery_id)
            ).scalar_one_or_none()
        return [(int(chat), int(message)) for chat, message in found or []]

    def answer_pending(
        self, delivery_id: int, verdict: Verdict, *, state: DeliveryState, due: datetime
    ) -> tuple[bool, Verdict | None]:
        """Record an answer only while the post is still pending and unanswered (or answered
        "edit" by this same admin): `UPDATE … WHERE state = 'pending' AND …`. Returns whether
        it was written, and the verdict that stands (None: the post is no longer pending and
        nobody answered it, e.g. an admin's /skip)."""
        d = t.deliveries
        unanswered = sa.or_(
            d.c.verdict.is_(None), sa.and_(d.c.verdict == "edit", d.c.verdict_by == verdict.by)
        )
        values = {
            "verdict": verdict.answer,
            "verdict_by": verdict.by[:128],
            "verdict_at": verdict.at,
            "state": state.value,
            "due_at": due,
            "updated_at": verdict.at,
        }
        if state is S.SKIPPED:
            values["error"] = f"{SkipReason.APPROVAL_SKIPPED.value} ({verdict.by[:64]})"
        with self.db.tx() as conn:
            written = conn.execute(
                d.update()
                .where(d.c.id == delivery_id, d.c.state == PENDING, unanswered)
                .values(**values)
            ).rowcount
            row = conn.execute(
                sa.select(d.c.verdict, d.c.verdict_by, d.c.verdict_at).where(d.c.id == delivery_id)
            ).first()
        recorded = (
            Verdict(row.verdict, row.verdict_by, row.verdict_at)
            if row is not None and row.verdict is not None
            else None
        )
        return written == 1, recorded

    def editing(self, by: str) -> Delivery | None:
        """The pending post this admin chose to edit ("✏️ Modifier") and has not rewritten."""
        d = t.deliveries
        with self.db.tx() as conn:
            row = conn.execute(
                sa.select(d)
                .where(d.c.state == PENDING, d.c.verdict == "edit", d.c.verdict_by == by[:128])
                .order_by(d.c.verdict_at.desc(), d.c.id.desc())
                .limit(1)
            ).first()
        return rows.delivery(row._mapping) if row else None

    def approve_with_teaser(
        self, delivery_id: int, by: str, teaser: str, now: datetime, *, author: int
    ) -> bool:
        """That admin's new teaser ("✏️ Modifier"): the post is approved with it, for this post
        only — the teaser is the dashboard's own kind of edit (`teaser_edits`, by `author`'s
        Telegram id), which the outbox renders instead of the lead. One transaction."""
        d, e = t.deliveries, t.teaser_edits
        with self.db.tx() as conn:
            updated = conn.execute(
                d.update()
                .where(
                    d.c.id == delivery_id,
                    d.c.state == PENDING,
                    d.c.verdict == "edit",
                    d.c.verdict_by == by[:128],
                )
                .values(
                    verdict="publish",
                    verdict_at=now,
                    state=S.QUEUED.value,
                    due_at=now,
                    updated_at=now,
                )
            )
            if updated.rowcount != 1:
                return False
            conn.execute(e.delete().where(e.c.delivery_id == delivery_id))
            conn.execute(
                e.insert().values(delivery_id=delivery_id, teaser=teaser, author=author, at=now)
            )
        return True

    def overdue_pending(self, channel_id: str, asked_before: datetime) -> list[Delivery]:
        """Pending posts asked about (or created, if never asked) before `asked_before`."""
        d = t.deliveries
        asked = sa.func.coalesce(d.c.asked_at, d.c.created_at)
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(d)
                .where(d.c.channel_id == channel_id, d.c.state == PENDING, asked <= asked_before)
                .order_by(d.c.id)
            ).all()
        return [rows.delivery(r._mapping) for r in found]

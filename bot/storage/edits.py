"""Storage part: corrections — what each post shows, the edits a changed article calls for
(one per post and version), and their outbox (edits are idempotent: a lost one is sent again)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.delivery.corrections import Edit, Posted, Version
from bot.feeds.identity import normalise_title
from bot.models import Article, Delivery, DeliveryState, EditClaim, Outcome
from bot.storage import outbox, rows
from bot.storage import tables as t
from bot.storage.database import Part, chunks, digest

S = DeliveryState


def _shows(version: Version, photo: bool) -> dict[str, Any]:
    return {"title": version.title, "lead": version.lead, "image": version.image, "photo": photo}


class EditsPart(Part):
    def set_posted_version(self, delivery_id: int, shows: Version, *, photo: bool) -> None:
        """What a sent post shows (title, lead, image) and whether it is a photo post."""
        d = t.deliveries
        with self.db.tx() as conn:
            conn.execute(
                d.update().where(d.c.id == delivery_id).values(posted_version=_shows(shows, photo))
            )

    def posted_of(self, article_keys: Sequence[str], since: datetime) -> dict[str, list[Posted]]:
        """The posts of these articles sent since `since` that know what they show."""
        d = t.deliveries
        found: dict[str, list[Posted]] = {}
        with self.db.tx() as conn:
            for chunk in chunks(list(article_keys)):
                for r in conn.execute(
                    sa.select(
                        d.c.article_key, d.c.id, d.c.channel_id, d.c.sent_at, d.c.posted_version
                    ).where(
                        d.c.article_key.in_(chunk),
                        d.c.state == S.SENT.value,
                        d.c.sent_at >= since,
                        d.c.posted_version.is_not(None),
                    )
                ):
                    shows = r.posted_version
                    found.setdefault(r.article_key, []).append(
                        Posted(
                            int(r.id),
                            r.channel_id,
                            r.sent_at,
                            Version(shows["title"], shows["lead"], shows["image"]),
                            bool(shows.get("photo")),
                        )
                    )
        return found

    def record_correction(
        self, key: str, article: Article, edits: Sequence[Edit], now: datetime
    ) -> int:
        """The article as the feed says it now (recorded under `key`), and the edits it calls
        for, in one transaction; an edit already made for the same version is not added.
        Returns how many edits were added."""
        a, e = t.articles, t.edits
        added = 0
        with self.db.tx() as conn:
            conn.execute(
                a.update()
                .where(a.c.key == key)
                .values(
                    title=article.title,
                    title_key=digest(normalise_title(article.title)),
                    categories=list(article.categories),
                    image=article.image,
                    content_html=article.content_html,
                    summary_html=article.summary_html,
                )
            )
            for edit in edits:
                made = conn.execute(
                    self.db.insert(e)
                    .values(
                        delivery_id=edit.delivery,
                        channel_id=edit.channel_id,
                        version=edit.key,
                        shows={
                            **_shows(edit.shows, False),
                            "methods": list(edit.plan.methods),
                            "why": edit.plan.why,
                        },
                        state=S.QUEUED.value,
                        due_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing()
                    .returning(e.c.id)
                ).first()
                added += made is not None
        return added

    def claim_edits(self, now: datetime, *, worker: str, limit: int = 10) -> list[EditClaim]:
        """Take due edits (oldest first) for this worker."""
        e = t.edits
        with self.db.tx() as conn:
            query = (
                sa.select(e.c.id)
                .where(e.c.state == S.QUEUED.value, e.c.due_at <= now)
                .order_by(e.c.due_at, e.c.id)
                .limit(limit)
            )
            if self.db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            taken = outbox.take(
                conn, outbox.EDITS, list(conn.execute(query).scalars()), now, worker
            )
            found = conn.execute(sa.select(e).where(e.c.id.in_(taken)).order_by(e.c.id)).all()
        return [
            EditClaim(
                id=int(r.id),
                delivery_id=int(r.delivery_id),
                channel_id=r.channel_id,
                title=r.shows["title"],
                lead=r.shows["lead"],
                image=r.shows["image"],
                methods=tuple(r.shows["methods"]),
                why=r.shows.get("why", ""),
                attempts=int(r.attempts),
                worker=r.worker,
            )
            for r in found
        ]

    def finish_edit(self, claim: EditClaim, outcome: Outcome, now: datetime) -> bool:
        """Record how an edit ended (guarded like every outbox finish); once it is made, the
        post shows its version, which later changes are compared with."""
        ticket = outbox.Ticket(claim.id, claim.worker, claim.attempts)
        d = t.deliveries
        with self.db.tx() as conn:
            done = outbox.finish(conn, outbox.EDITS, ticket, outcome, now)
            if done and outcome.state is S.SENT:
                photo = conn.execute(
                    sa.select(d.c.posted_version).where(d.c.id == claim.delivery_id)
                ).scalar_one_or_none()
                shows = Version(claim.title, claim.lead, claim.image)
                conn.execute(
                    d.update()
                    .where(d.c.id == claim.delivery_id)
                    .values(posted_version=_shows(shows, bool((photo or {}).get("photo"))))
                )
            return done

    def recover_edits(self, now: datetime, *, older_than: datetime | None = None) -> list[int]:
        """Edits left in `sending` by a stopped process are queued again: an edit made twice
        shows the same thing ("message is not modified" counts as done)."""
        e = t.edits
        cond = [e.c.state == S.SENDING.value]
        if older_than is not None:
            cond.append(e.c.attempted_at < older_than)
        with self.db.tx() as conn:
            back = conn.execute(
                e.update()
                .where(*cond)
                .values(state=S.QUEUED.value, due_at=now, updated_at=now)
                .returning(e.c.id)
            ).scalars()
            return sorted(back)

    def vanished_posts(
        self, feed_id: str, carried: Sequence[str], since: datetime
    ) -> list[tuple[Delivery, str, str]]:
        """Posts sent since `since` of this feed's articles that the feed no longer carries and
        whose URL was not checked yet: (delivery, article title, article URL)."""
        d, a = t.deliveries, t.articles
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(d, a.c.title, a.c.url)
                .select_from(d.join(a, a.c.key == d.c.article_key))
                .where(
                    a.c.feed_id == feed_id,
                    d.c.state == S.SENT.value,
                    d.c.sent_at >= since,
                    d.c.gone_checked_at.is_(None),
                )
            ).all()
        kept = set(carried)
        return [
            (rows.delivery(r._mapping), r.title, r.url) for r in found if r.article_key not in kept
        ]

    def mark_gone_checked(self, delivery_ids: Sequence[int], now: datetime) -> None:
        d = t.deliveries
        with self.db.tx() as conn:
            for chunk in chunks(list(delivery_ids)):
                conn.execute(d.update().where(d.c.id.in_(chunk)).values(gone_checked_at=now))

    def edits(self, delivery_id: int | None = None) -> list[dict[str, Any]]:
        """Edit rows (for status views and tests), oldest first."""
        e = t.edits
        query = sa.select(e).order_by(e.c.id)
        if delivery_id is not None:
            query = query.where(e.c.delivery_id == delivery_id)
        with self.db.tx() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

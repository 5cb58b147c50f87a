"""Storage part: what Relais remembers about each feed between polls."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.models import FeedState
from bot.storage import rows
from bot.storage import tables as t
from bot.storage.database import Database, Part


class FeedsPart(Part):
    def feed_state(self, feed_id: str) -> FeedState | None:
        with self.db.tx() as conn:
            row = conn.execute(sa.select(t.feeds).where(t.feeds.c.feed_id == feed_id)).first()
        return rows.feed_state(row._mapping) if row else None

    def feed_states(self) -> list[FeedState]:
        with self.db.tx() as conn:
            found = conn.execute(sa.select(t.feeds).order_by(t.feeds.c.feed_id)).all()
        return [rows.feed_state(r._mapping) for r in found]

    def save_feed_state(self, state: FeedState) -> None:
        with self.db.tx() as conn:
            conn.execute(feed_state_upsert(self.db, state))


def feed_state_upsert(db: Database, state: FeedState) -> Any:
    """The statement that writes a feed's state (in the articles' transaction, or alone)."""
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
        "body_hash": state.body_hash,
    }
    stmt = db.insert(t.feeds).values(feed_id=state.feed_id, **values)
    return stmt.on_conflict_do_update(index_elements=["feed_id"], set_=values)

"""Storage part: what Relais remembers about each feed between polls."""

from __future__ import annotations

from collections.abc import Sequence
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
        self.save_feed_states([state])

    def save_feed_states(self, states: Sequence[FeedState]) -> None:
        """Several feeds' states in one transaction: the polls that found nothing new are
        written together, one statement for all of them."""
        if not states:
            return
        with self.db.tx() as conn:
            conn.execute(feed_state_upsert(self.db), [feed_state_row(s) for s in states])


_STATE_COLUMNS = (
    "url",
    "configured_url",
    "etag",
    "last_modified",
    "last_poll",
    "last_result",
    "next_poll",
    "consecutive_errors",
    "baselined",
    "failing_since",
    "body_hash",
)


def feed_state_row(state: FeedState) -> dict[str, Any]:
    """A feed's state as the parameters of `feed_state_upsert`."""
    return {"feed_id": state.feed_id, **{name: getattr(state, name) for name in _STATE_COLUMNS}}


def feed_state_upsert(db: Database) -> Any:
    """The statement that writes feeds' states (in the articles' transaction, or alone), run
    with `feed_state_row` parameters: one row, or many at once. Its text never changes with
    the values (the engines' ON CONFLICT statements are compiled on every execution)."""
    stmt = db.insert(t.feeds)
    return stmt.on_conflict_do_update(
        index_elements=["feed_id"], set_={name: stmt.excluded[name] for name in _STATE_COLUMNS}
    )

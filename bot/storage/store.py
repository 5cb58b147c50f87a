"""Storage: every read and write Relais makes, composed of per-domain parts over one Database."""

from __future__ import annotations

from typing import IO

import sqlalchemy as sa

from bot.storage.articles import ArticlesPart
from bot.storage.broadcasts import BroadcastsPart
from bot.storage.channels import ChannelsPart, DeliveriesPart
from bot.storage.dashboard import DashboardPart
from bot.storage.database import Database
from bot.storage.feeds import FeedsPart
from bot.storage.readers import ReadersPart, ReaderStore
from bot.storage.search import SearchPart


class Storage(
    FeedsPart,
    ArticlesPart,
    ChannelsPart,
    DeliveriesPart,
    ReadersPart,
    BroadcastsPart,
    SearchPart,
    DashboardPart,
):
    """Reads and writes; each public method is one transaction."""

    def __init__(self, engine: sa.Engine | Database, *, lock_file: IO[str] | None = None) -> None:
        self.db = engine if isinstance(engine, Database) else Database(engine, lock_file=lock_file)

    @classmethod
    def open(cls, url: str, *, exclusive: bool = False) -> Storage:
        """Connect, migrate, and (`exclusive`, SQLite only) take the one-instance lock."""
        return cls(Database.open(url, exclusive=exclusive))

    def close(self) -> None:
        self.db.close()

    @property
    def readers(self) -> ReaderStore:
        """The reader bot's view, over this storage's database."""
        return ReaderStore(self.db)

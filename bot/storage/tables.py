"""The database schema as SQLAlchemy Core tables, and a UTC timestamp type for both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; always returns aware UTC datetimes (SQLite included)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime.fromisoformat(str(value))
        aware: datetime = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        return aware.astimezone(UTC)


metadata = sa.MetaData()
WORKER_MAX = 64  # a worker's name is cut to this in the outbox tables


def outbox_columns() -> list[sa.Column[Any]]:
    """The columns every outbox table has (deliveries, broadcasts, digests): the state machine
    and the claim that `bot/storage/outbox.py` reads and writes. New objects at each call."""
    return [
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempted_at", UTCDateTime),
        sa.Column("error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("worker", sa.String(WORKER_MAX)),
    ]


def planning_columns() -> list[sa.Column[Any]]:
    """Schema version 4 (the manager's schedule, issue 14): what a delivery carries besides its
    state. New objects at each call (the migration adds them to an existing table)."""
    return [
        sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("covered_by", sa.Integer),  # the roundup (roundups.id) that lists it
        sa.Column("pinned_until", UTCDateTime),  # an urgent post pinned, to unpin then
        sa.Column("asked_at", UTCDateTime),  # `pending`: since when the admins were asked
        sa.Column("verdict", sa.String(16)),  # publish | edit | skip | later
        sa.Column("verdict_by", sa.String(128)),
        sa.Column("verdict_at", UTCDateTime),
        sa.Column("approval_messages", sa.JSON),  # [[admin chat, message id], ...]
        sa.Column("posted_version", sa.JSON),  # what the post shows: title, lead, image
        sa.Column("gone_checked_at", UTCDateTime),  # its article left the feed: URL checked
    ]


meta = sa.Table(
    "relais_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("feed_id", sa.String(128), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("configured_url", sa.Text),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_poll", UTCDateTime),
    sa.Column("last_result", sa.Text),
    sa.Column("next_poll", UTCDateTime),
    sa.Column("consecutive_errors", sa.Integer, nullable=False, server_default="0"),
    sa.Column("baselined", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("failing_since", UTCDateTime),
    sa.Column("body_hash", sa.String(64)),
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("feed_id", sa.String(128), nullable=False),
    sa.Column("guid", sa.Text),
    # Lookups go through short hashes: a B-tree entry on PostgreSQL cannot exceed ~2.7 KB, and a
    # feed may carry a very long link, guid or title. `key` is already the canonical link's hash.
    sa.Column("guid_key", sa.String(16)),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("canonical_url", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("title_key", sa.String(16), nullable=False),
    sa.Column("published", UTCDateTime),
    sa.Column("author", sa.Text),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("image", sa.Text),
    sa.Column("content_html", sa.Text, nullable=False, server_default=""),
    sa.Column("summary_html", sa.Text, nullable=False, server_default=""),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("duplicate_of", sa.String(64)),
    sa.Index("ix_articles_guid", "guid_key"),
    sa.Index("ix_articles_feed_title", "feed_id", "title_key", "first_seen"),
    sa.Index("ix_articles_published", "published"),
)
# /latest and /search order by this: newest first (schema 6). The index holds only the articles
# they list (not republished copies), so that walking it never reads an article's row (schema 7:
# a partial index; schema 6 had every article in `ix_articles_latest`).
ARTICLE_DATE = sa.func.coalesce(articles.c.published, articles.c.first_seen)
NEWEST_INDEX = sa.Index(
    "ix_articles_newest",
    ARTICLE_DATE.desc(),
    articles.c.key,
    sqlite_where=articles.c.duplicate_of.is_(None),
    postgresql_where=articles.c.duplicate_of.is_(None),
)
PERFORMANCE_INDEXES = (NEWEST_INDEX,)

# Which feeds carried which article: a story that reaches a second feed goes to that feed's
# channels, but a story a feed already carried is not news to a channel that starts following it.
sightings = sa.Table(
    "sightings",
    metadata,
    sa.Column("article_key", sa.String(64), primary_key=True),
    sa.Column("feed_id", sa.String(128), primary_key=True),
    sa.Column("first_seen", UTCDateTime, nullable=False),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_key", sa.String(64), sa.ForeignKey("articles.key"), nullable=False),
    sa.Column("channel_id", sa.String(128), nullable=False),
    *outbox_columns(),
    sa.Column("remote_id", sa.Text),
    sa.Column("remote_link", sa.Text),
    *planning_columns(),
    sa.UniqueConstraint("article_key", "channel_id", name="uq_delivery_article_channel"),
    sa.Index("ix_deliveries_due", "channel_id", "state", "due_at"),
    # the work in hand per channel and its next due time, read from the index alone (schema 7)
    sa.Index("ix_deliveries_live", "state", "channel_id", "due_at"),
    sa.Index("ix_deliveries_attempted", "channel_id", "attempted_at"),
    sa.Index("ix_deliveries_updated", "updated_at", "id"),  # `relais history` (schema 6)
)

# Deliveries counted per channel and state for the states a delivery ends in (schema 7): each
# change of state appends +1 / -1 here (triggers, storage/tallies.py), and the readers fold the
# rows into one per (channel, state), so that `relais status` never counts the whole history.
delivery_state_counts = sa.Table(
    "delivery_state_counts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel_id", sa.String(128), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
)

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("channel_id", sa.String(128), primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("pause_reason", sa.Text),
    sa.Column("paused_by", sa.String(16)),  # "admin" (/pause) or "auth" (credentials refused)
    sa.Column("paused_at", UTCDateTime),
    sa.Column("chat_override", sa.Text),  # a migrated chat's new id …
    sa.Column("chat_override_from", sa.Text),  # … valid while the config still names this chat
    sa.Column("created_at", UTCDateTime),  # first run with this channel in the config
    sa.Column("updated_at", UTCDateTime),
)

# ---- schema version 2: the reader bot ----------------------------------------------------------
# Readers who told the bot something worth keeping (a language, topics, the digest). Someone who
# only asks for /latest or /search leaves no row. /stop deletes the row and everything below.

subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    sa.Column("language", sa.String(8)),  # chosen with /lang; NULL: follow Telegram's
    sa.Column("telegram_language", sa.String(16)),  # the language_code Telegram last gave
    sa.Column("digest", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("digest_since", UTCDateTime),  # when /digest daily was chosen
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Topic keys and labels longer than this are cut: a category is a short name, not a paragraph.
TOPIC_KEY_MAX = 255

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column(
        "topic", sa.String(TOPIC_KEY_MAX), primary_key=True
    ),  # folded: "securite" for "Sécurité"
    sa.Column("label", sa.Text, nullable=False),  # as the site spells it
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_subscriptions_topic", "topic"),
)

# The site's topics with their article counts, one row per spelling of each, kept as articles
# are recorded so that /topics reads a few rows, not every article (schema 6).
topic_counts = sa.Table(
    "topic_counts",
    metadata,
    sa.Column("topic", sa.String(TOPIC_KEY_MAX), primary_key=True),  # folded
    sa.Column("label", sa.String(TOPIC_KEY_MAX), primary_key=True),  # as articles spell it
    sa.Column("articles", sa.Integer, nullable=False),
)

# One private message per (article, reader): the same states as `deliveries`.
broadcasts = sa.Table(
    "broadcasts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_key", sa.String(64), sa.ForeignKey("articles.key"), nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    sa.Column("topic", sa.Text, nullable=False),
    *outbox_columns(),
    sa.Column("message_id", sa.BigInteger),
    sa.UniqueConstraint("article_key", "user_id", name="uq_broadcast_article_user"),
    sa.Index("ix_broadcasts_due", "state", "due_at"),
    sa.Index("ix_broadcasts_user", "user_id", "attempted_at"),
)

# One morning digest per reader and local day (unique): never two the same day.
digests = sa.Table(
    "digests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    sa.Column("day", sa.String(10), nullable=False),  # local date, YYYY-MM-DD
    sa.Column("since", UTCDateTime, nullable=False),  # articles first seen after this...
    sa.Column("until", UTCDateTime, nullable=False),  # ...and up to this
    *outbox_columns(),
    sa.Column("message_id", sa.BigInteger),
    sa.Column("articles", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("user_id", "day", name="uq_digest_user_day"),
    sa.Index("ix_digests_due", "state", "due_at"),
)

# The folded words of each article (title, categories, author, lead paragraphs) for /search.
article_search = sa.Table(
    "article_search",
    metadata,
    sa.Column("article_key", sa.String(64), sa.ForeignKey("articles.key"), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
)

# ---- schema version 3: the web dashboard -------------------------------------------------------

# Every action taken on the dashboard (and the logins), with its author: a Telegram admin's id.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("author", sa.BigInteger, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.Text, nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_audit_log_at", "at"),
)

# The nonce of every login link used: a link works once (its signature alone would not say so).
login_nonces = sa.Table(
    "login_nonces",
    metadata,
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=False),
)

# A teaser an admin rewrote for one delivery; the outbox renders it instead of the article's lead.
teaser_edits = sa.Table(
    "teaser_edits",
    metadata,
    sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), primary_key=True),
    sa.Column("teaser", sa.Text, nullable=False),
    sa.Column("author", sa.BigInteger, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

# Every alert the admins were sent (dead feed, refused token, …), for the dashboard's "Aujourd'hui".
alert_log = sa.Table(
    "alert_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Index("ix_alert_log_at", "at"),
)

# ---- schema version 4: the manager's schedule ----------------------------------------------------
# One roundup per (channel, instant): the headline list that replaces a flood. It is an outbox row
# like a delivery (same states, same claim); the deliveries it lists are `covered` by it, in order.
roundups = sa.Table(
    "roundups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel_id", sa.String(128), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),  # the roundup's own instant (07:00)
    sa.Column("covered", sa.JSON, nullable=False),  # delivery ids, top story first
    *outbox_columns(),
    sa.Column("remote_id", sa.Text),
    sa.Column("remote_link", sa.Text),
    sa.UniqueConstraint("channel_id", "at", name="uq_roundup_channel_at"),
    sa.Index("ix_roundups_due", "channel_id", "state", "due_at"),
    sa.Index("ix_roundups_attempted", "channel_id", "attempted_at"),
)

# One edit per (delivery, version): a corrected article edits its post once.
edits = sa.Table(
    "edits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False),
    sa.Column("channel_id", sa.String(128), nullable=False),
    sa.Column("version", sa.String(16), nullable=False),  # hash of what the edit shows
    sa.Column("shows", sa.JSON, nullable=False),  # title, lead, image after the edit
    *outbox_columns(),
    sa.Column("remote_id", sa.Text),
    sa.Column("remote_link", sa.Text),
    sa.UniqueConstraint("delivery_id", "version", name="uq_edit_delivery_version"),
    sa.Index("ix_edits_due", "state", "due_at"),
)

# ---- several instances (docs/design.md, "Several instances") --------------------------------

# Each running instance renews its row (a heartbeat): the `sending` rows of a worker whose row
# is stale are a dead process's (storage/outbox.py `recover`).
instances = sa.Table(
    "instances",
    metadata,
    sa.Column("worker", sa.String(WORKER_MAX), primary_key=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("renewed_at", UTCDateTime, nullable=False),
)

# The bot's updates, each claimed once before it is handled: a new owner of the bot (failover)
# never handles one twice, and starts polling after the last one (the update offset).
handled_updates = sa.Table(
    "handled_updates",
    metadata,
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("worker", sa.String(WORKER_MAX), nullable=False),
    sa.Column("handled_at", UTCDateTime, nullable=False),
)

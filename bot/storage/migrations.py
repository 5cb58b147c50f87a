"""Numbered schema migrations, recorded in the `relais_meta` table and applied at start."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from bot.errors import SchemaTooNewError
from bot.storage import tables

Migration = Callable[[sa.Connection], None]
_MIGRATION_LOCK = 0x52454C414953  # "RELAIS": the advisory lock key held while migrating

# Index i holds the step from version i to version i + 1. A new database is created directly at
# the latest version from `tables.metadata`; an existing one runs the steps it is missing.
STEPS: list[Migration] = []
LATEST = 1 + len(STEPS)


def current_version(conn: sa.Connection) -> int | None:
    """The schema version recorded in the database, or None for an empty database."""
    if not sa.inspect(conn).has_table(tables.meta.name):
        return None
    value = conn.execute(
        sa.select(tables.meta.c.value).where(tables.meta.c.key == "schema_version")
    ).scalar_one_or_none()
    return int(value) if value is not None else None


def _set_version(conn: sa.Connection, version: int) -> None:
    updated = conn.execute(
        tables.meta.update().where(tables.meta.c.key == "schema_version").values(value=str(version))
    )
    if updated.rowcount == 0:
        conn.execute(tables.meta.insert().values(key="schema_version", value=str(version)))


def migrate(conn: sa.Connection) -> tuple[int | None, int]:
    """Bring the schema to LATEST; refuse a database written by a newer Relais."""
    if conn.dialect.name == "postgresql":
        # Several workers starting at once on a new database: one migrates, the others wait.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    found = current_version(conn)
    if found is not None and found > LATEST:
        raise SchemaTooNewError(
            f"the database has schema version {found}, but this Relais knows versions up to "
            f"{LATEST}: upgrade Relais (or point it at another database)"
        )
    if found is None:
        from bot.storage.search import create_search_index

        tables.metadata.create_all(conn)
        create_search_index(conn)
        _set_version(conn, LATEST)
        return None, LATEST
    for version in range(found, LATEST):
        STEPS[version - 1](conn)
        _set_version(conn, version + 1)
    return found, LATEST


def _v2_reader_bot(conn: sa.Connection) -> None:
    """1 → 2: the reader bot's tables (subscribers, subscriptions, broadcasts, digests, search)."""
    for table in (
        tables.subscribers,
        tables.subscriptions,
        tables.broadcasts,
        tables.digests,
        tables.article_search,
    ):
        table.create(conn)


STEPS.append(_v2_reader_bot)


def _v3_dashboard(conn: sa.Connection) -> None:
    """2 → 3: the web dashboard's tables (audit log, used login links, edited teasers, alerts)."""
    for table in (tables.audit_log, tables.login_nonces, tables.teaser_edits, tables.alert_log):
        table.create(conn)


STEPS.append(_v3_dashboard)
LATEST = 1 + len(STEPS)


def _v4_performance(conn: sa.Connection) -> None:
    """3 → 4 (issue 12): the hash of each feed's last body, so that an unchanged body from a
    server without ETag costs what a 304 does; the indexes of /latest and `relais history`;
    the topic counts, counted once here from the articles recorded so far."""
    # they build on the database module, which imports this one
    from bot.storage import topics
    from bot.storage.search import create_search_index

    conn.execute(sa.text("ALTER TABLE feeds ADD COLUMN body_hash VARCHAR(64)"))
    for index in (*tables.PERFORMANCE_INDEXES, *_named(tables.deliveries, "ix_deliveries_updated")):
        index.create(conn)
    tables.topic_counts.create(conn)
    topics.recount(conn)
    create_search_index(conn)


def _named(table: sa.Table, name: str) -> list[sa.Index]:
    return [index for index in table.indexes if index.name == name]


STEPS.append(_v4_performance)
LATEST = 1 + len(STEPS)

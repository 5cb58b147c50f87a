"""Numbered schema migrations, recorded in the `relais_meta` table and applied at start."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from bot.errors import SchemaTooNewError, StorageError
from bot.storage import state_counts, tables, work_signal

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
    if value is None:
        return None
    if not str(value).isdigit():
        raise StorageError(
            f"the database's schema version {value!r} is not a number: this is not a Relais "
            "database, or it is damaged; restore a backup or name another file (storage)"
        )
    return int(value)


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
        work_signal.install(conn)
        state_counts.install(conn)
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


def _v4_planning(conn: sa.Connection) -> None:
    """3 → 4: the manager's schedule: the deliveries' planning columns (urgent, covered_by,
    pin, approval, posted version), the index that reads a channel's last post and today's count,
    and the roundups and edits outboxes."""
    preparer = conn.dialect.identifier_preparer
    for column in tables.planning_columns():
        ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE {preparer.quote('deliveries')} ADD COLUMN {ddl}"))
    for index in tables.deliveries.indexes:
        if index.name == "ix_deliveries_attempted":
            index.create(conn)
    tables.roundups.create(conn)
    tables.edits.create(conn)


STEPS.append(_v4_planning)
LATEST = 1 + len(STEPS)


def _v5_several_instances(conn: sa.Connection) -> None:
    """4 → 5: instances' heartbeats, the bot's handled updates, PostgreSQL's NOTIFY triggers."""
    tables.instances.create(conn)
    tables.handled_updates.create(conn)
    work_signal.install(conn)


STEPS.append(_v5_several_instances)
LATEST = 1 + len(STEPS)


def _v6_performance(conn: sa.Connection) -> None:
    """5 → 6 (issue 12): the hash of each feed's last body, so that an unchanged body from a
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


STEPS.append(_v6_performance)
LATEST = 1 + len(STEPS)


def _v7_state_counts(conn: sa.Connection) -> None:
    """6 → 7 (issue 12): the deliveries in an end state counted by triggers, so that `relais
    status` reads a few rows whatever the history (counted once here from the deliveries), and
    the work in hand by a covering index; /latest and /search walk a partial index of the
    articles they list."""
    tables.delivery_state_counts.create(conn)
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_articles_latest"))
    conn.execute(sa.schema.CreateIndex(tables.NEWEST_INDEX, if_not_exists=True))
    for index in _named(tables.deliveries, "ix_deliveries_live"):
        conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_deliveries_state"))
    state_counts.install(conn)
    state_counts.recount(conn)


STEPS.append(_v7_state_counts)
LATEST = 1 + len(STEPS)

"""PostgreSQL's NOTIFY of new work: triggers that say "something is due" to every instance.

A row that becomes `queued` (a new delivery or broadcast, a retry written with its due time, an
admin's /retry) and a channel that is resumed raise `NOTIFY relais_work, '<schema>'`, whoever
wrote it (an instance, `relais retry`, the dashboard). `bot/delivery/wakeups.py` listens. SQLite
has one instance, which wakes itself in memory; these triggers exist only on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage import tables as t

CHANNEL = "relais_work"  # the NOTIFY channel; the payload is the schema, several share a database
FUNCTION = "relais_notify_work"

_FUNCTION_DDL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

# (table, trigger name, events, condition on the new row)
_TRIGGERS = [
    (table.name, f"{table.name}_work", "INSERT OR UPDATE OF state, due_at", "NEW.state = 'queued'")
    for table in (t.deliveries, t.broadcasts, t.digests)
] + [(t.channels.name, "channels_resumed", "UPDATE OF paused", "OLD.paused AND NOT NEW.paused")]


def statements() -> list[str]:
    """The DDL that installs the function and its triggers (idempotent)."""
    found = [_FUNCTION_DDL]
    for table, name, events, condition in _TRIGGERS:
        found.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        found.append(
            f"CREATE TRIGGER {name} AFTER {events} ON {table} FOR EACH ROW "
            f"WHEN ({condition}) EXECUTE FUNCTION {FUNCTION}()"
        )
    return found


def install(conn: sa.Connection) -> None:
    """Install the triggers on PostgreSQL (nothing on SQLite)."""
    if conn.dialect.name != "postgresql":
        return
    for statement in statements():
        conn.execute(sa.text(statement))

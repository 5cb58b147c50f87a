"""Deliveries counted per channel and state at a cost that does not grow with history.

The states a delivery ends in (sent, skipped, covered, failed) pile up with the years; the others
(queued, sending, pending, unknown) are the work in hand. So:

- each change into or out of an end state appends a row (channel, state, +1 or -1) to
  `delivery_state_counts`, from a trigger on `deliveries` (whoever writes the row: an instance,
  the CLI, the dashboard, a bulk UPDATE), in the writer's own transaction. An append takes no
  lock that another writer waits for: instances never queue on a shared counter row, and no
  order of locks can deadlock them;
- a reader sums these rows, and folds them into one per (channel, state) when there are more
  than FOLD_AT: the fold deletes the rows it sums and inserts their sums in one transaction
  (PostgreSQL: one statement, `DELETE … FOR UPDATE SKIP LOCKED … RETURNING`, so two folds at
  once each take rows the other has not, and neither waits). A count is exact at every commit;
- the work in hand is counted from the deliveries themselves, through `ix_deliveries_state`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bot.errors import StorageError
from bot.models import DeliveryState
from bot.storage import tables as t

if TYPE_CHECKING:
    from bot.storage.database import Database

log = logging.getLogger("relais.storage")

S = DeliveryState
ENDED = (S.SENT, S.SKIPPED, S.COVERED, S.FAILED)
"""The states counted from `delivery_state_counts`; the others from the deliveries."""
LIVE = tuple(s for s in S if s not in ENDED)
FOLD_AT = 200
"""A reader folds the count rows once there are more than this."""
FUNCTION = "relais_count_delivery_states"

_IN = "(" + ", ".join(f"'{s.value}'" for s in ENDED) + ")"
_COUNTS = t.delivery_state_counts.name
_MOVED = "(old.state IS NOT new.state OR old.channel_id IS NOT new.channel_id)"

_SQLITE_DDL = [
    "CREATE TRIGGER IF NOT EXISTS deliveries_count_ai AFTER INSERT ON deliveries"
    f" WHEN new.state IN {_IN} BEGIN"
    f" INSERT INTO {_COUNTS} (channel_id, state, n) VALUES (new.channel_id, new.state, 1); END",
    "CREATE TRIGGER IF NOT EXISTS deliveries_count_ad AFTER DELETE ON deliveries"
    f" WHEN old.state IN {_IN} BEGIN"
    f" INSERT INTO {_COUNTS} (channel_id, state, n) VALUES (old.channel_id, old.state, -1); END",
    "CREATE TRIGGER IF NOT EXISTS deliveries_count_au_old AFTER UPDATE OF state, channel_id"
    f" ON deliveries WHEN old.state IN {_IN} AND {_MOVED} BEGIN"
    f" INSERT INTO {_COUNTS} (channel_id, state, n) VALUES (old.channel_id, old.state, -1); END",
    "CREATE TRIGGER IF NOT EXISTS deliveries_count_au_new AFTER UPDATE OF state, channel_id"
    f" ON deliveries WHEN new.state IN {_IN} AND {_MOVED} BEGIN"
    f" INSERT INTO {_COUNTS} (channel_id, state, n) VALUES (new.channel_id, new.state, 1); END",
]

_POSTGRES_MOVED = (
    "OLD.state IS DISTINCT FROM NEW.state OR OLD.channel_id IS DISTINCT FROM NEW.channel_id"
)
_POSTGRES_DDL = [
    f"""CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state IN {_IN} THEN
            INSERT INTO {_COUNTS} (channel_id, state, n) VALUES (OLD.channel_id, OLD.state, -1);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NOT ({_POSTGRES_MOVED}) THEN
            RETURN NULL;
        END IF;
        IF OLD.state IN {_IN} THEN
            INSERT INTO {_COUNTS} (channel_id, state, n) VALUES (OLD.channel_id, OLD.state, -1);
        END IF;
    END IF;
    IF NEW.state IN {_IN} THEN
        INSERT INTO {_COUNTS} (channel_id, state, n) VALUES (NEW.channel_id, NEW.state, 1);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS deliveries_count ON deliveries",
    "CREATE TRIGGER deliveries_count AFTER INSERT OR UPDATE OF state, channel_id OR DELETE"
    f" ON deliveries FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
]

_POSTGRES_FOLD = f"""
WITH gone AS (
    DELETE FROM {_COUNTS} WHERE id IN (SELECT id FROM {_COUNTS} FOR UPDATE SKIP LOCKED)
    RETURNING channel_id, state, n
)
INSERT INTO {_COUNTS} (channel_id, state, n)
SELECT channel_id, state, sum(n) FROM gone GROUP BY channel_id, state HAVING sum(n) <> 0
"""


def install(conn: sa.Connection) -> None:
    """The triggers that keep the counts (both engines; idempotent)."""
    for statement in _POSTGRES_DDL if conn.dialect.name == "postgresql" else _SQLITE_DDL:
        conn.exec_driver_sql(statement)


def recount(conn: sa.Connection) -> None:
    """Count the deliveries recorded so far (the migration that creates the counts)."""
    d, c = t.deliveries, t.delivery_state_counts
    conn.execute(sa.delete(c))
    conn.execute(
        c.insert().from_select(
            ["channel_id", "state", "n"],
            sa.select(d.c.channel_id, d.c.state, sa.func.count())
            .where(d.c.state.in_([s.value for s in ENDED]))
            .group_by(d.c.channel_id, d.c.state)
            .order_by(d.c.channel_id, d.c.state),
        )
    )


def fold(conn: sa.Connection) -> None:
    """Replace the count rows by one per (channel, state): their sum (zero sums dropped)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_POSTGRES_FOLD)
        return
    # SQLite: the DELETE takes the one write lock first, so nothing comes in between
    c = t.delivery_state_counts
    gone = conn.execute(c.delete().returning(c.c.channel_id, c.c.state, c.c.n)).all()
    sums = summed((str(channel), str(state), int(n)) for channel, state, n in gone)
    rows = [
        {"channel_id": channel, "state": state, "n": n}
        for channel, per in sorted(sums.items())
        for state, n in sorted(per.items())
    ]
    if rows:
        conn.execute(c.insert(), rows)


def fold_if_long(db: Database, rows_read: int) -> None:
    """After a read of `rows_read` count rows: fold them in a transaction of its own once they
    are more than FOLD_AT. A database that refuses the write (read-only) is read as it is."""
    if rows_read <= FOLD_AT:
        return
    try:
        with db.tx() as conn:
            fold(conn)
    except StorageError as err:
        log.warning("the delivery counts stay unfolded: %s", err)


def summed(counts: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """(channel, state, n) rows → channel → state → their sum; a state that sums to zero is
    left out, and a channel with nothing left (as a GROUP BY over the deliveries gives them)."""
    totals: Counter[tuple[str, str]] = Counter()
    for channel_id, state, n in counts:
        totals[(channel_id, state)] += n
    found: dict[str, dict[str, int]] = {}
    for (channel_id, state), n in totals.items():
        if n:
            found.setdefault(channel_id, {})[state] = n
    return found


def read(conn: sa.Connection) -> tuple[dict[str, dict[str, int]], int]:
    """Every channel's count of deliveries per state; and how many count rows were read."""
    c, d = t.delivery_state_counts, t.deliveries
    ended = conn.execute(sa.select(c.c.channel_id, c.c.state, c.c.n)).all()
    live = conn.execute(
        sa.select(d.c.channel_id, d.c.state, sa.func.count())
        .where(d.c.state.in_([s.value for s in LIVE]))
        .group_by(d.c.channel_id, d.c.state)
    ).all()
    rows = [(str(ch), str(state), int(n)) for ch, state, n in (*ended, *live)]
    return summed(rows), len(ended)

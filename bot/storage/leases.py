"""Storage part for several instances: heartbeats, the bot's handled updates, the leader's lock.

* `renew_lease`: each instance's heartbeat; `outbox.recover` treats the `sending` rows of a worker
  whose heartbeat is older than `SENDING_LEASE` as a dead process's.
* `claim_update`: an update of the bot is claimed once (before it is handled), cluster-wide.
* `LeaderLock`: one instance owns the bot (its updates, every Telegram send, the once-a-day
  jobs) by holding a PostgreSQL session advisory lock on a connection of its own. The lock goes
  with the connection: a killed process's lock is released as soon as its connection closes.
  On SQLite there is one instance by construction (the file lock): it is the leader.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from bot.storage import tables as t
from bot.storage.database import Database, Part

log = logging.getLogger("relais.cluster")

LEADER_LOCK = "relais:owner"  # hashed with the schema: several sites may share one database


class LeasesPart(Part):
    def renew_lease(self, worker: str, now: datetime) -> None:
        """This instance is alive: its heartbeat row says so until SENDING_LEASE passes."""
        name = worker[: t.WORKER_MAX]
        stmt = self.db.insert(t.instances).values(worker=name, started_at=now, renewed_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["worker"], set_={"renewed_at": now})
        with self.db.tx() as conn:
            conn.execute(stmt)

    def drop_lease(self, worker: str) -> None:
        """A clean stop: the heartbeat row goes (nothing of ours is left in `sending`)."""
        with self.db.tx() as conn:
            conn.execute(t.instances.delete().where(t.instances.c.worker == worker[: t.WORKER_MAX]))

    def live_instances(self, since: datetime) -> list[str]:
        """The workers whose heartbeat is not older than `since`."""
        c = t.instances.c
        with self.db.tx() as conn:
            return list(
                conn.execute(
                    sa.select(c.worker).where(c.renewed_at >= since).order_by(c.worker)
                ).scalars()
            )

    def claim_update(self, update_id: int, worker: str, now: datetime) -> bool:
        """Claim a bot update before handling it; False: another owner (or we) already did."""
        stmt = (
            self.db.insert(t.handled_updates)
            .values(update_id=update_id, worker=worker[: t.WORKER_MAX], handled_at=now)
            .on_conflict_do_nothing()
            .returning(t.handled_updates.c.update_id)
        )
        with self.db.tx() as conn:
            return conn.execute(stmt).first() is not None

    def last_update_id(self) -> int | None:
        """The highest update claimed: a new owner polls from the one after (the offset)."""
        with self.db.tx() as conn:
            found: int | None = conn.execute(
                sa.select(sa.func.max(t.handled_updates.c.update_id))
            ).scalar_one_or_none()
        return found

    def prune_updates(self, before: datetime) -> int:
        """Forget updates handled before `before`, keeping the last one (the offset)."""
        c = t.handled_updates.c
        with self.db.tx() as conn:
            last = conn.execute(sa.select(sa.func.max(c.update_id))).scalar_one_or_none()
            if last is None:
                return 0
            gone = conn.execute(
                t.handled_updates.delete().where(c.handled_at < before, c.update_id != last)
            )
        return int(gone.rowcount or 0)


class LeaderLock:
    """The leader's PostgreSQL advisory lock, held on a connection of its own (SQLite: always
    held). `acquire` tries without waiting; `held` checks that the connection still holds it."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: sa.Connection | None = None

    @property
    def always(self) -> bool:
        """True on SQLite: the one instance is the leader, at no cost."""
        return not self._db.is_postgres

    def acquire(self) -> bool:
        """Try to become the leader; True when this instance holds the lock now."""
        if self.always:
            return True
        if self._conn is not None:
            return self.held()
        conn = self._db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(
                conn.execute(
                    sa.text("SELECT pg_try_advisory_lock(hashtext(current_schema() || :name))"),
                    {"name": LEADER_LOCK},
                ).scalar_one()
            )
        except sa.exc.DBAPIError as err:
            log.warning("leader lock: cannot ask the database: %s", _first_line(err))
            conn.invalidate()
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def held(self) -> bool:
        """Whether the lock is still ours: its connection answers (a lost connection lost it)."""
        if self.always:
            return True
        if self._conn is None:
            return False
        try:
            self._conn.execute(sa.text("SELECT 1")).scalar_one()
            return True
        except sa.exc.DBAPIError as err:
            log.warning("leader lock: the connection holding it failed: %s", _first_line(err))
            self._drop(invalidate=True)
            return False

    def release(self) -> None:
        """Give the lock up (a clean stop): closing its connection releases it."""
        self._drop(invalidate=False)

    def _drop(self, *, invalidate: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if invalidate:
                conn.invalidate()  # never back to the pool: a pooled session would keep the lock
            else:
                conn.execute(
                    sa.text("SELECT pg_advisory_unlock(hashtext(current_schema() || :name))"),
                    {"name": LEADER_LOCK},
                )
        except sa.exc.DBAPIError:
            conn.invalidate()
        finally:
            conn.close()


def _first_line(err: sa.exc.DBAPIError) -> str:
    text = str(err.orig or err).strip()
    return text.splitlines()[0] if text else type(err).__name__

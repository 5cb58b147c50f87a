"""One outbox for three tables: take, finish and recover rows of deliveries, broadcasts, digests.

Each table holds rows with the same state machine (`DeliveryState`) and the same claim columns
(`state`, `attempts`, `attempted_at`, `worker`, `due_at`, `error`, `sent_at`); what differs is
how a sent row records the platform's answer. Every write here is guarded the same way: a row is
taken only while `queued`, and finished only while it is still the claim this worker made
(`sending`, same worker, same attempt), so a row another worker recovered is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.models import DeliveryState, Outcome, PublishResult
from bot.storage import tables as t

QUEUED, SENDING = DeliveryState.QUEUED.value, DeliveryState.SENDING.value
RECOVERED = "the process stopped while sending: outcome unknown"
# A PostgreSQL worker leaves others' `sending` rows alone while their worker's heartbeat (the
# `instances` table, renewed every HEARTBEAT_EVERY) is younger than this: a dead worker's rows
# are taken over within SENDING_LEASE plus one beat (bot/leadership.py looks at every beat), and
# a database outage of 15 s costs no live worker its rows. SQLite has one instance, so every
# `sending` row there is dead.
SENDING_LEASE = timedelta(seconds=30)
HEARTBEAT_EVERY = timedelta(seconds=5)


def stale_before(now: datetime, *, is_postgres: bool) -> datetime | None:
    """The `older_than` for `recover`: None (every `sending` row) on SQLite."""
    return now - SENDING_LEASE if is_postgres else None


@dataclass(frozen=True, slots=True)
class Queue:
    """One outbox table, and how a sent row of it records the platform's answer."""

    table: sa.Table
    sent: Callable[[PublishResult], dict[str, Any]]


def _remote(result: PublishResult) -> dict[str, Any]:
    return {"remote_id": result.remote_id, "remote_link": result.link}


def _message(result: PublishResult) -> dict[str, Any]:
    return {"message_id": int(result.remote_id)}


DELIVERIES = Queue(t.deliveries, _remote)
ROUNDUPS = Queue(t.roundups, _remote)
EDITS = Queue(t.edits, _remote)
BROADCASTS = Queue(t.broadcasts, _message)
DIGESTS = Queue(t.digests, _message)


@dataclass(frozen=True, slots=True)
class Ticket:
    """What identifies a claim: the row, the worker that took it, and its attempt number."""

    id: int
    worker: str | None
    attempts: int


def take(
    conn: sa.Connection, queue: Queue, ids: Sequence[int], now: datetime, worker: str
) -> list[int]:
    """Move these queued rows to `sending` for this worker (one more attempt); the ids it got,
    sorted (a row another worker took meanwhile is not among them)."""
    if not ids:
        return []
    c = queue.table.c
    taken = conn.execute(
        queue.table.update()
        .where(c.id.in_(list(ids)), c.state == QUEUED)
        .values(
            state=SENDING,
            attempts=c.attempts + 1,
            attempted_at=now,
            updated_at=now,
            worker=worker[: t.WORKER_MAX],
        )
        .returning(c.id)
    ).scalars()
    return sorted(taken)


def finish(
    conn: sa.Connection,
    queue: Queue,
    claim: Ticket,
    outcome: Outcome,
    now: datetime,
    *,
    extra: Mapping[str, Any] | None = None,
) -> bool:
    """Record how a claim ended, only while the row is still that claim; False: it is not
    (another worker recovered or took it), and nothing was written.

    `outcome.release`: the claim is given back unattempted (the attempt does not count).
    A re-queued row may go again at `outcome.due` (default: now). `extra`: more columns."""
    c = queue.table.c
    values: dict[str, Any] = {"state": outcome.state.value, "error": outcome.error}
    values.update(updated_at=now, **(extra or {}))
    if outcome.state is DeliveryState.SENT:
        if outcome.result is None:
            raise ValueError("a sent row needs the platform's result")
        values.update(queue.sent(outcome.result), sent_at=now)
    if outcome.state is DeliveryState.QUEUED:
        values["due_at"] = outcome.due or now
    if outcome.release:
        values["attempts"] = c.attempts - 1
    updated = conn.execute(
        queue.table.update()
        .where(
            c.id == claim.id,
            c.state == SENDING,
            c.worker == (claim.worker or "")[: t.WORKER_MAX],
            c.attempts == claim.attempts,
        )
        .values(**values)
    )
    return updated.rowcount == 1


def recover(
    conn: sa.Connection, queue: Queue, now: datetime, *, older_than: datetime | None = None
) -> list[int]:
    """Rows left in `sending` by a process that stopped become `unknown` (never sent again on
    their own: the message may have gone out). SQLite (one instance): every `sending` row;
    PostgreSQL: only those claimed before `older_than` by a worker whose heartbeat is older than
    `older_than` too (a live worker renews its lease on everything it holds)."""
    c = queue.table.c
    cond = [c.state == SENDING]
    if older_than is not None:
        alive = sa.exists().where(
            t.instances.c.worker == c.worker, t.instances.c.renewed_at >= older_than
        )
        cond += [c.attempted_at < older_than, ~alive]
    recovered = conn.execute(
        queue.table.update()
        .where(*cond)
        .values(state=DeliveryState.UNKNOWN.value, error=RECOVERED, updated_at=now)
        .returning(c.id)
    ).scalars()
    return sorted(recovered)


def next_due(conn: sa.Connection, queue: Queue, *where: Any) -> datetime | None:
    """The earliest due time of the table's queued rows (None: nothing queued)."""
    c = queue.table.c
    due: datetime | None = conn.execute(
        sa.select(sa.func.min(c.due_at)).where(c.state == QUEUED, *where)
    ).scalar_one_or_none()
    return due


def counts(conn: sa.Connection, queue: Queue) -> dict[str, int]:
    """How many rows of the table are in each state."""
    c = queue.table.c
    rows = conn.execute(sa.select(c.state, sa.func.count()).group_by(c.state)).all()
    return {str(state): int(n) for state, n in rows}

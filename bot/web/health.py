"""/healthz: a pure verdict from what was observed (database answer, last delivery round)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# The delivery loop wakes at least every 30 s (app.IDLE_WAKE); a round older than this is stuck.
ROUND_STALE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    reasons: tuple[str, ...]

    @property
    def status(self) -> int:
        return 200 if self.ok else 503


def health(
    *, database_error: str | None, last_round: datetime | None, worker: bool, now: datetime
) -> Health:
    """`worker`: this process runs the delivery loop (`relais run`), so its last round counts;
    `relais web` alone only answers for itself and the database."""
    reasons = []
    if database_error is not None:
        reasons.append(f"database: {database_error}")
    if worker:
        if last_round is None:
            reasons.append("delivery: no round has run yet")
        elif now - last_round > ROUND_STALE:
            minutes = int((now - last_round).total_seconds() // 60)
            reasons.append(f"delivery: the last round ended {minutes} min ago")
    return Health(not reasons, tuple(reasons))

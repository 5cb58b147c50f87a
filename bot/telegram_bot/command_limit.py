"""A per-user command limit (so many commands a minute), kept in memory, decided on given times."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit: answer once, politely
    DROP = "drop"  # still over the limit, already told: say nothing


@dataclass
class _Window:
    times: deque[datetime]
    warned: bool = False


class CommandLimiter:
    """At most `limit` commands per `period` for each user (a sliding window).

    The first command over the limit gets a polite answer (WARN), the next ones nothing (DROP),
    until the window frees up. Only recent users are remembered: memory stays bounded.
    """

    def __init__(
        self, limit: int = 20, period: timedelta = timedelta(minutes=1), max_users: int = 50_000
    ) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self.limit = limit
        self.period = period
        self.max_users = max_users
        self._users: dict[int, _Window] = {}

    def check(self, user_id: int, now: datetime) -> Verdict:
        window = self._users.get(user_id)
        if window is None:
            if len(self._users) >= self.max_users:
                self._forget_idle(now)
            window = self._users[user_id] = _Window(deque())
        start = now - self.period
        while window.times and window.times[0] <= start:
            window.times.popleft()
        if len(window.times) < self.limit:
            window.times.append(now)
            window.warned = False
            return Verdict.ALLOW
        if window.warned:
            return Verdict.DROP
        window.warned = True
        return Verdict.WARN

    def _forget_idle(self, now: datetime) -> None:
        start = now - self.period
        for user_id in [u for u, w in self._users.items() if not w.times or w.times[-1] <= start]:
            del self._users[user_id]
        if len(self._users) >= self.max_users:  # all active: forget the oldest half
            ordered = sorted(self._users, key=lambda u: self._users[u].times[-1])
            for user_id in ordered[: len(ordered) // 2]:
                del self._users[user_id]

    def __len__(self) -> int:
        return len(self._users)

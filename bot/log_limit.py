"""Rate-limited logging: the first occurrence of a repeated error, then at most one line per
interval with the count of what was held back."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LogLimiter:
    """`allow(key, now)` → how many occurrences (this one included) a log line should stand
    for now: 1 for the first, 0 while the interval since the last line has not passed, then the
    count since that line. `now` is in seconds (time.monotonic in the service, chosen by tests)."""

    interval: float = 60.0
    _last: dict[str, float] = field(default_factory=dict)
    _held: dict[str, int] = field(default_factory=dict)

    def allow(self, key: str, now: float) -> int:
        held = self._held.get(key, 0) + 1
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = held
            return 0
        self._last[key] = now
        self._held[key] = 0
        return held

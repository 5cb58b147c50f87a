"""Alerts for the admins: grouped per incident, sent by whatever notifier the app wires in."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("relais.alerts")


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing the admins must know. Alerts with the same `group` form one message."""

    group: str
    text: str
    action: tuple[str, str] | None = None  # one button: (label, callback data)


class Notifier(Protocol):
    async def notify(self, message: str) -> None: ...

    # A notifier that can show a button also has `notify_with(message, (label, data))`.


class LogNotifier:
    """Writes alerts to the log (used when no Telegram admin is configured)."""

    async def notify(self, message: str) -> None:
        log.warning("ALERT %s", message)


def group_alerts(alerts: Sequence[Alert]) -> list[str]:
    """One message per group, in first-seen order; long groups are summarised."""
    groups: dict[str, list[str]] = {}
    for alert in alerts:
        lines = groups.setdefault(alert.group, [])
        if alert.text not in lines:
            lines.append(alert.text)
    messages = []
    for group, lines in groups.items():
        shown = lines[:10]
        more = len(lines) - len(shown)
        body = "\n".join(f"• {line}" for line in shown)
        if more:
            body += f"\n… et {more} de plus"
        messages.append(f"{group}\n{body}" if len(lines) > 1 else f"{group} — {lines[0]}")
    return messages


class Alerts:
    """Collects alerts during a round and sends one message per incident group."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self._notifiers = list(notifiers)
        self._pending: list[Alert] = []
        self._lock = threading.Lock()  # alerts come from the poll thread and its worker too

    def add_notifier(self, notifier: Notifier) -> None:
        """One more destination for every alert from now on (the dashboard's journal)."""
        self._notifiers.append(notifier)

    def add(self, group: str, text: str, *, action: tuple[str, str] | None = None) -> None:
        """An alert; with an `action` (a button: label, callback data) it is sent on its own,
        with the button where the notifier can show one."""
        with self._lock:
            self._pending.append(Alert(group, text, action))

    async def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        plain = [a for a in pending if a.action is None]
        sends: list[tuple[str, tuple[str, str] | None]] = [(m, None) for m in group_alerts(plain)]
        sends += [(f"{a.group} — {a.text}", a.action) for a in pending if a.action is not None]
        for message, action in sends:
            for notifier in self._notifiers:
                try:
                    if action is not None and hasattr(notifier, "notify_with"):
                        await notifier.notify_with(message, action)
                    else:
                        await notifier.notify(message)
                except Exception:  # an alert channel failing must not stop deliveries
                    log.exception("could not send an alert")

"""Alerts for the admins: grouped per incident, sent by whatever notifier the app wires in."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("relais.alerts")


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing the admins must know. Alerts with the same `group` form one message."""

    group: str
    text: str


class Notifier(Protocol):
    async def notify(self, message: str) -> None: ...


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

    def add_notifier(self, notifier: Notifier) -> None:
        """One more destination for every alert from now on (the dashboard's journal)."""
        self._notifiers.append(notifier)

    def add(self, group: str, text: str) -> None:
        self._pending.append(Alert(group, text))

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        for message in group_alerts(pending):
            for notifier in self._notifiers:
                try:
                    await notifier.notify(message)
                except Exception:  # an alert channel failing must not stop deliveries
                    log.exception("could not send an alert")

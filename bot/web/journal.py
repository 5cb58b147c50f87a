"""The alerts journal: a notifier that keeps every admin alert in the database for the dashboard."""

from __future__ import annotations

from bot.clock import Clock
from bot.storage.dashboard import DashboardPart


class AlertJournal:
    """Implements the alerts' Notifier protocol: each message becomes a row of `alert_log`,
    which "Aujourd'hui" lists (from any process on the same database)."""

    def __init__(self, dashboard: DashboardPart, clock: Clock) -> None:
        self.dashboard = dashboard
        self.clock = clock

    async def notify(self, message: str) -> None:
        self.dashboard.record_alert(message, self.clock.now())

"""/metrics: Prometheus figures read from the database at scrape time (it is the truth)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from bot.models import DeliveryState
from bot.settings import Settings
from bot.storage.store import Storage

LATE_AFTER = timedelta(minutes=5)  # a queued post due for longer than this is late


class RelaisCollector(Collector):
    """One scrape = a few grouped queries; figures match `relais status` by construction."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        storage: Storage,
        now: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._now = now

    def collect(self) -> Iterator[Metric]:
        settings = self._settings()
        now = self._now()
        snap = self._storage.metrics(now - LATE_AFTER)
        deliveries = CounterMetricFamily(
            "relais_deliveries", "Outbox rows by channel and state", labels=["channel", "state"]
        )
        queue = GaugeMetricFamily("relais_queue_depth", "Queued posts", labels=["channel"])
        late = GaugeMetricFamily(
            "relais_late_posts", "Queued posts due more than 5 minutes ago", labels=["channel"]
        )
        attempts = CounterMetricFamily(
            "relais_publish_attempts",
            "Publish attempts (first tries and retries)",
            labels=["channel"],
        )
        channel_ids = sorted({c.id for c in settings.channels} | {c for c, _ in snap.deliveries})
        for channel in channel_ids:
            for kind in DeliveryState:
                count = snap.deliveries.get((channel, kind.value), 0)
                deliveries.add_metric([channel, kind.value], count)
            queue.add_metric([channel], snap.deliveries.get((channel, "queued"), 0))
            late.add_metric([channel], snap.late.get(channel, 0))
            attempts.add_metric([channel], snap.attempts.get(channel, 0))
        yield from (deliveries, queue, late, attempts)

        errors = GaugeMetricFamily(
            "relais_feed_consecutive_errors", "Failed polls in a row", labels=["feed"]
        )
        polled = GaugeMetricFamily(
            "relais_feed_last_poll_timestamp_seconds", "Time of the last poll", labels=["feed"]
        )
        up = GaugeMetricFamily("relais_feed_up", "1 when the last poll worked", labels=["feed"])
        for feed in self._storage.feed_states():
            errors.add_metric([feed.feed_id], feed.consecutive_errors)
            if feed.last_poll is not None:
                polled.add_metric([feed.feed_id], feed.last_poll.timestamp())
            up.add_metric([feed.feed_id], 0 if feed.consecutive_errors else 1)
        yield from (errors, polled, up)

        broadcasts = CounterMetricFamily(
            "relais_broadcasts", "Private messages to subscribers by state", labels=["state"]
        )
        for name, count in sorted(snap.broadcasts.items()):
            broadcasts.add_metric([name], count)
        yield broadcasts
        yield GaugeMetricFamily("relais_articles", "Articles recorded", value=snap.articles)
        yield GaugeMetricFamily(
            "relais_subscribers", "Reader bot subscribers", value=snap.subscribers
        )
        yield CounterMetricFamily(
            "relais_dashboard_actions", "Actions taken on the dashboard", value=snap.actions
        )
        yield CounterMetricFamily(
            "relais_alerts",
            "Alerts sent to the admins (since the dashboard's journal began)",
            value=snap.alerts,
        )
        paused = GaugeMetricFamily("relais_channel_paused", "1 when paused", labels=["channel"])
        for configured in settings.channels:
            is_paused = self._storage.channel_state(configured.id).paused
            paused.add_metric([configured.id], int(is_paused))
        yield paused


def registry_for(collector: RelaisCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry

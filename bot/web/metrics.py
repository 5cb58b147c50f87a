"""/metrics: the figures read from the database at scrape time, and the running service's own
counters (polls, their duration, articles seen, outcomes, 429s, retries) told by its hooks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from bot.errors import StorageError
from bot.models import DeliveryState, FeedState, Outcome
from bot.settings import Settings
from bot.storage.dashboard import MetricsSnapshot
from bot.storage.store import Storage

if TYPE_CHECKING:
    from bot.delivery.ingest import PollReport

LATE_AFTER = timedelta(minutes=5)  # a queued post due for longer than this is late
# A poll is a GET of a few hundred KB and a write: mostly well under a second; the fetch gives
# up after its timeout (30 s by default).
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def is_retry(outcome: Outcome) -> bool:
    """The attempt failed and the post goes back to the queue for another one (a transient
    failure, a 429, a moved chat; not a pause, where the attempt does not count)."""
    return outcome.state is DeliveryState.QUEUED and outcome.pause is None


class CountByFeed(Collector):
    """A counter labelled by feed, kept as one number per feed. prometheus_client's labelled
    Counter keeps an object with a lock and a creation time for each feed: 5.7 MB at 10,000
    feeds, for a figure told once per poll that brought something. Added to by the poll
    thread, read by a scrape."""

    def __init__(self, name: str, documentation: str) -> None:
        self._name = name
        self._documentation = documentation
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, feed_id: str, amount: int) -> None:
        with self._lock:
            self._counts[feed_id] = self._counts.get(feed_id, 0) + amount

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            counts = sorted(self._counts.items())
        family = CounterMetricFamily(self._name, self._documentation, labels=["feed"])
        for feed_id, count in counts:
            family.add_metric([feed_id], count)
        yield family


class ServiceMetrics:
    """The counters of one running service, on its own registry (one per App: tests build
    several). Its two hooks are handed to the poller and the outbox by the composition root.
    They start at zero with the process, as Prometheus counters do; the database's figures
    (RelaisCollector) are the ones that survive restarts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.polls = Counter("relais_polls", "Feed polls by result", ["result"], registry=reg)
        for result in ("ok", "not_modified", "error"):  # PollReport.status: shown from zero
            self.polls.labels(result)
        self.poll_seconds = Histogram(
            "relais_poll_duration_seconds",
            "Time one poll of a feed takes: fetch, parse and record",
            buckets=POLL_BUCKETS,
            registry=reg,
        )
        self.articles_seen = CountByFeed("relais_articles_seen", "New articles the polls recorded")
        reg.register(self.articles_seen)
        self.outcomes = Counter(
            "relais_publish_outcomes",
            "Publish attempts by channel and the state they left the post in",
            ["channel", "state"],
            registry=reg,
        )
        self.rate_limited = Counter(
            "relais_rate_limited",
            "Answers asking to slow down (a 429 with retry_after)",
            ["channel"],
            registry=reg,
        )
        self.retries = Counter(
            "relais_publish_retries",
            "Failed attempts queued again for another",
            ["channel"],
            registry=reg,
        )

    def polled(self, report: PollReport, seconds: float) -> None:
        """The poller's hook: one recorded poll and how long it took."""
        self.polls.labels(report.status).inc()
        self.poll_seconds.observe(seconds)
        if report.new:
            self.articles_seen.add(report.feed_id, len(report.new))

    def decided(self, channel_id: str, outcome: Outcome) -> None:
        """The outbox's hook: one attempt's decided outcome, where it is applied."""
        self.outcomes.labels(channel_id, outcome.state.value).inc()
        if outcome.rate_limited:
            self.rate_limited.labels(channel_id).inc()
        if is_retry(outcome):
            self.retries.labels(channel_id).inc()


@dataclass(frozen=True, slots=True)
class DatabaseFacts:
    """What one scrape reads from the database, read before any figure is built."""

    snap: MetricsSnapshot
    feeds: list[FeedState]
    paused: dict[str, bool]  # configured channel → paused


class RelaisCollector(Collector):
    """One scrape = a few grouped queries; figures match `relais status` by construction.
    A database that does not answer gives `relais_database_up 0` and none of its figures: the
    process's own counters are still served beside it."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        storage: Callable[[], Storage],
        now: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._now = now

    def _load(self, settings: Settings) -> DatabaseFacts:
        storage = self._storage()
        return DatabaseFacts(
            snap=storage.metrics(self._now() - LATE_AFTER),
            feeds=storage.feed_states(),
            paused={c.id: storage.channel_state(c.id).paused for c in settings.channels},
        )

    def collect(self) -> Iterator[Metric]:
        settings = self._settings()
        try:
            facts = self._load(settings)
        except StorageError:
            facts = None
        yield GaugeMetricFamily(
            "relais_database_up",
            "1 when the database answered this scrape (0: its figures are missing from it)",
            value=int(facts is not None),
        )
        if facts is not None:
            yield from figures(settings, facts)


def figures(settings: Settings, facts: DatabaseFacts) -> Iterator[Metric]:
    """The database's figures, built from what one scrape read."""
    snap = facts.snap
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
    for feed in facts.feeds:
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
    yield GaugeMetricFamily("relais_subscribers", "Reader bot subscribers", value=snap.subscribers)
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
        paused.add_metric([configured.id], int(facts.paused[configured.id]))
    yield paused


class _Scope(Collector):
    """Says whether the process's own counters are in this answer."""

    def __init__(self, in_process: bool) -> None:
        self._in_process = in_process

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "relais_in_process_metrics",
            "1: this process polls and delivers, and adds its own counters (relais_polls, "
            "relais_poll_duration_seconds, relais_articles_seen, relais_publish_outcomes, "
            "relais_rate_limited, relais_publish_retries); 0: `relais web` alone, which serves "
            "only the figures read from the database",
            value=int(self._in_process),
        )


def registry_for(
    collector: RelaisCollector, service: ServiceMetrics | None = None
) -> CollectorRegistry:
    """What /metrics answers: the database's figures, and the service's counters when this
    process runs the service (`relais run`; `relais web` alone has none)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    registry.register(_Scope(service is not None))
    if service is not None:
        registry.register(service.registry)
    return registry

"""The outbox engine: claims due deliveries, renders, publishes, and records every outcome."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.content.render import render_post
from bot.delivery.alerts import Alerts
from bot.delivery.outcome import CHANNEL_OF, Answer, NotRendered, decide
from bot.delivery.route import too_old
from bot.delivery.schedule import local_midnight, next_slot
from bot.errors import PublishError, StorageError
from bot.models import (
    Article,
    ChannelType,
    Delivery,
    DeliveryState,
    Outcome,
    Post,
    PublishResult,
    ReconcileOutcome,
    SkipReason,
)
from bot.publishers.base import Publisher
from bot.settings import ChannelSettings, Settings
from bot.storage.outbox import stale_before
from bot.storage.store import Storage

log = logging.getLogger("relais.outbox")

PublisherFactory = Callable[[ChannelSettings, str | None], Publisher]
# Told of each decided outcome of an attempt, with its channel's id (the service's metrics).
OutcomeObserver = Callable[[str, Outcome], None]
# An uncertain Facebook post is looked for on the Page once its attempt is this old.
RECONCILE_AFTER = timedelta(minutes=10)


@dataclass
class RoundReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0
    reconciled: int = 0
    next_due: datetime | None = None
    retry_due: datetime | None = None  # the earliest retry of a transient failure this round
    paused: list[str] = field(default_factory=list)

    def note_next(self, when: datetime | None) -> None:
        if when is not None and (self.next_due is None or when < self.next_due):
            self.next_due = when

    def count(self, channel_id: str, outcome: Outcome) -> None:
        """Count one recorded outcome that is not a send."""
        if outcome.pause is not None:
            self.paused.append(channel_id)
        elif outcome.state is DeliveryState.QUEUED:
            self.retried += 1
            if outcome.chat_moved is None and outcome.due is not None:  # a transient failure
                self.note_next(outcome.due)
                if self.retry_due is None or outcome.due < self.retry_due:
                    self.retry_due = outcome.due
        elif outcome.state is DeliveryState.UNKNOWN:
            self.unknown += 1
        elif outcome.state is DeliveryState.FAILED:
            self.failed += 1
        elif outcome.state is DeliveryState.SKIPPED:
            self.skipped += 1

    def add(self, other: RoundReport) -> None:
        """Fold a later round into this one (counts add up; times are the later round's)."""
        for name in ("sent", "retried", "failed", "unknown", "skipped", "reconciled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.next_due, self.retry_due = other.next_due, other.retry_due
        self.paused = sorted(set(self.paused) | set(other.paused))


class Outbox:
    """Delivers what is due, channel by channel; one channel's trouble never stops another."""

    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        make_publisher: PublisherFactory,
        *,
        clock: Clock,
        alerts: Alerts,
        worker: str = "relais",
        rand: Callable[[], float] = random.random,
        observe: OutcomeObserver | None = None,
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.observe = observe
        self._make_publisher = make_publisher
        self._publishers: dict[str, Publisher] = {}
        self.clock = clock
        self.alerts = alerts
        self.worker = worker
        self._rand = rand
        self._strip: Mapping[str, tuple[str, ...]] = {f.id: f.strip for f in settings.feeds}
        self._unrecorded: dict[int, tuple[Delivery, PublishResult]] = {}

    # ---- lifecycle ----------------------------------------------------------------------

    def publisher(self, channel: ChannelSettings) -> Publisher:
        if channel.id not in self._publishers:
            chat = self.storage.channel_state(channel.id).chat_for(channel.chat)
            override = chat if chat != channel.chat else None
            self._publishers[channel.id] = self._make_publisher(channel, override)
        return self._publishers[channel.id]

    async def aclose(self) -> None:
        if self._unrecorded:
            try:
                self.flush_unrecorded()
            except StorageError:
                for delivery, result in self._unrecorded.values():
                    log.critical(
                        "delivery %s WAS SENT (%s %s) but could not be recorded: do not /retry it",
                        delivery.id,
                        result.remote_id,
                        result.link or "",
                    )
        for publisher in self._publishers.values():
            await publisher.aclose()
        self._publishers.clear()

    def recover(self) -> list[int]:
        """Deliveries a dead process left in `sending` become `unknown` (at start and before each
        round: rounds never overlap, so nothing of ours is in flight then)."""
        now = self.clock.now()
        older = stale_before(now, is_postgres=self.storage.is_postgres)
        ids = self.storage.recover_sending(now, older_than=older)
        for delivery_id in ids:
            log.warning(
                "delivery %s was left in 'sending' by a stopped process: unknown", delivery_id
            )
            self.alerts.add(
                "Issue incertaine après un arrêt",
                f"livraison #{delivery_id} : envoyée ou non ? "
                f"(/retry {delivery_id} pour la renvoyer)",
            )
        return ids

    # ---- a delivery round ---------------------------------------------------------------

    async def deliver_due(self, *, stop: asyncio.Event | None = None) -> RoundReport:
        """Reconcile uncertain posts, then send every delivery that is due and allowed now."""
        report = RoundReport()
        self.flush_unrecorded()
        self.recover()
        channels = [c for c in self.settings.channels if not self._paused(c, report)]
        await self.reconcile(channels, report)
        results = await asyncio.gather(
            *(self._deliver_channel(c, report, stop) for c in channels), return_exceptions=True
        )
        for channel, result in zip(channels, results, strict=True):
            if isinstance(result, BaseException):
                log.error(
                    "delivery round for channel %s failed: %s",
                    channel.id,
                    result,
                    exc_info=(type(result), result, result.__traceback__),
                )
        await self.alerts.flush()
        return report

    def _paused(self, channel: ChannelSettings, report: RoundReport) -> bool:
        if self.storage.channel_state(channel.id).paused:
            report.paused.append(channel.id)
            return True
        return False

    def _next_slot_for(
        self, channel: ChannelSettings, now: datetime
    ) -> Callable[[datetime | None, int], datetime]:
        tz = self.settings.site.tz

        def decide(last_post: datetime | None, posts_today: int) -> datetime:
            return next_slot(
                now,
                last_post=last_post,
                posts_today=posts_today,
                min_gap=channel.gap,
                max_per_day=channel.max_per_day,
                quiet_hours=channel.quiet_hours,
                tz=tz,
            )

        return decide

    async def _deliver_channel(
        self, channel: ChannelSettings, report: RoundReport, stop: asyncio.Event | None
    ) -> None:
        while stop is None or not stop.is_set():
            now = self.clock.now()
            claimed, later = self.storage.claim(
                channel.id,
                now,
                day_start=local_midnight(now, self.settings.site.tz),
                next_slot=self._next_slot_for(channel, now),
                limit=1,
                worker=self.worker,
            )
            if not claimed:
                report.note_next(later)
                return
            for delivery in claimed:
                keep_going = await self._send(channel, delivery, report)
                if not keep_going:
                    return

    async def _send(
        self, channel: ChannelSettings, delivery: Delivery, report: RoundReport
    ) -> bool:
        """Send one claimed delivery and record the outcome. False: stop this channel's round."""
        now = self.clock.now()
        article = self.storage.article(delivery.article_key)
        if too_old(article, channel, now):
            too_late = Outcome(DeliveryState.SKIPPED, SkipReason.TOO_OLD)
            self._finish(delivery, too_late)
            report.count(channel.id, too_late)
            return True
        shortened = False
        while True:
            answer = await self._attempt(channel, delivery, article, shorter=shortened)
            outcome = decide(
                answer,
                CHANNEL_OF[channel.type],
                attempts=delivery.attempts,
                now=now,
                rand=self._rand(),
                shortened=shortened,
            )
            if not outcome.shorter:
                return self._apply(channel, delivery, article.title, outcome, report)
            log.info("delivery %s: %s; rendering it shorter once", delivery.id, outcome.error)
            shortened = True

    async def _attempt(
        self, channel: ChannelSettings, delivery: Delivery, article: Article, *, shorter: bool
    ) -> Answer:
        """Render, then publish: the platform's result, or what went wrong, as a value."""
        try:
            teaser = self.storage.teaser_edit(delivery.id)  # an admin's own text, if any
            # Cleaning and rendering take CPU (a long article): off the event loop.
            post = await asyncio.to_thread(
                self._render, channel, article, shorter=shorter, teaser=teaser
            )
        except ValueError as err:  # a template or a link this article cannot go out with
            return NotRendered(str(err))
        try:
            return await self.publisher(channel).publish(post)
        except StorageError:
            raise
        except PublishError as err:
            return err
        except Exception as err:  # a bug in an adapter: the post may or may not exist
            log.exception("delivery %s to %s: unexpected error", delivery.id, channel.id)
            return err

    def _apply(
        self,
        channel: ChannelSettings,
        delivery: Delivery,
        title: str,
        outcome: Outcome,
        report: RoundReport,
    ) -> bool:
        """Record a decided outcome and do what follows from it; False ends the round."""
        if self.observe is not None:
            self.observe(channel.id, outcome)
        if outcome.state is DeliveryState.SENT and outcome.result is not None:
            self._record_sent(delivery, outcome.result)
            report.sent += 1
            log.info(
                "sent delivery %s (%s) to %s: %s",
                delivery.id,
                title,
                channel.id,
                outcome.result.remote_id,
            )
            return True
        if outcome.chat_moved is not None:
            self.storage.set_chat_override(
                channel.id, channel.chat, outcome.chat_moved, self.clock.now()
            )
            self._publishers.pop(channel.id, None)
            log.warning(
                "channel %s moved to chat %s; retrying there", channel.id, outcome.chat_moved
            )
        self._finish(delivery, outcome)
        report.count(channel.id, outcome)
        if outcome.pause is not None:
            self.pause(channel, outcome.pause.reason, platform_wide=outcome.pause.platform_wide)
        elif outcome.state is DeliveryState.QUEUED and outcome.chat_moved is None:
            log.info(
                "delivery %s to %s: %s; retry at %s",
                delivery.id,
                channel.id,
                outcome.error,
                outcome.due,
            )
        if outcome.alert:
            uncertain = outcome.state is DeliveryState.UNKNOWN
            group = "Issue incertaine sur" if uncertain else "Échec définitif sur"
            self.alerts.add(
                f"{group} {channel.id}", f"« {title} » (#{delivery.id}) : {outcome.error}"
            )
        return not outcome.end_round

    def _finish(self, delivery: Delivery, outcome: Outcome) -> None:
        if not self.storage.finish(
            delivery,
            self.clock.now(),
            state=outcome.state,
            error=outcome.error,
            due=outcome.due,
            result=outcome.result,
            release=outcome.release,
        ):
            log.error(
                "delivery %s was taken over by another worker before its outcome (%s) could be "
                "recorded; left as that worker has it",
                delivery.id,
                outcome.state,
            )

    def _record_sent(self, delivery: Delivery, result: PublishResult) -> None:
        """The post exists: the record must say so, even through a passing database error."""
        try:
            self._finish(delivery, Outcome(DeliveryState.SENT, result=result))
        except StorageError as err:
            # Kept in memory and written at the next round, before `sending` rows are
            # recovered: otherwise this row would come back as `unknown`, and a /retry would
            # post it twice.
            log.error("delivery %s was sent but could not be recorded yet: %s", delivery.id, err)
            self._unrecorded[delivery.id] = (delivery, result)

    def flush_unrecorded(self) -> None:
        """Write the sends that could not be recorded. A row that meanwhile turned `unknown`
        (another worker recovered it) is resolved as sent: we know the post exists."""
        for delivery_id, (delivery, result) in list(self._unrecorded.items()):
            now = self.clock.now()
            if not self.storage.finish(delivery, now, state=DeliveryState.SENT, result=result):
                self.storage.resolve_found(delivery_id, result, now)
            del self._unrecorded[delivery_id]

    def _render(
        self,
        channel: ChannelSettings,
        article: Article,
        *,
        shorter: bool,
        teaser: str | None = None,
    ) -> Post:
        return render_post(
            article,
            channel,
            self.settings.site,
            extra_patterns=self._strip.get(article.feed_id, ()),
            shorter=shorter,
            teaser=teaser,
            now=self.clock.now(),  # a post going out late says when the article was published
        )

    def pause(self, channel: ChannelSettings, reason: str, *, platform_wide: bool = False) -> None:
        """Pause a channel (or all of its platform's) for refused credentials; alert once."""
        now = self.clock.now()
        targets = (
            [c for c in self.settings.channels if c.type is channel.type]
            if platform_wide
            else [channel]
        )
        for target in targets:
            if self.storage.set_paused(target.id, True, reason, now, by="auth"):
                log.error("channel %s paused: %s", target.id, reason)
                self.alerts.add(
                    "Canal en pause",
                    f"{target.id} : {reason} — la file d'attente est conservée ; "
                    f"/resume {target.id} une fois le problème réglé.",
                )

    # ---- uncertain outcomes -------------------------------------------------------------

    async def reconcile(self, channels: list[ChannelSettings], report: RoundReport) -> None:
        """Ask each platform that can tell whether an `unknown` post exists.

        Only once the attempt is RECONCILE_AFTER old: a POST that timed out may still land on
        the Page a little later, and reading "absent" too early would post it twice.
        """
        settled = self.clock.now() - RECONCILE_AFTER
        for channel in channels:
            if channel.type is ChannelType.TELEGRAM:
                continue  # a bot cannot read a channel's history: admins decide (/retry)
            unknown = self.storage.deliveries(channel_id=channel.id, states=[DeliveryState.UNKNOWN])
            for delivery in unknown:
                attempted = delivery.attempted_at or delivery.created_at or self.clock.now()
                if attempted > settled:
                    report.note_next(attempted + RECONCILE_AFTER)
                    continue
                try:
                    article = self.storage.article(delivery.article_key)
                    post = self._render(channel, article, shorter=False)
                    answer = await self.publisher(channel).reconcile(post, attempted)
                except Exception:
                    log.exception("reconciling delivery %s failed", delivery.id)
                    continue
                now = self.clock.now()
                if answer.outcome is ReconcileOutcome.FOUND and answer.result is not None:
                    if self.storage.resolve_found(delivery.id, answer.result, now):
                        log.info("delivery %s found on %s: sent", delivery.id, channel.id)
                        report.reconciled += 1
                elif answer.outcome is ReconcileOutcome.ABSENT:
                    absent = "not found after an uncertain send"
                    if self.storage.mark_queued(delivery.id, now, absent, now):
                        log.info("delivery %s not on %s: queued again", delivery.id, channel.id)
                        report.reconciled += 1

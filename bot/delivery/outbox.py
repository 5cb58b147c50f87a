"""The outbox engine: claims due deliveries, renders, publishes, and records every outcome."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

from bot.clock import Clock
from bot.content.render import render_post
from bot.content.roundup import render_roundup, roundup_heading
from bot.delivery.alerts import Alerts
from bot.delivery.approval_desk import ApprovalRound
from bot.delivery.corrections import is_photo, version_of
from bot.delivery.next_post import Step, next_step
from bot.delivery.outcome import CHANNEL_OF, Answer, NotRendered, decide
from bot.delivery.plan import ScheduleFacts
from bot.delivery.priority import urgent_post
from bot.delivery.queue_order import STALE_AT_SLOT
from bot.delivery.removal import delete_refusal
from bot.delivery.route import too_old
from bot.delivery.schedule import local_midnight
from bot.delivery.telegram_rates import PER_CHANNEL_PER_MINUTE, PER_CHANNEL_WINDOW, window_opens
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
    Roundup,
    SkipReason,
    TelegramPost,
)
from bot.publishers.base import Publisher
from bot.settings import ChannelSettings, Settings
from bot.storage.channels import Decide
from bot.storage.outbox import stale_before
from bot.storage.store import Storage

log = logging.getLogger("relais.outbox")

PublisherFactory = Callable[[ChannelSettings, str | None], Publisher]
# Told of each decided outcome of an attempt, with its channel's id (the service's metrics).
OutcomeObserver = Callable[[str, Outcome], None]
# A platform's per-channel rate, held through the database at the claim.
RATES: Mapping[ChannelType, Callable[[Sequence[datetime]], datetime | None]] = {
    ChannelType.TELEGRAM: partial(
        window_opens, limit=PER_CHANNEL_PER_MINUTE, period=PER_CHANNEL_WINDOW
    ),
}
# An uncertain Facebook post is looked for on the Page once its attempt is older than what the
# POST could take (the request's timeout, `facebook.timeout`) plus this margin: Graph may still
# finish a request its client gave up on, and reading "absent" too early would post it twice.
RECONCILE_MARGIN = timedelta(minutes=1)


def reconcile_after(request_timeout: timedelta) -> timedelta:
    """How old an uncertain Facebook attempt must be before the Page is read for it."""
    return request_timeout + RECONCILE_MARGIN


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
    retries: list[datetime] = field(default_factory=list)  # every retry's due time

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
                self.retries.append(outcome.due)
                if self.retry_due is None or outcome.due < self.retry_due:
                    self.retry_due = outcome.due
        elif outcome.state is DeliveryState.UNKNOWN:
            self.unknown += 1
        elif outcome.state is DeliveryState.FAILED:
            self.failed += 1
        elif outcome.state is DeliveryState.SKIPPED:
            self.skipped += 1

    def add(self, other: RoundReport) -> None:
        """Fold a later round into this one (counts add up; `next_due` is the later round's).
        The later round ran once `retry_due` came, so the retries still ahead are those after it,
        from either round: a retry noted in an earlier round is not forgotten."""
        for name in ("sent", "retried", "failed", "unknown", "skipped", "reconciled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        waited = self.retry_due
        self.retries = sorted(set(self.retries) | set(other.retries))
        ahead = [due for due in self.retries if waited is None or due > waited]
        self.next_due, self.retry_due = other.next_due, min(ahead, default=None)
        self.paused = sorted(set(self.paused) | set(other.paused))


Sent = Delivery | Roundup  # what a claim gives to send: a post, or a roundup of posts


def _label(claim: Sent) -> str:
    return f"delivery {claim.id}" if isinstance(claim, Delivery) else f"roundup {claim.id}"


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
        sends_telegram: Callable[[], bool] = lambda: True,
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
        self._sends_telegram = sends_telegram  # False: another instance leads (Several instances)
        self._strip: Mapping[str, tuple[str, ...]] = {f.id: f.strip for f in settings.feeds}
        self._unrecorded: dict[str, tuple[Sent, PublishResult]] = {}
        self.approvals: ApprovalRound | None = None  # set by the App when admins can approve

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
                for label, (_claim, result) in self._unrecorded.items():
                    log.critical(
                        "%s WAS SENT (%s %s) but could not be recorded: do not /retry it",
                        label,
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
        for roundup_id in self.storage.recover_roundups(now, older_than=older):
            log.warning(
                "roundup %s was left in 'sending' by a stopped process: unknown", roundup_id
            )
            self.alerts.add(
                "Issue incertaine après un arrêt",
                f"récapitulatif #{roundup_id} : envoyé ou non ? Ses articles ne sont pas "
                "republiés seuls (vérifiez le canal)",
            )
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
        channels = [c for c in self._ours() if not self._paused(c, report)]
        if self._sends_telegram():  # pins and the admins' approval messages are Telegram's
            await self.unpin_due()
            if self.approvals is not None:
                await self.approvals.run(channels)
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
        await self.edit_due(report)
        await self.alerts.flush()
        return report

    def _ours(self) -> list[ChannelSettings]:
        """The channels this instance delivers: Telegram's only on the leader, which holds the
        bot-wide limit for the cluster in its one rate limiter."""
        telegram = self._sends_telegram()
        return [c for c in self.settings.channels if telegram or c.type is not ChannelType.TELEGRAM]

    def _paused(self, channel: ChannelSettings, report: RoundReport) -> bool:
        if self.storage.channel_state(channel.id).paused:
            report.paused.append(channel.id)
            return True
        return False

    def _decide_for(self, channel: ChannelSettings, now: datetime) -> Decide:
        """The channel's schedule (`next_post.next_step`) for the claim to ask, at `now`."""
        tz = self.settings.site.tz

        def decide(facts: ScheduleFacts) -> Step:
            return next_step(
                now,
                facts.items,
                channel=channel,
                tz=tz,
                tally=facts.tally(now, tz),
                last_roundup=facts.last_roundup,
            )

        return decide

    async def _deliver_channel(
        self, channel: ChannelSettings, report: RoundReport, stop: asyncio.Event | None
    ) -> None:
        while stop is None or not stop.is_set():
            now = self.clock.now()
            turn = self.storage.claim(
                channel.id,
                now,
                day_start=local_midnight(now, self.settings.site.tz),
                decide=self._decide_for(channel, now),
                worker=self.worker,
                window=RATES.get(channel.type),
            )
            if turn.skipped:
                log.info("channel %s: %s skipped: %s", channel.id, turn.skipped, STALE_AT_SLOT)
                report.skipped += len(turn.skipped)
                continue
            if turn.delivery is not None:
                keep_going = await self._send(channel, turn.delivery, report, urgent=turn.urgent)
            elif turn.roundup is not None:
                keep_going = await self._send_roundup(channel, turn.roundup, report)
            else:
                report.note_next(turn.later)
                return
            if not keep_going:
                return

    async def _send(
        self,
        channel: ChannelSettings,
        delivery: Delivery,
        report: RoundReport,
        *,
        urgent: bool = False,
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
            answer = await self._attempt(
                channel, delivery, article, shorter=shortened, urgent=urgent
            )
            outcome = decide(
                answer,
                CHANNEL_OF[channel.type],
                attempts=delivery.attempts,
                now=now,
                rand=self._rand(),
                shortened=shortened,
            )
            if not outcome.shorter:
                keep_going = self._apply(channel, delivery, article.title, outcome, report)
                if outcome.state is DeliveryState.SENT and outcome.result:
                    self._posted(channel, delivery, article, shorter=shortened)
                    if urgent:
                        await self._pin(channel, delivery, outcome.result)
                return keep_going
            log.info("delivery %s: %s; rendering it shorter once", delivery.id, outcome.error)
            shortened = True

    def _posted(
        self, channel: ChannelSettings, delivery: Delivery, article: Article, *, shorter: bool
    ) -> None:
        """Note what the sent post shows: a correction of the article is compared with it."""
        try:
            teaser = self.storage.teaser_edit(delivery.id)
            post = self._render(channel, article, shorter=shorter, teaser=teaser)
            strip = self._strip.get(article.feed_id, ())
            shows = version_of(article, strip=strip)
            self.storage.set_posted_version(delivery.id, shows, photo=is_photo(post))
        except (ValueError, StorageError) as err:  # the post is out: only its edits are lost
            log.warning("delivery %s: what the post shows was not recorded: %s", delivery.id, err)

    async def edit_due(self, report: RoundReport) -> None:
        """Send the corrections that are due (`corrections.edit_plan` decided each), through
        the outbox like posts: claimed, made, recorded; a lost one is made again (idempotent)."""
        older = stale_before(self.clock.now(), is_postgres=self.storage.is_postgres)
        for edit_id in self.storage.recover_edits(self.clock.now(), older_than=older):
            log.info("edit %s was left in 'sending' by a stopped process: queued again", edit_id)
        channels = {c.id: c for c in self.settings.channels}
        for claim in self.storage.claim_edits(self.clock.now(), worker=self.worker):
            channel = channels.get(claim.channel_id)
            delivery = self.storage.delivery(claim.delivery_id)
            if channel is None or delivery is None or not delivery.remote_id:
                gone = Outcome(DeliveryState.SKIPPED, "the channel or its post is gone")
                self.storage.finish_edit(claim, gone, self.clock.now())
                continue
            article = self.storage.article(delivery.article_key)
            answer: Answer
            try:
                teaser = self.storage.teaser_edit(delivery.id)
                post = self._render(channel, article, shorter=False, teaser=teaser)
            except ValueError as err:
                answer = NotRendered(str(err))
            else:
                answer = await self._edit(channel, delivery.remote_id, post, claim.methods)
            outcome = decide(
                answer,
                CHANNEL_OF[channel.type],
                attempts=claim.attempts,
                now=self.clock.now(),
                rand=self._rand(),
                shortened=True,
            )
            if outcome.state is DeliveryState.UNKNOWN:  # an edit made twice shows the same
                outcome = Outcome(DeliveryState.QUEUED, outcome.error, due=self.clock.now())
            self.storage.finish_edit(claim, outcome, self.clock.now())
            if outcome.state is DeliveryState.SENT:
                log.info("edited delivery %s on %s (%s)", delivery.id, channel.id, claim.why)
            elif outcome.state is DeliveryState.FAILED:
                self.alerts.add(
                    f"Correction impossible sur {channel.id}",
                    f"« {article.title} » (#{delivery.id}) : {outcome.error}",
                )
            else:
                report.count(channel.id, outcome)

    async def _edit(
        self, channel: ChannelSettings, remote_id: str, post: Post, methods: Sequence[str]
    ) -> Answer:
        try:
            return await self.publisher(channel).edit(remote_id, post, methods)
        except StorageError:
            raise
        except PublishError as err:
            return err
        except Exception as err:  # a bug in an adapter
            log.exception("edit of %s on %s: unexpected error", remote_id, channel.id)
            return err

    async def _send_roundup(
        self, channel: ChannelSettings, roundup: Roundup, report: RoundReport
    ) -> bool:
        """Send one claimed roundup (the headline list) and record the outcome, like a post."""
        now = self.clock.now()
        articles = [self.storage.article(key) for key in roundup.article_keys]
        answer: Answer
        try:
            post = render_roundup(articles, channel, self.settings.site, at=roundup.at)
        except ValueError as err:
            answer = NotRendered(str(err))
        else:
            answer = await self._publish(channel, post, f"roundup {roundup.id}")
        outcome = decide(
            answer,
            CHANNEL_OF[channel.type],
            attempts=roundup.attempts,
            now=now,
            rand=self._rand(),
            shortened=True,  # a roundup fits already: its titles were cut evenly to fit
        )
        title = roundup_heading(self.settings.site, roundup.at)
        return self._apply(channel, roundup, f"{title} ({len(articles)})", outcome, report)

    async def _pin(self, channel: ChannelSettings, delivery: Delivery, sent: PublishResult) -> None:
        """Pin an urgent post where the channel says so, and note when to unpin it."""
        how = urgent_post(
            channel.priority,
            telegram=channel.type is ChannelType.TELEGRAM,
            sent_at=self.clock.now(),
        )
        if not how.pin:
            return
        try:
            await self.publisher(channel).pin(sent.remote_id)
        except PublishError as err:
            log.warning("urgent delivery %s to %s: could not pin: %s", delivery.id, channel.id, err)
            return
        self.storage.set_pinned(delivery.id, how.unpin_at, self.clock.now())

    async def delete(self, delivery: Delivery, *, by: str) -> str | None:
        """An admin's /delete: remove the sent post if `removal.delete_refusal` allows it; why
        not, else None. The row stays `sent` (it was posted), its error says who removed it."""
        channel = next((c for c in self.settings.channels if c.id == delivery.channel_id), None)
        if channel is None:
            return f"refusé : le canal {delivery.channel_id} n'est plus configuré"
        now = self.clock.now()
        refusal = delete_refusal(
            channel.type, state=delivery.state.value, sent_at=delivery.sent_at, now=now
        )
        if refusal is not None or delivery.remote_id is None:
            return refusal or "refusé : pas d'identifiant de publication"
        try:
            await self.publisher(channel).delete(delivery.remote_id)
        except PublishError as err:
            return f"échec : {err}"
        self.storage.mark_deleted(delivery.id, f"supprimée par {by}", now)
        log.warning("delivery %s on %s deleted by %s", delivery.id, channel.id, by)
        return None

    async def unpin_due(self) -> None:
        """Unpin the urgent posts whose `pin_for` is over (an unpin twice is harmless)."""
        now = self.clock.now()
        channels = {c.id: c for c in self.settings.channels}
        for delivery in self.storage.due_unpins(now):
            channel = channels.get(delivery.channel_id)
            if channel is not None and delivery.remote_id:
                try:
                    await self.publisher(channel).unpin(delivery.remote_id)
                except PublishError as err:
                    log.warning("delivery %s: could not unpin: %s", delivery.id, err)
                    continue
            self.storage.unpinned(delivery.id, now)

    async def _attempt(
        self,
        channel: ChannelSettings,
        delivery: Delivery,
        article: Article,
        *,
        shorter: bool,
        urgent: bool = False,
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
        if urgent and isinstance(post, TelegramPost):
            post = replace(post, silent=False)  # breaking news always rings
        return await self._publish(channel, post, f"delivery {delivery.id}")

    async def _publish(self, channel: ChannelSettings, post: Post, what: str) -> Answer:
        try:
            return await self.publisher(channel).publish(post)
        except StorageError:
            raise
        except PublishError as err:
            return err
        except Exception as err:  # a bug in an adapter: the post may or may not exist
            log.exception("%s to %s: unexpected error", what, channel.id)
            return err

    def _apply(
        self,
        channel: ChannelSettings,
        claim: Sent,
        title: str,
        outcome: Outcome,
        report: RoundReport,
    ) -> bool:
        """Record a decided outcome and do what follows from it; False ends the round."""
        if self.observe is not None:
            self.observe(channel.id, outcome)
        what = _label(claim)
        if outcome.state is DeliveryState.SENT and outcome.result is not None:
            self._record_sent(claim, outcome.result)
            report.sent += 1
            log.info("sent %s (%s) to %s: %s", what, title, channel.id, outcome.result.remote_id)
            return True
        if outcome.chat_moved is not None:
            self.storage.set_chat_override(
                channel.id, channel.chat, outcome.chat_moved, self.clock.now()
            )
            self._publishers.pop(channel.id, None)
            log.warning(
                "channel %s moved to chat %s; retrying there", channel.id, outcome.chat_moved
            )
        self._finish(claim, outcome)
        report.count(channel.id, outcome)
        if outcome.pause is not None:
            self.pause(channel, outcome.pause.reason, platform_wide=outcome.pause.platform_wide)
        elif outcome.state is DeliveryState.QUEUED and outcome.chat_moved is None:
            log.info("%s to %s: %s; retry at %s", what, channel.id, outcome.error, outcome.due)
        if outcome.alert:
            uncertain = outcome.state is DeliveryState.UNKNOWN
            group = "Issue incertaine sur" if uncertain else "Échec définitif sur"
            number = f"#{claim.id}" if isinstance(claim, Delivery) else f"récapitulatif #{claim.id}"
            self.alerts.add(f"{group} {channel.id}", f"« {title} » ({number}) : {outcome.error}")
        return not outcome.end_round

    def _finish(self, claim: Sent, outcome: Outcome) -> bool:
        now = self.clock.now()
        if isinstance(claim, Roundup):
            done = self.storage.finish_roundup(claim, now, outcome)
        else:
            done = self.storage.finish(
                claim,
                now,
                state=outcome.state,
                error=outcome.error,
                due=outcome.due,
                result=outcome.result,
                release=outcome.release,
            )
        if not done:
            log.error(
                "%s was taken over by another worker before its outcome (%s) could be "
                "recorded; left as that worker has it",
                _label(claim),
                outcome.state,
            )
        return done

    def _record_sent(self, claim: Sent, result: PublishResult) -> None:
        """The post exists: the record must say so, even through a passing database error."""
        try:
            self._finish(claim, Outcome(DeliveryState.SENT, result=result))
        except StorageError as err:
            # Kept in memory and written at the next round, before `sending` rows are
            # recovered: otherwise this row would come back as `unknown`, and a /retry would
            # post it twice.
            log.error("%s was sent but could not be recorded yet: %s", _label(claim), err)
            self._unrecorded[_label(claim)] = (claim, result)

    def flush_unrecorded(self) -> None:
        """Write the sends that could not be recorded. A row that meanwhile turned `unknown`
        (another worker recovered it) is resolved as sent: we know the post exists."""
        for label, (claim, result) in list(self._unrecorded.items()):
            now = self.clock.now()
            if not self._finish(claim, Outcome(DeliveryState.SENT, result=result)):
                if isinstance(claim, Roundup):
                    self.storage.resolve_roundup_found(claim.id, result, now)
                else:
                    self.storage.resolve_found(claim.id, result, now)
            del self._unrecorded[label]

    def preview(self, channel: ChannelSettings, article: Article) -> Post:
        """The post as it will go out (what the admins approve)."""
        return self._render(channel, article, shorter=False)

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

        Only once the attempt is `reconcile_after` old: a POST that timed out may still land on
        the Page a little later, and reading "absent" too early would post it twice.
        """
        wait = reconcile_after(self.settings.facebook.timeout)
        settled = self.clock.now() - wait
        for channel in channels:
            if channel.type is ChannelType.TELEGRAM:
                continue  # a bot cannot read a channel's history: admins decide (/retry)
            unknown = self.storage.deliveries(channel_id=channel.id, states=[DeliveryState.UNKNOWN])
            for delivery in unknown:
                attempted = delivery.attempted_at or delivery.created_at or self.clock.now()
                if attempted > settled:
                    report.note_next(attempted + wait)
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

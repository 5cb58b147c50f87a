"""The service loop: polls on schedule, delivers continuously, announces new articles, stops.

`relais run` is `ServiceLoop.serve` (until a stop signal); `relais run --once` and the demo are
`ServiceLoop.run_once`. The parts it drives (poller, outbox, token watch, reader bot) are built by
the composition root, `bot/app.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import signal
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.delivery.alerts import Alerts
from bot.delivery.ingest import Poller, PollReport
from bot.delivery.outbox import Outbox, RoundReport
from bot.delivery.token_pause import TokenWatch
from bot.delivery.wakeups import Wakeups
from bot.errors import StorageError
from bot.feeds.backoff import JITTER, waiting_until
from bot.leadership import Leadership
from bot.models import FeedState
from bot.settings import FeedSettings, Settings, collector_paused
from bot.storage.store import Storage

if TYPE_CHECKING:
    from bot.telegram_bot.service import ReaderBot

log = logging.getLogger("relais")

IDLE_WAKE = timedelta(seconds=30)  # the delivery loop looks at the outbox at least this often
ONCE_WAIT = timedelta(seconds=60)  # `run --once` waits for retries due within this
ONCE_ROUNDS = 10
TOKEN_EVERY = timedelta(days=1)  # Facebook tokens are checked at start and then this often
TOKEN_JOB = "facebook-tokens"
UPDATES_KEPT = timedelta(days=1)  # the bot's handled updates are forgotten after this


def poll_job_id(feed_id: str) -> str:
    return f"poll:{feed_id}"


def first_poll(
    state: FeedState | None, now: datetime, stagger: timedelta = timedelta(0)
) -> datetime:
    """When a feed is first polled after a start: at its recorded next poll if still ahead,
    else `stagger` from now (see `stagger`)."""
    if state is not None and state.next_poll is not None and state.next_poll > now:
        return state.next_poll
    return now + stagger


def stagger(position: int, due: int, every: timedelta, concurrency: int) -> timedelta:
    """How long the `position`-th of `due` feeds due at start waits for its first poll.

    The feeds go in batches of `concurrency` (as many as are fetched at once), spread evenly
    over the feed's interval: 10,000 feeds polled every 5 minutes with 64 fetches at a time
    are 157 batches two seconds apart, and no poll waits for a fetch slot. Up to
    `concurrency` feeds, every one is polled at once.
    """
    batches = -(-due // max(concurrency, 1))
    if batches <= 1:
        return timedelta(0)
    return every * (position // concurrency) / batches


class _StillRunning(logging.Filter):
    """APScheduler's "skipped: maximum number of running instances reached" says that a feed's
    previous poll has not ended (a slow site): worth a debug line, not a warning per feed."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and "maximum number of running instances" in str(
            record.msg
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_SCHEDULER_LOG = logging.getLogger("relais.scheduler")
_SCHEDULER_LOG.addFilter(_StillRunning())


def polled_elsewhere(state: FeedState | None, now: datetime) -> datetime | None:
    """Several instances: when the feed's recorded next poll is still ahead, another instance
    polled it (or a Retry-After holds it): the time to look again; None: poll now."""
    due = first_poll(state, now)
    return due if due > now else None


def delivery_wait(now: datetime, next_due: datetime | None) -> float:
    """Seconds the delivery loop sleeps unless woken: until the next due post, IDLE_WAKE at most."""
    limit = now + IDLE_WAKE
    until = min(next_due, limit) if next_due is not None else limit
    return max(0.0, (until - now).total_seconds())


def once_retry_wait(now: datetime, retry_due: datetime | None) -> float | None:
    """Seconds `run --once` waits for a retry (a 429, a 5xx) due soon; None: do not wait."""
    if retry_due is None or retry_due - now > ONCE_WAIT:
        return None
    return max(0.0, (retry_due - now).total_seconds())


def settle_start_up() -> None:
    """What start-up made (settings, jobs, the libraries' tables) lives as long as the service:
    it is moved out of the cyclic collector's sight. A full collection walks every object it
    tracks, on the event loop: at 1,000 feeds one took 60 ms, at 10,000 far more."""
    gc.collect()
    gc.freeze()


class ServiceLoop:
    """Runs one Relais process: the polls, the delivery loop, the reader bot, the token job."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        *,
        clock: Clock,
        alerts: Alerts,
        poller: Poller,
        outbox: Outbox,
        tokens: TokenWatch,
        reader: ReaderBot | None,
        wake: asyncio.Event,
        leadership: Leadership | None = None,
        wakeups: Wakeups | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.clock = clock
        self.alerts = alerts
        self.poller = poller
        self.outbox = outbox
        self.tokens = tokens
        self.reader = reader
        self._wake = wake
        self.last_round: datetime | None = None  # /healthz: when a delivery round last ended
        # Several instances (docs/design.md): who leads, and NOTIFY's wake-ups.
        self.leadership = leadership or Leadership(storage, worker=outbox.worker, clock=clock)
        self.wakeups = wakeups

    def wake(self) -> None:
        """The outbox has new work (a /retry, a /resume, a /post): deliver now."""
        self._wake.set()

    def _configure_channels(self) -> None:
        """Date the channels this config adds (they get the articles first seen from now)."""
        self.storage.ensure_channels([c.id for c in self.settings.channels], self.clock.now())

    def announce(self, reports: Sequence[PollReport]) -> None:
        """New articles wake the delivery loop and reach the reader bot's subscribers."""
        now = self.clock.now()
        for report in reports:
            if report.new or report.more:
                self._wake.set()
            if report.new and self.reader is not None:
                try:
                    self.reader.on_new_articles(report.new, now, baseline=report.baseline)
                except Exception:  # subscribers miss a broadcast; the channels do not
                    log.exception("queueing the reader bot's broadcasts failed")

    async def poll_all(self, *, write: bool = True, force: bool = True) -> list[PollReport]:
        """Poll every feed; without `force`, a feed backing off after failures or told to wait
        (Retry-After) is not polled, and its report says until when it waits."""
        now = self.clock.now()
        waiting: list[PollReport] = []
        ready: list[FeedSettings] = []
        states = {s.feed_id: s for s in await asyncio.to_thread(self.storage.feed_states)}
        for feed in self.settings.feeds:
            state = None if force else states.get(feed.id)
            until = state and waiting_until(state.consecutive_errors, state.next_poll, now)
            if until:
                message = (
                    f"attend jusqu'à {until.isoformat(timespec='minutes')} (--force : maintenant)"
                )
                waiting.append(PollReport(feed.id, "waiting", message, next_poll=until))
            else:
                ready.append(feed)
        each = self._announced if write else None  # a dry run's reports keep their articles
        reports = await self.poller.poll_many(ready, write=write, each=each, stored=states)
        await self.alerts.flush()
        return [*reports, *waiting]

    def _announced(self, report: PollReport) -> PollReport:
        """A recorded poll of a round, told as soon as it ends; the round keeps only its
        outcome (status, message, next poll), not the articles it brought."""
        self.announce([report])
        return replace(report, new=[], more=[], more_starts={})

    # ---- `relais run --once` ------------------------------------------------------------

    async def run_once(
        self, *, check_tokens: bool = True, force: bool = False
    ) -> tuple[list[PollReport], RoundReport]:
        """One poll of every feed, then everything that is due now.

        A platform that says "retry in a moment" (a 429, a 5xx) is waited for when the wait is
        short (ONCE_WAIT), so that a cron run does not leave a post behind for the next run.
        `check_tokens=False` skips asking Facebook about tokens (the offline demo). A feed
        backing off after failures or told to wait (Retry-After) is left alone until its time
        (listed in `waiting`), unless `force`.
        """
        self._configure_channels()
        await self.leadership.tick()  # Telegram only if no `relais run` leads
        if check_tokens:
            await self.tokens.check_all()
        reports = await self.poll_all(force=force)  # each one announced as it ended
        total = await self.outbox.deliver_due()
        for _ in range(ONCE_ROUNDS):
            wait = once_retry_wait(self.clock.now(), total.retry_due)
            if wait is None:
                break
            await self.clock.sleep(wait)
            total.add(await self.outbox.deliver_due())
        if self.reader is not None and self.leadership.is_leader:
            await self.reader.deliver_broadcasts()
        self.leadership.close()
        return reports, total

    # ---- `relais run` -------------------------------------------------------------------

    async def serve(self, stop: asyncio.Event) -> None:
        """Poll on schedule, deliver continuously, until `stop` is set."""
        self._configure_channels()
        self.leadership.on_elected = self._elected
        self.leadership.on_deposed = self._deposed
        self.leadership.on_beat = self._take_over_dead
        scheduler = self._scheduler()
        settle_start_up()
        self.poller.start_thread()
        scheduler.start()
        log.info(
            "Relais running: %d feed(s), %d channel(s)%s",
            len(self.settings.feeds),
            len(self.settings.channels),
            ", reader bot on" if self.reader is not None else "",
        )
        reader_task = None
        background: list[asyncio.Task[None]] = []
        try:
            reader_task = await self._start_reader(stop)
            await self.leadership.tick()  # SQLite: elected now, tokens checked before a round
            background.append(asyncio.create_task(self.leadership.run(stop)))
            if self.wakeups is not None:
                background.append(asyncio.create_task(self.wakeups.run(stop)))
            await self._delivery_loop(stop)
        finally:
            stop.set()  # whatever ended the loop, the reader's loop ends with it
            scheduler.shutdown(wait=False)
            await self.poller.stop_thread()
            await self._finish(reader_task)
            await asyncio.gather(*background, return_exceptions=True)
            self.leadership.close()
            gc.unfreeze()  # a process that serves again (tests, a reload) starts afresh

    async def _elected(self) -> None:
        """This instance leads: the once-a-day checks, the bot's updates, Telegram's queue."""
        self._prune_updates()
        await self.tokens.check_all()
        if self.reader is not None:
            await self.reader.start_updates()
            self.reader.wake()
        self._wake.set()

    def _prune_updates(self) -> None:
        if self.storage.is_postgres:
            with contextlib.suppress(StorageError):
                self.storage.prune_updates(self.clock.now() - UPDATES_KEPT)

    async def _take_over_dead(self) -> None:
        """A dead instance's `sending` rows are taken over as soon as its lease ends, not at
        this loop's next round (PostgreSQL only: a live worker's rows are never touched)."""
        found = bool(self.outbox.recover())
        if self.reader is not None:
            found = any(self.reader.recover().values()) or found
        if found:
            self._wake.set()
            await self.alerts.flush()

    async def _deposed(self) -> None:
        if self.reader is not None:
            await self.reader.stop_updates()

    def _scheduler(self) -> Any:
        """The token job and one poll job per feed (each feed at its own interval)."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = AsyncIOScheduler(timezone="UTC", logger=_SCHEDULER_LOG)
        scheduler.add_job(
            self._token_job,
            IntervalTrigger(seconds=TOKEN_EVERY.total_seconds()),
            id=TOKEN_JOB,
            coalesce=True,
            max_instances=1,
        )
        now = self.clock.now()
        states = {state.feed_id: state for state in self.storage.feed_states()}  # one query
        due = [f.id for f in self.settings.feeds if first_poll(states.get(f.id), now) == now]
        position = {feed_id: index for index, feed_id in enumerate(due)}
        concurrency = self.settings.fetch.concurrency

        # Cheap to add by the thousand: a plain function (APScheduler works out the signature
        # of a bound method anew for every job, half of its cost) and one trigger per
        # interval, shared (an interval trigger keeps no state between runs).
        async def poll(feed: FeedSettings) -> None:
            await self._poll_job(feed, scheduler)

        triggers: dict[timedelta, Any] = {}
        with collector_paused():
            for feed in self.settings.feeds:
                # No jitter here: a poll's report sets the next one (`next_poll`, which only
                # ever shortens the interval); APScheduler's jitter would lengthen it.
                wait = stagger(position.get(feed.id, 0), len(due), feed.every, concurrency)
                if feed.every not in triggers:
                    triggers[feed.every] = IntervalTrigger(seconds=feed.every.total_seconds())
                job_id = poll_job_id(feed.id)
                scheduler.add_job(
                    poll,
                    triggers[feed.every],
                    args=(feed,),
                    id=job_id,
                    name=job_id,
                    next_run_time=first_poll(states.get(feed.id), now, wait),
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=None,
                )
        return scheduler

    async def _poll_job(self, feed: FeedSettings, scheduler: Any) -> None:
        if self.leadership.several:  # another instance may have polled it: its pace holds
            ahead = polled_elsewhere(self.storage.feed_state(feed.id), self.clock.now())
            if ahead is not None:
                spread = feed.every * JITTER * random.random()  # instances do not poll in step
                with contextlib.suppress(Exception):
                    scheduler.modify_job(poll_job_id(feed.id), next_run_time=ahead + spread)
                return
        report = await self.poller.poll(feed)
        await self.alerts.flush()
        self.announce([report])
        if report.next_poll is not None:  # the feed's own pace (backoff, Retry-After)
            with contextlib.suppress(Exception):
                scheduler.modify_job(poll_job_id(feed.id), next_run_time=report.next_poll)

    async def _token_job(self) -> None:
        if not self.leadership.is_leader:
            return  # once for the cluster: the leader checks
        self._prune_updates()
        await self.tokens.check_all()
        self._wake.set()

    async def _delivery_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # a poll that ends during the round wakes the next one at once
            next_due = await self._delivery_round(stop)
            self.last_round = self.clock.now()
            await self._sleep(stop, delivery_wait(self.clock.now(), next_due))

    async def _delivery_round(self, stop: asyncio.Event) -> datetime | None:
        """One round of the outbox; the next due post's time, None when the round failed."""
        try:
            return (await self.outbox.deliver_due(stop=stop)).next_due
        except StorageError as err:
            log.error("delivery round failed: %s", err)
        except Exception:  # a bug must not stop the service: the next round tries again
            log.exception("delivery round failed")
        return None

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        """Sleep `seconds`, or until `stop` is set or the loop is woken."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        _done, pending = await asyncio.wait(
            waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()

    async def _start_reader(self, stop: asyncio.Event) -> asyncio.Task[None] | None:
        """Start the reader bot and its loop; a bot that cannot start leaves the channels be."""
        if self.reader is None:
            return None
        try:
            await self.reader.start(updates=False)  # the leader receives them (`_elected`)
            return asyncio.create_task(self.reader.run(stop))
        except Exception as err:  # the channels keep posting without the bot
            log.error("the reader bot could not start: %s", err)
            self.alerts.add(
                "Bot des lecteurs arrêté", f"le bot des lecteurs n'a pas démarré : {err}"
            )
            await self._stop_reader()
            return None

    async def _finish(self, reader_task: asyncio.Task[None] | None) -> None:
        """After the loop: the reader bot stops, and every post sent is recorded."""
        if reader_task is not None:
            with contextlib.suppress(Exception):
                await reader_task
        await self._stop_reader()
        self.outbox.flush_unrecorded()
        log.info("Relais stopped: nothing is left in 'sending'")

    async def _stop_reader(self) -> None:
        if self.reader is not None:
            try:
                await self.reader.stop()
            except Exception:
                log.exception("stopping the reader bot failed")
            self.reader = None


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT ask the service to finish what it is sending, then stop."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

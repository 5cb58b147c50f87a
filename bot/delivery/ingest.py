"""Polling one feed: fetch, parse, drop what is known, decide per channel, record in one go."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.clock import Clock
from bot.content.teaser import article_teaser
from bot.delivery.alerts import Alerts
from bot.delivery.approval import start_of
from bot.delivery.corrections import edits_for, version_of
from bot.delivery.removal import GONE_ALERT_WINDOW, gone_alert
from bot.delivery.route import decide, first_run_keep
from bot.errors import FeedError
from bot.feeds.backoff import next_poll
from bot.feeds.fetch import FeedHTTPError, Fetcher, parse_result
from bot.feeds.identity import allowed_origins, normalise_title, url_origin
from bot.feeds.parse import ParsedFeed
from bot.loop_thread import LoopThread
from bot.models import REGULAR, Article, FeedState, NewArticle, SkipReason, Start
from bot.settings import FeedSettings, Settings
from bot.storage.store import Storage

PAGE_CHECK_BYTES = 256 * 1024  # an article page is read this far to know it is still there
log = logging.getLogger("relais.feeds")
T = TypeVar("T")

REPUBLISH_WINDOW = timedelta(days=7)
ALERT_AFTER_ERRORS = 3  # one failed poll is often a blip; three in a row is an incident


@dataclass(slots=True)
class PollReport:
    feed_id: str
    status: str  # "ok" | "not_modified" | "error"
    message: str = ""
    new: list[NewArticle] = field(default_factory=list)
    more: list[tuple[str, str, SkipReason | None]] = field(default_factory=list)
    more_starts: dict[tuple[str, str], Start] = field(default_factory=dict)  # (key, channel)
    baseline: bool = False  # a first poll: what it found was already there
    carried: list[str] = field(default_factory=list)  # keys of every article in the feed now
    skipped_entries: int = 0
    next_poll: datetime | None = None
    known: list[tuple[str, Article]] = field(default_factory=list)  # (stored key, as now)
    edits: int = 0  # corrections queued by this poll

    @property
    def queued(self) -> int:
        fresh = sum(1 for item in self.new for _c, reason in item.decisions if reason is None)
        return fresh + sum(1 for _k, _c, reason in self.more if reason is None)


# Told of each recorded poll and how long it took in seconds (the service's metrics).
PollObserver = Callable[[PollReport, float], None]


def poll_state(feed: FeedSettings, stored: FeedState | None) -> FeedState:
    """The state a poll starts from: the stored one, or for a new feed, or one whose URL the
    manager changed, the configured URL (a feed keeps being baselined across a new URL)."""
    if stored is None or stored.configured_url != feed.url:
        baselined = stored.baselined if stored is not None else False
        return FeedState(feed.id, url=feed.url, configured_url=feed.url, baselined=baselined)
    return stored


class Poller:
    """Polls feeds into the storage; a feed's failure is recorded and never raised."""

    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        fetcher: Fetcher,
        *,
        clock: Clock,
        alerts: Alerts,
        rand: Callable[[], float] = random.random,
        observe: PollObserver | None = None,
    ) -> None:
        self.storage = storage
        self.settings = settings  # and the origins a page check may fetch from (the setter)
        self.fetcher = fetcher
        self.observe = observe
        self.clock = clock
        self.alerts = alerts
        self._rand = rand
        # One worker thread for what a poll does besides waiting on the network: the database
        # calls, parsing, cleaning for routing. Off the event loop, and one at a time, so that
        # the loop only ever waits for one other thread to give up the GIL (loop lag p99
        # 157 ms with the default pool of six threads at 1,000 feeds, 88 ms with one).
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relais-poll")
        # Unchanged feeds' states waiting for the worker, and the write that will take them.
        self._behind: dict[str, FeedState] = {}
        self._behind_write: Future[None] | None = None
        self._behind_lock = threading.Lock()
        self._thread: LoopThread | None = None  # the polls' own loop, once `start_thread`
        # Polls under way, never more than the fetches at once: the fetch semaphore bounds only
        # the network part, and a first round's bodies and articles waited for the worker, all
        # ten thousand at once (611 MB). Taken on the caller's loop, for a round or a job.
        self._slots = asyncio.Semaphore(settings.fetch.concurrency)

    @property
    def settings(self) -> Settings:
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        # Worked out once per configuration: at 10,000 feeds, computing it on every poll held
        # the event loop for minutes over a first round (ten thousand URLs parsed per poll).
        self._settings = settings
        self._origins = allowed_origins(settings.site.url, [f.url for f in settings.feeds])

    async def _off_loop(self, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, functools.partial(call, *args, **kwargs))

    def start_thread(self) -> None:
        """From now on the polls run on an event loop of their own, in a thread of their own
        (`relais run`). At 250 polls a second the HTTP client's own work, about 1.5 ms a poll,
        held the service's loop for a tenth of a second at a time: there, the reader bot, the
        dashboard and the deliveries do not wait for it. The fetcher is then this poller's own
        (its connections belong to that loop); `stop_thread` closes it there."""
        if self._thread is None:
            self._thread = LoopThread("relais-polls")

    async def stop_thread(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            await thread.stop(last=self.fetcher.aclose)

    async def _on_poll_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._thread is None:
            return await coro
        return await self._thread.run(coro)

    async def poll(
        self, feed: FeedSettings, *, write: bool = True, stored: FeedState | None = None
    ) -> PollReport:
        """One poll of one feed, told to the observer when it was recorded. `stored`: the
        feed's state as just read with others' (`poll_many`), else it is read now."""
        async with self._slots:
            return await self._on_poll_loop(self._timed_poll(feed, write=write, stored=stored))

    async def poll_many(
        self,
        feeds: Sequence[FeedSettings],
        *,
        write: bool = True,
        each: Callable[[PollReport], PollReport] | None = None,
        stored: Mapping[str, FeedState] | None = None,
    ) -> list[PollReport]:
        """These feeds polled at once (a round of `run --once`), their states read in one
        query rather than one each (or `stored`, when the caller has just read them). `each`
        is told of every report as its poll ends, on the caller's loop, and what it returns is
        what the round keeps, in the feeds' order (a round need not hold every article).

        As many polls run as there are fetch slots, each taking the next feed when it ends:
        one task per feed, ten thousand of them waiting for a slot, were 12 MB of a round."""
        if stored is None:
            stored = {s.feed_id: s for s in await self._off_loop(self.storage.feed_states)}
        kept: list[PollReport | None] = [None] * len(feeds)
        waiting = iter(enumerate(feeds))  # shared: each takes the next

        async def take_turns() -> None:
            for index, feed in waiting:
                report = await self.poll(feed, write=write, stored=stored.get(feed.id))
                kept[index] = each(report) if each is not None else report

        width = min(len(feeds), self.settings.fetch.concurrency)
        polls = [asyncio.create_task(take_turns()) for _ in range(width)]
        try:
            await asyncio.gather(*polls)
        except BaseException:
            for poll in polls:
                poll.cancel()
            raise
        return [report for report in kept if report is not None]

    async def _timed_poll(
        self, feed: FeedSettings, *, write: bool, stored: FeedState | None
    ) -> PollReport:
        begun = time.perf_counter()
        report = await self._poll_feed(feed, write=write, stored=stored)
        if write and self.observe is not None:
            self.observe(report, time.perf_counter() - begun)
        return report

    async def _poll_feed(
        self, feed: FeedSettings, *, write: bool, stored: FeedState | None
    ) -> PollReport:
        """One poll of one feed. With `write=False` nothing is recorded (dry runs).

        Never raises: whatever goes wrong is this feed's failure, recorded and reported.
        """
        if stored is None:
            stored = await self._off_loop(self.storage.feed_state, feed.id)
        state = poll_state(feed, stored)
        started = self.clock.now()
        try:
            return await self._poll(feed, state, started, write=write)
        except FeedError as err:
            hint = getattr(err, "retry_after", None)  # a 429/503 may say when to come back
            wait = timedelta(seconds=hint) if isinstance(hint, int | float) else None
            return await self._off_loop(
                self._failed, feed, state, str(err), started, write=write, retry_after=wait
            )
        except Exception as err:
            log.exception("feed %s: unexpected error while polling", feed.id)
            message = f"internal error: {type(err).__name__}: {err}"
            try:
                return await self._off_loop(
                    self._failed, feed, state, message, started, write=write
                )
            except Exception:  # the database itself is failing: report, record nothing
                return PollReport(feed.id, "error", message)

    async def _poll(
        self, feed: FeedSettings, state: FeedState, started: datetime, *, write: bool
    ) -> PollReport:
        fetched = await self.fetcher.fetch(
            state.url, etag=state.etag, last_modified=state.last_modified, max_bytes=feed.max_bytes
        )
        if fetched.permanent_redirect:
            log.info("feed %s moved permanently to %s", feed.id, fetched.permanent_redirect)
        body_hash = hashlib.sha256(fetched.body).hexdigest() if fetched.status == "ok" else None
        if fetched.status == "not_modified":
            report = PollReport(feed.id, "not_modified", "not modified (304)")
        elif body_hash == state.body_hash and state.baselined:
            # A server without ETag sends the same bytes again: nothing to parse.
            report = PollReport(feed.id, "not_modified", "not modified (same body)")
        else:
            parsed = await self._off_loop(parse_result, fetched, feed.id)
            # Cleaning every new article for routing reads the database and takes CPU: off the
            # event loop, so that a hostile feed never holds the other feeds or the reader bot.
            report = await self._off_loop(self._ingest, feed, state, parsed, started)
        now = self.clock.now()
        report.next_poll = next_poll(now, feed.every, 0, self._rand())
        unchanged = report.status == "not_modified"
        new_state = replace(
            state,
            url=fetched.permanent_redirect or state.url,
            etag=fetched.etag or (state.etag if unchanged else None),
            last_modified=fetched.last_modified or (state.last_modified if unchanged else None),
            last_poll=now,
            last_result=report.message,
            next_poll=report.next_poll,
            consecutive_errors=0,
            failing_since=None,
            baselined=state.baselined or not unchanged,
            body_hash=body_hash or state.body_hash,
        )
        if write:
            if unchanged:
                await self._save_unchanged(new_state)
            else:
                await self._record(feed, report, new_state, now)
            if state.consecutive_errors >= ALERT_AFTER_ERRORS:
                self.alerts.add(
                    "Flux rétabli",
                    f"{feed.id} répond de nouveau ({state.consecutive_errors} échecs)",
                )
        return report

    async def _record(
        self, feed: FeedSettings, report: PollReport, new_state: FeedState, now: datetime
    ) -> None:
        """What a poll that read the feed found: its articles and the feed's state (baselined,
        ETag) in one transaction, for a crash between them would make the next poll take new
        articles for a first poll's. Then the corrections, and the posts that vanished."""
        recorded = set(
            await self._off_loop(
                self.storage.record,
                report.new,
                now,
                feed_state=new_state,
                more=report.more,
                more_starts=report.more_starts,
                sighted=report.carried,
            )
        )
        report.new = [i for i in report.new if i.article.key in recorded]
        if report.known:
            report.edits = await self._off_loop(
                self._corrections, report.known, now, strip=feed.strip
            )
        await self._vanished(feed, report.carried, now)
        report.known, report.carried = [], []  # this poll's own working lists: used up
        if report.baseline:  # counted from what this instance's insert wrote
            log.info(
                "feed %s: first poll, %d articles recorded, %d to post (first_run=%s)",
                feed.id,
                len(report.new),
                sum(1 for i in report.new if any(r is None for _c, r in i.decisions)),
                feed.first_run,
            )

    async def _save_unchanged(self, state: FeedState) -> None:
        """A poll that found nothing new writes only the feed's state (its time, its ETag):
        the states of the polls that end while the worker is busy are written together, in
        one transaction (at 250 polls a second, one commit each was the worker's limit).
        Returns once this state is written, as a recorded poll does."""
        with self._behind_lock:
            self._behind[state.feed_id] = state
            if self._behind_write is None:
                self._behind_write = self._worker.submit(self._write_behind)
            written = self._behind_write
        await asyncio.wrap_future(written)

    def _write_behind(self) -> None:
        """In the worker: the states waiting to be written, in one transaction."""
        with self._behind_lock:
            states, self._behind, self._behind_write = self._behind, {}, None
        self.storage.save_feed_states(list(states.values()))

    def _failed(
        self,
        feed: FeedSettings,
        state: FeedState,
        message: str,
        now: datetime,
        *,
        write: bool,
        retry_after: timedelta | None = None,
    ) -> PollReport:
        errors = state.consecutive_errors + 1
        when = next_poll(now, feed.every, errors, self._rand(), retry_after=retry_after)
        log.warning("feed %s: %s (failure %d in a row)", feed.id, message, errors)
        if write:
            if errors == ALERT_AFTER_ERRORS:
                self.alerts.add("Flux en panne", f"{feed.id} : {message}")
            self.storage.save_feed_state(
                replace(
                    state,
                    last_poll=now,
                    last_result=f"error: {message}",
                    next_poll=when,
                    consecutive_errors=errors,
                    failing_since=state.failing_since or now,
                )
            )
        return PollReport(feed.id, "error", message, next_poll=when)

    def _ingest(
        self, feed: FeedSettings, state: FeedState, parsed: ParsedFeed, now: datetime
    ) -> PollReport:
        """What this poll brings: the new articles and each channel's decision (not recorded)."""
        for entry in parsed.skipped:
            log.info("feed %s: entry %r skipped: %s", feed.id, entry.title, entry.reason)
        if parsed.warning:
            log.info("feed %s: %s", feed.id, parsed.warning)
        known = self.storage.known_keys(parsed.articles)
        fresh = [a for a in parsed.articles if a.key not in known]
        baseline = not state.baselined
        # On a first poll, first_run picks among everything the feed holds (known or not).
        keep = first_run_keep(parsed.articles, feed.first_run_latest) if baseline else None
        channels = self.settings.channels
        items: list[NewArticle] = []
        norms = [normalise_title(article.title) for article in fresh]
        twins = self.storage.recent_titles(feed.id, norms, now - REPUBLISH_WINDOW)
        for article, title_norm in zip(fresh, norms, strict=True):
            twin = twins.get(title_norm)
            if twin is None:
                twin = next(
                    (i.article.key for i in items if i.title_norm == title_norm and title_norm),
                    None,
                )
            text = article_teaser(article, 1000, extra_patterns=feed.strip)
            decisions = decide(
                article,
                channels,
                now=now,
                baseline=keep is not None and article.key not in keep,
                text=text,
            )
            pairs = [(d.channel_id, d.skip_reason) for d in decisions]
            if twin is not None:
                pairs = [(c, SkipReason.REPUBLISHED) for c, _r in pairs]
            starts = self._starts(article, [c for c, reason in pairs if reason is None], text)
            items.append(NewArticle(article, title_norm, pairs, duplicate_of=twin, starts=starts))
        more = self._reached_again(feed, parsed.articles, known, keep=keep, now=now)
        more_starts: dict[tuple[str, str], Start] = {}
        for article in parsed.articles:
            key = known.get(article.key)
            queued = [c for k, c, reason in more if k == key and reason is None]
            if key is not None and queued:
                text = article_teaser(article, 1000, extra_patterns=feed.strip)
                for channel_id, start in self._starts(article, queued, text).items():
                    more_starts[key, channel_id] = start
        message = f"{len(parsed.articles)} entries, {len(items)} new"
        if more:
            message += f", {len(more)} more channel(s) for articles seen in another feed"
        if baseline:
            message += f" (first poll: first_run={feed.first_run})"
        return PollReport(
            feed.id,
            "ok",
            message,
            new=items,
            more=more,
            more_starts=more_starts,
            skipped_entries=len(parsed.skipped),
            baseline=baseline,
            carried=[known.get(a.key, a.key) for a in parsed.articles],
            known=[(known[a.key], a) for a in parsed.articles if a.key in known],
        )

    def _corrections(
        self, known: Sequence[tuple[str, Article]], now: datetime, *, strip: Sequence[str]
    ) -> int:
        """Articles already posted that the feed now shows changed: the edits `edits_for`
        decides (a new title, a lead changed beyond a typo, a new image, within each
        channel's `update_window`), recorded with the article as it is now. How many."""
        platforms = {c.id: (c.type, c.update_window) for c in self.settings.channels}
        windows = [w for _t, w in platforms.values() if w > timedelta(0)]
        if not known or not windows:
            return 0
        posted = self.storage.posted_of([key for key, _a in known], now - max(windows))
        added = 0
        for key, article in known:
            if key not in posted:
                continue
            shows = version_of(article, strip=strip)
            edits = edits_for(posted[key], shows, platforms=platforms, at=now)
            if edits:
                added += self.storage.record_correction(key, article, edits, now)
                log.info("article %s changed: %s", key, "; ".join(e.plan.why for e in edits))
        return added

    async def _vanished(self, feed: FeedSettings, carried: Sequence[str], now: datetime) -> None:
        """Posts whose article just left the feed soon after posting: is it gone from the site
        (404/410, `removal.gone_alert`)? Then the admins get an alert with a one-tap delete.
        Each post's URL is checked once, when its article leaves the feed."""
        if not carried:
            return  # an empty or unreadable feed says nothing about its articles
        vanished = await self._off_loop(
            self.storage.vanished_posts, feed.id, carried, now - GONE_ALERT_WINDOW
        )
        for delivery, title, url in vanished:
            if url_origin(url) not in self._origins:
                continue  # only the site's own pages are checked
            try:
                await self.fetcher.fetch(url, max_bytes=PAGE_CHECK_BYTES, origins=self._origins)
                continue
            except FeedHTTPError as err:
                status = err.status
            except FeedError:
                continue  # unreachable is not gone
            if gone_alert(status, sent_at=delivery.sent_at, now=now):
                self.alerts.add(
                    f"Article retiré du site ({status})",
                    f"« {title} » (#{delivery.id} sur {delivery.channel_id}) : /delete "
                    f"{delivery.id} pour retirer la publication",
                    action=(f"🗑 Supprimer #{delivery.id}", f"del:{delivery.id}"),
                )
        if vanished:
            await self._off_loop(
                self.storage.mark_gone_checked, [d.id for d, _t, _u in vanished], now
            )

    def _starts(self, article: Article, channel_ids: Sequence[str], text: str) -> dict[str, Start]:
        """How the article starts on each channel it is queued for (urgent, pending), where
        that is not the regular schedule."""
        by_id = {c.id: c for c in self.settings.channels}
        found = {c: start_of(article, by_id[c], text=text) for c in channel_ids if c in by_id}
        return {c: start for c, start in found.items() if start != REGULAR}

    def _reached_again(
        self,
        feed: FeedSettings,
        articles: Sequence[Article],
        known: Mapping[str, str],
        *,
        keep: set[str] | None,
        now: datetime,
    ) -> list[tuple[str, str, SkipReason | None]]:
        """Deliveries for known articles that this feed brings for the first time to channels
        which follow it and do not have them yet: a story first seen in the main feed, now in
        the sport feed that only the sport channel follows. An article the feed carried before
        is not news (a channel that starts following the feed does not get its backlog), and a
        channel only gets articles first seen after it was configured."""
        if not known:
            return []
        existing = list(set(known.values()))
        carried = self.storage.carried(feed.id, existing)  # not news to this feed's readers
        created = self.storage.channels_created([c.id for c in self.settings.channels])
        seen = self.storage.seen([k for k in existing if k not in carried])
        more: list[tuple[str, str, SkipReason | None]] = []
        for article in articles:
            key = known.get(article.key)
            if key is None or key not in seen:
                continue
            first_seen, has = seen[key]
            channels = [
                c
                for c in self.settings.channels
                if c.id not in has and created.get(c.id, now) <= first_seen
            ]
            if not channels:
                continue
            text = article_teaser(article, 1000, extra_patterns=feed.strip)
            baseline = keep is not None and article.key not in keep
            for decision in decide(article, channels, now=now, baseline=baseline, text=text):
                more.append((key, decision.channel_id, decision.skip_reason))
                has.add(decision.channel_id)
        return more

"""Which instance leads, on a beat: the leader lock tried (or checked), the heartbeat renewed.

The leader owns the bot's updates, every Telegram send (channel posts, broadcasts, digests,
replies: one rate limiter holds Telegram's limits for the cluster) and the once-a-day jobs
(Facebook token checks). Every instance polls feeds and delivers the other platforms' channels.
A killed leader's lock goes with its database connection; another instance takes it at its next
beat (LEADER_BEAT) and starts sending one BOT_WIDE_WINDOW later, so that its rate limiter's
first burst does not add to the old leader's last one. On SQLite the one instance leads from
the first beat, and nothing beats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.delivery.telegram_rates import BOT_WIDE_WINDOW
from bot.errors import StorageError
from bot.storage.leases import LeaderLock
from bot.storage.outbox import HEARTBEAT_EVERY
from bot.storage.store import Storage

log = logging.getLogger("relais.cluster")

LEADER_BEAT = timedelta(seconds=2)  # a free lock is taken within this (plus the start of updates)

Hook = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class Leadership:
    """This instance's standing among the others on one database (see the module docstring)."""

    def __init__(
        self,
        storage: Storage,
        *,
        worker: str,
        clock: Clock,
        lock: LeaderLock | None = None,
        beat: timedelta = LEADER_BEAT,
    ) -> None:
        self.storage = storage
        self.worker = worker
        self.clock = clock
        self.lock = lock or LeaderLock(storage.db)
        self.beat = beat
        self.is_leader = False
        self._renewed: datetime | None = None
        self.on_elected: Hook = _nothing
        self.on_deposed: Hook = _nothing
        self.on_beat: Hook = _nothing  # several instances: take over the dead's rows

    @property
    def several(self) -> bool:
        """Several instances may share the database (PostgreSQL)."""
        return not self.lock.always

    def leads(self) -> bool:
        return self.is_leader

    async def tick(self) -> None:
        """One beat: renew the heartbeat when due, take over a dead instance's rows, then take
        or check the leader lock."""
        if self.several:
            self.renew()
            await self._call(self.on_beat, "taking over a dead instance's rows")
        if self.is_leader:
            if not self.lock.held():
                self.is_leader = False
                log.error(
                    "%s lost the leadership (its database connection): it stops "
                    "answering the bot and sending to Telegram until elected again",
                    self.worker,
                )
                await self._call(self.on_deposed, "stepping down")
        elif self.lock.acquire():
            if self.several:  # the old leader's last second of sends has left Telegram's count
                await asyncio.sleep(BOT_WIDE_WINDOW.total_seconds())
            self.is_leader = True
            if self.several:
                log.info("%s leads: it owns the bot's updates and the Telegram sends", self.worker)
            await self._call(self.on_elected, "taking the lead")

    def renew(self) -> bool:
        """The heartbeat, every HEARTBEAT_EVERY (a failure is retried at the next beat); True
        when it was renewed now."""
        now = self.clock.now()
        if self._renewed is not None and now - self._renewed < HEARTBEAT_EVERY:
            return False
        try:
            self.storage.renew_lease(self.worker, now)
        except StorageError as err:
            log.warning("heartbeat of %s not renewed: %s", self.worker, err)
            return False
        self._renewed = now
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Beat until `stop` (on SQLite there is nothing to beat for once elected)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.beat.total_seconds())
            if stop.is_set() or not self.several:
                return
            await self.tick()

    def close(self) -> None:
        """A clean stop: the lock and the heartbeat row are given up."""
        self.lock.release()
        self.is_leader = False
        if self.several:
            with contextlib.suppress(StorageError):
                self.storage.drop_lease(self.worker)

    async def _call(self, hook: Hook, doing: str) -> None:
        try:
            await hook()
        except Exception:  # the beat goes on; the next election or check tries again
            log.exception("%s failed while %s", self.worker, doing)

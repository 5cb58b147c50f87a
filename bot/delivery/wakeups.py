"""Wake-ups across instances: PostgreSQL's LISTEN on the NOTIFY that new work raises.

The triggers of `bot/storage/work_signal.py` notify `relais_work` whenever a row becomes due
(new deliveries and broadcasts, a retry written with its time, an admin's /retry or /resume),
whoever wrote it. Every instance listens on a connection of its own and wakes its delivery loop
and its reader bot at once; the idle wake (30 s) stays as the fallback for a lost connection.
SQLite has one instance, which wakes itself in memory: nothing listens there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from bot.storage.work_signal import CHANNEL

log = logging.getLogger("relais.cluster")

RECONNECT_AFTER = (1.0, 2.0, 5.0, 10.0)  # seconds, then the last one again
LISTEN_SLICE = 1.0  # seconds: how often the listener looks at `stop`


def conninfo(url: sa.URL) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (its `options`, e.g. search_path, kept)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Wakeups:
    """Listens for new work and calls every `wake` callback on this instance's loop."""

    def __init__(self, url: sa.URL, wakes: Sequence[Callable[[], None]]) -> None:
        self._conninfo = conninfo(url)
        self._wakes = list(wakes)
        self.listening = asyncio.Event()  # set while LISTEN is in place (tests wait on it)
        self.received = 0

    def wake(self) -> None:
        for wake in self._wakes:
            wake()

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until `stop`; a lost connection is opened again (and wakes everyone, since
        a notification may have been missed meanwhile)."""
        failures = 0
        while not stop.is_set():
            try:
                await self._listen(stop)
                return
            except Exception as err:  # psycopg's OperationalError and the like
                self.listening.clear()
                delay = RECONNECT_AFTER[min(failures, len(RECONNECT_AFTER) - 1)]
                failures += 1
                log.warning("listening for new work failed (%s); again in %.0f s", err, delay)
                self.wake()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)

    async def _listen(self, stop: asyncio.Event) -> None:
        import psycopg

        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
            row = await (await conn.execute("SELECT current_schema()")).fetchone()
            schema = str(row[0]) if row else ""
            await conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            try:
                while not stop.is_set():
                    async for notice in conn.notifies(timeout=LISTEN_SLICE):
                        if notice.payload == schema:
                            self.received += 1
                            self.wake()
                        if stop.is_set():
                            break
            finally:
                self.listening.clear()

"""Fan-out benchmark: one article to N subscribers against a Bot API that allows 30 msg/s.

Through the real reader bot and the shared bot as `make_bot` builds it (python-telegram-bot's
AIORateLimiter, 30 messages a second), against the fake Bot API on 127.0.0.1 (in a process of
its own) that enforces 30 messages a second and answers 429 beyond.

    .venv/bin/python bench/fanout.py                  # 10,000 subscribers (about 6 minutes)
    .venv/bin/python bench/fanout.py --subscribers 1500

The server's limit is a token bucket: at most `--limit` messages in a burst and `--limit` a
second sustained, measured on arrival (the same contract AIORateLimiter keeps on its side).
`--jitter-ms` lets the server accept a message that many milliseconds early, for the network
jitter between the client's limiter and the server's clock (0: none). `--client-rate R` is an
experiment only: the same bot with AIORateLimiter(overall_max_rate=R) instead of make_bot's 30.
It prints what the server saw: messages a second, 429s answered (and when), the most messages in
any one-second window.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.feeds.identity import article_key, canonical_url, normalise_title
from bot.models import Article, NewArticle
from bot.publishers.telegram import make_bot
from bot.settings import settings_from_mapping
from bot.storage import tables as t
from bot.storage.store import Storage
from bot.telegram_bot.service import ReaderBot
from tests.fakes.telegram_api import FakeTelegram, Reply

FIRST_USER = 100_000


class Enforcer:
    """The server's rate limit on private messages: a token bucket (`limit` tokens, `limit` a
    second), judged on arrival time; a message with no token left gets a 429."""

    def __init__(self, limit: int, jitter: float) -> None:
        self.limit = limit
        self.jitter = jitter
        self.tokens = float(limit)
        self.last: float | None = None
        self.accepted: list[float] = []
        self.refused = 0
        self.refused_at: list[float] = []
        self._lock = threading.Lock()

    def over(self, params: dict[str, Any]) -> bool:
        """Called by the fake for every sendMessage: True answers it with a 429."""
        if int(str(params.get("chat_id", "0"))) <= 0:
            return False
        with self._lock:
            now = time.monotonic()
            if self.last is not None:
                self.tokens = min(self.limit, self.tokens + (now - self.last) * self.limit)
            self.last = now
            if self.tokens + self.jitter * self.limit < 1:
                self.refused += 1
                self.refused_at.append(now)
                return True
            self.tokens -= 1
            self.accepted.append(now)
            return False

    def busiest_second(self) -> int:
        times = self.accepted
        return max((i - bisect_left(times, at - 1.0) + 1 for i, at in enumerate(times)), default=0)


def article() -> Article:
    url = "https://bamada.net/2026/11/02/attaque-repoussee-a-diafarabe/"
    canon = canonical_url(url)
    return Article(
        feed_id="bamada",
        key=article_key(canon),
        guid=None,
        url=url,
        canonical_url=canon,
        title="Sécurité : une attaque repoussée à Diafarabé",
        published=None,
        categories=("Sécurité",),
        content_html="<p>Les forces armées ont repoussé lundi une attaque contre le poste de "
        "Diafarabé, dans la région de Mopti, selon un communiqué de l'état-major.</p>",
    )


def add_subscribers(storage: Storage, count: int, now: Any) -> None:
    users = range(FIRST_USER, FIRST_USER + count)
    with storage.engine.begin() as conn:
        conn.execute(
            t.subscribers.insert(),
            [{"user_id": u, "chat_id": u, "created_at": now, "updated_at": now} for u in users],
        )
        conn.execute(
            t.subscriptions.insert(),
            [
                {"user_id": u, "topic": "securite", "label": "Sécurité", "created_at": now}
                for u in users
            ],
        )


def experimental_bot(settings: Any, rate: float) -> Any:
    """make_bot's client with another overall rate (for --client-rate experiments only)."""
    from telegram.ext import AIORateLimiter, ExtBot

    plain = make_bot(settings.telegram, rate_limited=False)
    limiter = AIORateLimiter(
        overall_max_rate=rate,
        overall_time_period=1,
        group_max_rate=20,
        group_time_period=60,
        max_retries=0,
    )
    return ExtBot(
        plain.token,
        base_url=settings.telegram.api_url,
        request=plain._request[1],
        rate_limiter=limiter,
    )


def serve(conn: Any, count: int, limit: int, jitter: float) -> None:
    """The fake Bot API in a process of its own (so that its threads do not share the client's
    GIL and skew arrival times): registers the readers' chats, enforces the limit, and reports
    what it saw when told to stop."""
    enforcer = Enforcer(limit, jitter)
    with FakeTelegram() as tg:
        for user in range(FIRST_USER, FIRST_USER + count):
            tg.set_chat(user, type="private", first_name="Lecteur")
        tg.inject("sendMessage", Reply.flood(1), times=10**9, match=enforcer.over)
        conn.send((tg.token, tg.base_url))
        conn.recv()
        conn.send((enforcer.accepted, enforcer.refused_at, enforcer.busiest_second()))


async def run(count: int, limit: int, jitter_ms: float, client_rate: float | None) -> int:
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    server = spawn.Process(target=serve, args=(theirs, count, limit, jitter_ms / 1000))
    server.start()
    try:
        token, base_url = ours.recv()
        with tempfile.TemporaryDirectory() as tmp:
            sent, queued, elapsed, states = await deliver(count, token, base_url, tmp, client_rate)
        ours.send("stop")
        arrivals, refused_at, busiest = ours.recv()
    finally:
        server.join(10)
        if server.is_alive():
            server.terminate()
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    print(f"subscribers            {count}")
    print(f"broadcasts queued      {queued}")
    print(f"messages delivered     {sent}  (rows: {states})")
    print(f"429 answered           {len(refused_at)}", end="")
    if refused_at and arrivals:
        print(" at", ", ".join(f"{at - arrivals[0]:.2f} s" for at in refused_at[:10]), end="")
    print()
    print(f"wall time              {elapsed:.1f} s")
    print(f"messages/s (overall)   {sent / elapsed:.2f}")
    if span:
        print(f"messages/s (server)    {(len(arrivals) - 1) / span:.2f}")
    print(f"busiest 1-s window     {busiest} messages")
    print(f"server limit           {limit}/s, bursts of {limit}, jitter allowance {jitter_ms:g} ms")
    client = "as make_bot sets it" if client_rate is None else f"{client_rate:g}/s"
    print(f"client rate limiter    {client}")
    return 0 if sent == count else 1


async def deliver(
    count: int, token: str, base_url: str, tmp: str, client_rate: float | None
) -> tuple[int, int, float, dict[str, int]]:
    """Queue one article for `count` subscribers and deliver it all, waiting out any 429."""
    settings = settings_from_mapping(
        {
            "site": {"name": "Bamada.net", "url": "https://bamada.net"},
            "telegram": {"token": token, "api_url": base_url},
        },
        env={},
    )
    storage = Storage.open(f"sqlite:///{Path(tmp) / 'relais.db'}")
    if client_rate is None:
        bot = make_bot(settings.telegram)  # rate limited, exactly as the service runs it
    else:
        bot = experimental_bot(settings, client_rate)
    await bot.initialize()
    try:
        reader = ReaderBot(settings, storage, bot=bot)
        now = reader.clock.now()
        add_subscribers(storage, count, now)
        item = article()
        storage.record([NewArticle(item, normalise_title(item.title), [])], now)
        queued = reader.on_new_articles([item], now)
        started = time.monotonic()
        sent = 0
        while True:
            sent += await reader.deliver_broadcasts()
            due = reader.broadcaster.next_due()
            if due is None:
                break
            await asyncio.sleep(max(0.0, (due - reader.clock.now()).total_seconds()))
        elapsed = time.monotonic() - started
        states = reader.readers.broadcast_counts()
    finally:
        await bot.shutdown()
        storage.close()
    return sent, queued, elapsed, states


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=30, help="messages a second the server allows")
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--client-rate", type=float, default=None, help="experiment only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(run(args.subscribers, args.limit, args.jitter_ms, args.client_rate))


if __name__ == "__main__":
    sys.exit(main())

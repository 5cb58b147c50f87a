"""Several instances benchmark: 1 and 3 `relais run` processes on one PostgreSQL schema.

Real processes, against the fakes on 127.0.0.1 (the Bot API with Telegram's limits on: 30
messages a second, 20 a minute per channel, 429 beyond; the Graph API with a POST latency):

* limit-bound: `--posts` posts on 2 Telegram channels and one article broadcast to `--readers`
  readers: posts a minute, time to drain, 429s answered;
* not limit-bound: `--pages` Facebook Pages without a gap, `--page-posts` posts each, every POST
  taking `--latency` seconds: time to drain;
* takeover: kill -9 of the leader → the bot answers again; kill -9 of an instance holding
  `sending` rows → another takes them over (the heartbeat lease).

    .venv/bin/python bench/instances.py                        # about 12 minutes
    .venv/bin/python bench/instances.py --posts 60 --readers 500   # about 4 minutes
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.models import DeliveryState
from bot.storage.store import Storage
from tests.conftest import fresh_schema
from tests.e2e.cluster import (
    TOPIC_LABEL,
    Cluster,
    facebook_channel,
    prepare,
    rss,
    site_config,
    telegram_channel,
)
from tests.fakes.feed_server import FeedServer
from tests.fakes.graph_api import GraphApiServer, TokenInfo
from tests.fakes.telegram_api import FakeTelegram, message_update
from tests.waiting import wait_until

POSTGRES = os.environ.get(
    "RELAIS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CHANNELS = {"tg-a": (-1001000000001, "sahel_a"), "tg-b": (-1001000000002, "sahel_b")}
S = DeliveryState


def schema() -> contextlib.AbstractContextManager[str]:
    """A fresh schema of the PostgreSQL database, dropped afterwards."""
    return fresh_schema(POSTGRES, "relais_bench")


def drained(storage: Storage) -> bool:
    states = {d.state for d in storage.deliveries()}
    counts = storage.broadcast_counts()
    return (
        bool(states)
        and states <= {S.SENT, S.UNKNOWN}
        and not (counts.get("queued") or counts.get("sending"))
    )


@dataclass
class Drain:
    instances: int
    posts: int
    seconds: float
    per_minute: float
    broadcasts: int = 0
    floods: int = 0


def limit_bound(instances: int, posts: int, readers: int, workdir: Path) -> Drain:
    """`posts` posts on 2 Telegram channels (each article to both), one of them broadcast."""
    articles = posts // len(CHANNELS)
    with FakeTelegram(limits=True) as tg, FeedServer() as feeds, schema() as db:
        for chat, name in CHANNELS.values():
            tg.set_chat(chat, username=name, title=name)
        # One article (the first) is in the readers' topic: a broadcast to every reader.
        feeds.set("/feed", rss(1, articles, category=lambda i: TOPIC_LABEL if i == 1 else "Éco"))
        for chat in prepare(db, feeds.url("/feed"), readers):
            tg.set_chat(chat, type="private", bot_status=None)
        channels = [telegram_channel(cid, f"@{name}") for cid, (_c, name) in CHANNELS.items()]
        telegram = {"token": tg.token, "api_url": tg.base_url}
        cluster = Cluster(workdir, site_config(db, feeds.url("/feed"), channels, telegram=telegram))
        storage = Storage.open(db)
        try:
            for _ in range(instances):
                cluster.start()
            start = time.monotonic()
            wait_until(lambda: drained(storage), 3600, step=0.5)
            seconds = time.monotonic() - start
            counts = storage.broadcast_counts()
            sent = counts.get("sent", 0)
            if set(counts) != {"sent"}:
                print(f"  broadcasts: {counts}")
        finally:
            cluster.stop()
            storage.close()
        times = sorted(
            c.at
            for c in tg.calls()
            if c.status == 200 and str(c.params.get("chat_id", "")).startswith("@")
        )
        span = (times[-1] - times[0]) if len(times) > 1 else 0.0
        per_minute = (len(times) - 1) / span * 60 if span else 0.0
        return Drain(instances, len(times), seconds, per_minute, sent, len(tg.floods))


def not_limit_bound(instances: int, pages: int, each: int, latency: float, workdir: Path) -> Drain:
    """`pages` Facebook Pages without a gap, `each` posts each, every POST `latency` s."""
    ids = [str(300_000_000_000_000 + n) for n in range(pages)]
    tokens = {f"EAAbench{n}token": TokenInfo(profile_id=page) for n, page in enumerate(ids)}
    with (
        GraphApiServer(tokens=tokens, pages={p: f"Page {p}" for p in ids}) as graph,
        FeedServer() as feeds,
        schema() as db,
    ):
        graph.post_latency = latency
        feeds.set("/feed", rss(1, each, category=lambda _i: "Éco"))
        prepare(db, feeds.url("/feed"), 0)
        channels = [
            facebook_channel(f"fb-{n}", page, f"FB_TOKEN_{n}") for n, page in enumerate(ids)
        ]
        config = site_config(db, feeds.url("/feed"), channels, graph_url=graph.base_url)
        env = {f"FB_TOKEN_{n}": token for n, token in enumerate(tokens)}
        cluster = Cluster(workdir, config, env=env)
        storage = Storage.open(db)
        try:
            for _ in range(instances):
                cluster.start()
            wait_until(lambda: storage.deliveries(), 60)  # the first poll (every instance polls)
            first = time.monotonic()
            wait_until(lambda: drained(storage), 3600, step=0.2)
            seconds = time.monotonic() - first
        finally:
            cluster.stop()
            storage.close()
        posted = len(graph.posts)
        return Drain(instances, posted, seconds, posted / seconds * 60 if seconds else 0.0)


def takeover(workdir: Path) -> tuple[float, float]:
    """Seconds from a kill -9 of the leader to the bot answering again, and from a kill -9 of an
    instance holding `sending` rows to their takeover by another (made `unknown`)."""
    with FakeTelegram(limits=True) as tg, FeedServer() as feeds, schema() as db:
        feeds.set("/feed", rss(1, 1))
        prepare(db, feeds.url("/feed"), 0)
        tg.set_chat(-1001000000001, username="sahel_a", title="sahel_a")
        telegram = {"token": tg.token, "api_url": tg.base_url}
        channels = [telegram_channel("tg-a", "@sahel_a")]
        cluster = Cluster(
            workdir / "bot", site_config(db, feeds.url("/feed"), channels, telegram=telegram)
        )
        try:
            for _ in range(3):
                cluster.start()
            wait_until(cluster.leader, 60)
            leader = cluster.leader()
            assert leader is not None
            time.sleep(2)  # settled
            cluster.kill(leader)
            killed = time.monotonic()
            tg.set_chat(990_001, type="private", bot_status=None)
            tg.push_update(message_update("/help", chat_id=990_001))
            wait_until(lambda: tg.messages(990_001), 120, step=0.05)
            bot = time.monotonic() - killed
        finally:
            cluster.stop()
    ids = ["300000000000001"]
    tokens = {"EAAbenchslow": TokenInfo(profile_id=ids[0])}
    with (
        GraphApiServer(tokens=tokens, pages={ids[0]: "Page"}) as graph,
        FeedServer() as feeds,
        schema() as db,
    ):
        graph.post_latency = 4.0  # long enough to kill the process while it waits
        feeds.set("/feed", rss(1, 3, category=lambda _i: "Éco"))
        prepare(db, feeds.url("/feed"), 0)
        config = site_config(
            db,
            feeds.url("/feed"),
            [facebook_channel("fb", ids[0], "FB_TOKEN")],
            graph_url=graph.base_url,
        )
        cluster = Cluster(workdir / "rows", config, env={"FB_TOKEN": "EAAbenchslow"})
        storage = Storage.open(db)
        try:
            holder = cluster.start()
            wait_until(lambda: storage.deliveries(states=[S.SENDING]), 60, step=0.05)
            cluster.start()  # the instance that will take over
            time.sleep(1)
            cluster.kill(holder)
            killed = time.monotonic()
            wait_until(lambda: not storage.deliveries(states=[S.SENDING]) or None, 300, step=0.2)
            rows = time.monotonic() - killed
        finally:
            cluster.stop()
            storage.close()
    return bot, rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--readers", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--page-posts", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="relais-bench-") as tmp:
        work = Path(tmp)
        print(
            f"limit-bound: {args.posts} posts on 2 Telegram channels, "
            f"a broadcast to {args.readers} readers"
        )
        bound = [limit_bound(n, args.posts, args.readers, work / f"bound-{n}") for n in (1, 3)]
        for d in bound:
            print(
                f"  {d.instances} instance(s): drained in {d.seconds:6.1f} s, {d.per_minute:5.1f} "
                f"posts/min, {d.broadcasts} broadcasts sent, {d.floods} answers of 429"
            )
        print(f"  3 vs 1: {bound[0].seconds / bound[1].seconds:.2f}x")
        print(
            f"not limit-bound: {args.pages} Facebook Pages x {args.page_posts} posts, "
            f"{args.latency:.1f} s a POST"
        )
        free = [
            not_limit_bound(n, args.pages, args.page_posts, args.latency, work / f"free-{n}")
            for n in (1, 3)
        ]
        for d in free:
            print(
                f"  {d.instances} instance(s): {d.posts} posts in {d.seconds:6.1f} s, "
                f"{d.per_minute:6.1f} posts/min"
            )
        print(f"  3 vs 1: {free[0].seconds / free[1].seconds:.2f}x")
        bot, rows = takeover(work / "takeover")
        print(f"takeover: kill -9 of the leader -> the bot answers again in {bot:.1f} s")
        print(f"takeover: kill -9 of a worker -> its 'sending' rows taken over in {rows:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

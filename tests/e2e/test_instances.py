"""Three `relais run` processes on one PostgreSQL schema, the reader bot on, Telegram's limits on.

Against the fake Bot API answering 429 beyond 30 messages a second and 20 a minute per channel,
with kill -9s of the leader during the channel posts and during a broadcast: no post twice,
none lost (a post left uncertain by a kill is flagged `unknown` and retried by the admin), not
one 429, and each reader command answered once. And the failover alone: the bot's owner killed,
its updates answered again by another instance within 30 s, none twice.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.models import DeliveryState
from bot.storage.store import Storage
from tests.e2e.cluster import Cluster, prepare, rss, site_config, telegram_channel
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram, message_update
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

S = DeliveryState
CHANNELS = {"tg-a": (-1001000000001, "sahel_a"), "tg-b": (-1001000000002, "sahel_b")}
ARTICLES = 21  # one more than a channel may take in a minute
READERS = 30
TAKEOVER = 30.0  # seconds: the bound for a new owner of the bot
NUMBER = re.compile(r"n°(\d+)")


def numbers(messages: list[dict]) -> list[int]:
    """The article numbers of the messages of a chat (titles end in "(n°12)")."""
    found = []
    for message in messages:
        match = NUMBER.search(message.get("text") or message.get("caption") or "")
        if match:
            found.append(int(match.group(1)))
    return found


def channel_posts(tg: FakeTelegram) -> int:
    return sum(len(tg.messages(chat)) for chat, _name in CHANNELS.values())


def site(tg: FakeTelegram, feeds: FeedServer, db_url: str, *, readers: int) -> list[int]:
    for chat, name in CHANNELS.values():
        tg.set_chat(chat, username=name, title=f"Sahel-Actu {name}")
    chats = prepare(db_url, feeds.url("/feed"), readers)
    for chat in chats:
        tg.set_chat(chat, type="private", bot_status=None)
    return chats


def config(tg: FakeTelegram, feeds: FeedServer, db_url: str) -> dict:
    channels = [telegram_channel(cid, f"@{name}") for cid, (_c, name) in CHANNELS.items()]
    return site_config(
        db_url,
        feeds.url("/feed"),
        channels,
        telegram={"token": tg.token, "api_url": tg.base_url},
    )


def ask(tg: FakeTelegram, users: list[int]) -> None:
    for user in users:
        tg.set_chat(user, type="private", bot_status=None)
        tg.push_update(message_update("/help", chat_id=user, first_name="Moussa"))


def answered(tg: FakeTelegram, users: list[int]) -> bool:
    return all(tg.messages(user) for user in users)


def kill_leader(cluster: Cluster) -> float:
    """kill -9 the leader, start a new instance in its place; when the kill happened."""
    leader = wait_for_leader(cluster)
    cluster.kill(leader)
    killed = time.monotonic()
    cluster.start()
    return killed


def wait_for_leader(cluster: Cluster):
    wait_until(cluster.leader, TAKEOVER)
    leader = cluster.leader()
    assert leader is not None
    return leader


def settled(storage: Storage) -> bool:
    deliveries = {d.state for d in storage.deliveries()}
    broadcasts = storage.broadcast_counts()
    return deliveries <= {S.SENT, S.UNKNOWN} and not (
        broadcasts.get("queued") or broadcasts.get("sending")
    )


def test_three_instances_keep_the_limits_through_kills(tmp_path: Path, postgres_url: str) -> None:
    with FakeTelegram(limits=True) as tg, FeedServer() as feeds:
        feeds.set("/feed", rss(1, ARTICLES))
        readers = site(tg, feeds, postgres_url, readers=READERS)
        cluster = Cluster(tmp_path, config(tg, feeds, postgres_url))
        storage = Storage.open(postgres_url)
        askers = [[800_001, 800_002, 800_003], [800_011, 800_012, 800_013]]
        try:
            for _ in range(3):
                cluster.start()
            wait_until(lambda: channel_posts(tg) >= 8, 60)
            kill_leader(cluster)  # during the channels' posts
            wait_for_leader(cluster)
            ask(tg, askers[0])
            wait_until(lambda: answered(tg, askers[0]), TAKEOVER)
            wait_until(lambda: storage.broadcast_counts().get("sent", 0) >= 150, 120, step=0.2)
            kill_leader(cluster)  # during the broadcast
            wait_for_leader(cluster)
            ask(tg, askers[1])
            wait_until(lambda: answered(tg, askers[1]), TAKEOVER)
            wait_until(lambda: settled(storage), 180, step=0.5)
            # The admin's part: an uncertain post that did not reach its channel goes again.
            posted = {
                name: set(numbers(tg.messages(chat))) for name, (chat, _n) in CHANNELS.items()
            }
            now = datetime.now(UTC)
            for d in storage.deliveries(states=[S.UNKNOWN]):
                number = int(NUMBER.search(storage.article(d.article_key).title).group(1))
                if number not in posted[d.channel_id]:
                    assert storage.mark_queued(d.id, now, "/retry", now)
            wait_until(lambda: settled(storage), 120, step=0.5)
        finally:
            cluster.stop()
            logs = cluster.logs()
            storage.close()
        assert tg.floods == [], logs  # not one 429
        for channel, (chat, _name) in CHANNELS.items():
            got = Counter(numbers(tg.messages(chat)))
            assert sorted(got) == list(range(1, ARTICLES + 1)), channel  # none lost
            assert set(got.values()) == {1}, channel  # none twice
        for reader in readers:  # a broadcast never twice; one in flight at a kill may be lost
            got = Counter(numbers(tg.messages(reader)))
            assert set(got.values()) <= {1}
            assert len(got) >= ARTICLES - 2
        for user in askers[0] + askers[1]:
            assert len(tg.messages(user)) == 1  # each command answered once
        assert "Traceback" not in logs


def test_the_bots_owner_killed_another_answers_within_30_s(
    tmp_path: Path, postgres_url: str
) -> None:
    with FakeTelegram(limits=True) as tg, FeedServer() as feeds:
        feeds.set("/feed", rss(1, 1))
        site(tg, feeds, postgres_url, readers=0)
        cluster = Cluster(tmp_path, config(tg, feeds, postgres_url))
        try:
            for _ in range(3):
                cluster.start()
            wait_for_leader(cluster)
            ask(tg, [900_001, 900_002])
            wait_until(lambda: answered(tg, [900_001, 900_002]), TAKEOVER)
            leader = wait_for_leader(cluster)
            cluster.kill(leader)
            killed = time.monotonic()
            ask(tg, [900_003, 900_004, 900_005])
            wait_until(lambda: answered(tg, [900_003, 900_004, 900_005]), TAKEOVER)
            takeover = time.monotonic() - killed
            new_leader = cluster.leader()
        finally:
            cluster.stop()
            logs = cluster.logs()
        assert takeover <= TAKEOVER
        assert new_leader is not None and new_leader is not leader
        for user in range(900_001, 900_006):
            assert len(tg.messages(user)) == 1, logs  # none twice, none lost
        assert tg.floods == []

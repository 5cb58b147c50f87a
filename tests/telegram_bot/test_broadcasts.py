"""Broadcasts and digests through the real bot and fake Bot API: once each, even across kills."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest
from telegram.ext import ExtBot

from bot.clock import FakeClock
from bot.feeds.identity import normalise_title
from bot.models import NewArticle, SkipReason
from bot.publishers.telegram import BotTimeouts, make_bot
from bot.settings import Settings
from bot.storage import tables as t
from bot.storage.store import Storage
from bot.telegram_bot.service import ReaderBot
from tests.fakes.telegram_api import FakeTelegram, Reply
from tests.telegram_bot.conftest import EN, FR, START, article, reader_settings, record
from tests.waiting import wait_until_async


class Killed(BaseException):
    """The process dies here (SIGKILL): nothing after this line runs."""


def add_readers(
    storage: Storage, users: Iterable[int], topic: str = "securite", label: str = "Sécurité"
) -> None:
    users = list(users)
    with storage.engine.begin() as conn:
        conn.execute(
            t.subscribers.insert(),
            [{"user_id": u, "chat_id": u, "created_at": START, "updated_at": START} for u in users],
        )
        conn.execute(
            t.subscriptions.insert(),
            [{"user_id": u, "topic": topic, "label": label, "created_at": START} for u in users],
        )


def sent_to(tg: FakeTelegram) -> Counter[int]:
    """How many private messages each chat got (answered 200: they exist)."""
    return Counter(
        int(c.params["chat_id"])
        for c in tg.calls("sendMessage")
        if c.status == 200 and int(c.params["chat_id"]) > 0
    )


def make_reader(
    tg: FakeTelegram,
    storage: Storage,
    bot: ExtBot[Any],
    clock: FakeClock,
    settings: Settings | None = None,
) -> ReaderBot:
    return ReaderBot(settings or reader_settings(tg), storage, bot=bot, clock=clock, rand=lambda: 0)


def news(n: int = 100, categories: tuple[str, ...] = ("Sécurité",)) -> Any:
    return article(
        n, title=f"Attaque repoussée à Diafarabé ({n})", categories=categories, published=START
    )


async def test_a_new_article_reaches_each_subscriber_once(
    tg: FakeTelegram, storage: Storage, bot: ExtBot[Any], clock: FakeClock
) -> None:
    reader = make_reader(tg, storage, bot, clock)
    reader.readers.subscribe(FR, FR, "securite", "Sécurité", START, telegram_language="fr")
    reader.readers.subscribe(EN, EN, "securite", "Sécurité", START, telegram_language="en")
    reader.readers.subscribe(EN, EN, "actualite", "Actualité", START)  # both match: one message
    item = news(categories=("SÉCURITÉ", "Actualité"))
    record(storage, [item])
    assert reader.on_new_articles([item], START) == 2
    assert reader.on_new_articles([item], START) == 0  # never twice for the same article
    assert await reader.deliver_broadcasts() == 2
    assert await reader.deliver_broadcasts() == 0
    assert sent_to(tg) == {FR: 1, EN: 1}
    by_chat = {int(c.params["chat_id"]): c.params for c in tg.calls("sendMessage")}
    fr, en = by_chat[FR], by_chat[EN]
    assert fr["text"].startswith("🔔 <b>SÉCURITÉ</b>\n\n<b>Attaque repoussée à Diafarabé (100)</b>")
    assert "Le gouvernement a adopté mardi le projet numéro 100." in fr["text"]
    assert fr["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Lire l'article",
        "url": item.url,
    }
    assert en["reply_markup"]["inline_keyboard"][0][0]["text"] == "Read the article"
    assert fr["link_preview_options"]["url"] == item.url
    rows = reader.readers.broadcast_rows()
    assert {r["state"] for r in rows} == {"sent"} and all(r["message_id"] for r in rows)


async def test_baselines_copies_old_and_unrecorded_articles_are_not_pushed(
    tg: FakeTelegram, storage: Storage, bot: ExtBot[Any], clock: FakeClock
) -> None:
    reader = make_reader(tg, storage, bot, clock)
    reader.readers.subscribe(FR, FR, "securite", "Sécurité", START)
    first, copy, old, fresh = (
        news(101),
        news(102),
        article(103, categories=("Sécurité",), published=START - timedelta(days=3)),
        news(104),
    )
    record(storage, [first, copy, old, fresh])
    items = [
        NewArticle(first, normalise_title(first.title), [("tg-main", SkipReason.BASELINE)]),
        NewArticle(copy, normalise_title(copy.title), [], duplicate_of=first.key),
    ]
    assert reader.on_new_articles(items, START) == 0
    assert reader.on_new_articles([old], START) == 0
    assert reader.on_new_articles([fresh], START, baseline=True) == 0
    assert reader.on_new_articles([news(105)], START) == 0  # not recorded: ignored
    # all of them are searchable all the same
    assert len(reader.readers.search(["diafarabe"])[0]) == 3
    assert reader.readers.broadcast_rows() == []


async def test_one_message_a_second_per_reader(
    tg: FakeTelegram, storage: Storage, bot: ExtBot[Any], clock: FakeClock
) -> None:
    reader = make_reader(tg, storage, bot, clock)
    reader.readers.subscribe(FR, FR, "securite", "Sécurité", START)
    items = [news(110), news(111), news(112)]
    record(storage, items)
    assert reader.on_new_articles(items, START) == 3
    assert await reader.deliver_broadcasts() == 3
    times = sorted(r["attempted_at"] for r in reader.readers.broadcast_rows())
    assert [b - a for a, b in itertools.pairwise(times)] == [timedelta(seconds=1)] * 2
    assert clock.slept == [1.0, 1.0]


async def test_flood_control_waits_for_retry_after(
    tg: FakeTelegram, storage: Storage, bot: ExtBot[Any], clock: FakeClock
) -> None:
    reader = make_reader(tg, storage, bot, clock)
    add_readers(storage, range(2001, 2011))
    for user in range(2001, 2011):
        tg.set_chat(user, type="private", first_name="Lecteur")
    tg.inject("sendMessage", Reply.flood(7), match={"chat_id": "2005"})
    item = news(120)
    record(storage, [item])
    reader.on_new_articles([item], START)
    assert await reader.deliver_broadcasts() == 9
    [waiting] = [r for r in reader.readers.broadcast_rows() if r["state"] == "queued"]
    assert waiting["user_id"] == 2005 and waiting["due_at"] == START + timedelta(seconds=8)
    assert reader.broadcaster.next_due() == START + timedelta(seconds=8)
    assert await reader.deliver_broadcasts() == 0  # not due yet
    clock.advance(8)
    assert await reader.deliver_broadcasts() == 1
    assert set(sent_to(tg).values()) == {1} and len(sent_to(tg)) == 10


async def test_a_refused_token_sends_nothing_and_loses_nothing(
    tg: FakeTelegram, storage: Storage, bot: ExtBot[Any], clock: FakeClock
) -> None:
    reader = make_reader(tg, storage, bot, clock)
    reader.readers.subscribe(FR, FR, "securite", "Sécurité", START)
    item = news(130)
    record(storage, [item])
    reader.on_new_articles([item], START)
    tg.revoke_token(tg.token)
    assert await reader.deliver_broadcasts() == 0
    [row] = reader.readers.broadcast_rows()
    assert (row["state"], row["attempts"]) == ("queued", 0)
    assert reader.readers.subscriptions(FR)  # nobody is unsubscribed for our token
    tg.add_token(tg.token)
    assert await reader.deliver_broadcasts() == 0  # held for a minute
    clock.advance(61)
    assert await reader.deliver_broadcasts() == 1


async def test_a_timeout_after_sending_is_unknown_and_never_resent(
    tg: FakeTelegram, storage: Storage, clock: FakeClock
) -> None:
    quick = BotTimeouts(connect=2.0, read=0.3, write=2.0, media_write=2.0, pool=2.0)
    bot = make_bot(reader_settings(tg).telegram, rate_limited=False, timeouts=quick)
    await bot.initialize()
    try:
        reader = make_reader(tg, storage, bot, clock)
        reader.readers.subscribe(FR, FR, "securite", "Sécurité", START)
        reader.readers.subscribe(EN, EN, "securite", "Sécurité", START)
        tg.inject("sendMessage", Reply.slow(1.0), match={"chat_id": str(FR)})
        item = news(140)
        record(storage, [item])
        reader.on_new_articles([item], START)
        assert await reader.deliver_broadcasts() == 1
        states = {r["user_id"]: r["state"] for r in reader.readers.broadcast_rows()}
        assert states == {FR: "unknown", EN: "sent"}
        clock.advance(3600)
        assert await reader.deliver_broadcasts() == 0
    finally:
        await bot.shutdown()


@pytest.mark.parametrize("readers_count", [pytest.param(2000, marks=pytest.mark.slow)])
async def test_broadcast_to_thousands_with_blocked_readers_and_restarts(
    tg: FakeTelegram,
    storage: Storage,
    bot: ExtBot[Any],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    readers_count: int,
) -> None:
    users = range(10_001, 10_001 + readers_count)
    blocked = {u for u in users if u % 13 == 0}
    deactivated = {u for u in users if u % 97 == 1} - blocked
    add_readers(storage, users)
    for user in users:
        tg.set_chat(user, type="private", first_name="Lecteur", blocked=user in blocked)
    for user in deactivated:
        tg.inject(
            "sendMessage",
            Reply.corpus("forbidden-user-is-deactivated"),
            match={"chat_id": str(user)},
        )
    item = news(150)
    record(storage, [item])

    # 1st process: dies after sending its 2nd batch, before recording how it went
    first = make_reader(tg, storage, bot, clock)
    assert first.on_new_articles([item], START) == readers_count
    finish = first.readers.finish_broadcasts
    calls = {"finish": 0, "claim": 0}

    def finish_then_die(outcomes: Any, now: Any) -> None:
        calls["finish"] += 1
        if calls["finish"] == 2:
            raise Killed
        finish(outcomes, now)

    monkeypatch.setattr(first.readers, "finish_broadcasts", finish_then_die)
    with pytest.raises(Killed):
        await first.deliver_broadcasts()
    sent_before_restart = sent_to(tg)

    # 2nd process: dies between a claim (committed) and the sends
    second = make_reader(tg, storage, bot, clock)
    claim = second.readers.claim_broadcasts
    claimed_then_killed: list[int] = []

    def claim_then_die(*args: Any, **kwargs: Any) -> Any:
        result = claim(*args, **kwargs)
        calls["claim"] += 1
        if calls["claim"] == 3:
            claimed_then_killed.extend(r.user_id for r in result.rows)
            raise Killed
        return result

    monkeypatch.setattr(second.readers, "claim_broadcasts", claim_then_die)
    with pytest.raises(Killed):
        await second.deliver_broadcasts()
    assert len(claimed_then_killed) == 40

    # 3rd process: finishes the broadcast
    third = make_reader(tg, storage, bot, clock)
    await third.deliver_broadcasts()
    assert await third.deliver_broadcasts() == 0

    got = sent_to(tg)
    assert max(got.values()) == 1  # nobody got anything twice
    rows = {r["user_id"]: r for r in third.readers.broadcast_rows()}
    states = Counter(r["state"] for r in rows.values())
    gone = blocked | deactivated
    unknown = {u for u, r in rows.items() if r["state"] == "unknown"}
    # two batches died in flight: one sent but never recorded, one claimed but never sent
    assert len(unknown) == 80 and set(claimed_then_killed) <= unknown
    sent_unrecorded = unknown - set(claimed_then_killed)
    assert sent_unrecorded - gone <= set(sent_before_restart)
    assert not set(claimed_then_killed) & set(got)  # claimed, never sent, never re-sent
    assert states["skipped"] == len(gone - unknown)
    assert set(got) == set(users) - gone - set(claimed_then_killed)
    assert states["sent"] + states["unknown"] + states["skipped"] == readers_count
    # the readers who blocked the bot (or whose account is gone) are unsubscribed
    with storage.engine.connect() as conn:
        subscribed = {r.user_id for r in conn.execute(t.subscriptions.select())}
    assert subscribed == set(users) - (gone - unknown)


async def test_the_run_loop_delivers_new_articles_and_stops(
    tg: FakeTelegram, storage: Storage, bot: ExtBot[Any], clock: FakeClock
) -> None:
    reader = make_reader(tg, storage, bot, clock)
    reader.readers.subscribe(FR, FR, "securite", "Sécurité", START)
    stop = asyncio.Event()
    task = asyncio.create_task(reader.run(stop))
    item = news(160)
    record(storage, [item])
    reader.on_new_articles([item], START)
    await wait_until_async(lambda: sent_to(tg))
    assert sent_to(tg) == {FR: 1}
    stop.set()
    await asyncio.wait_for(task, 2)


# ---- digests --------------------------------------------------------------------------------


def digest_messages(tg: FakeTelegram, chat: int) -> list[str]:
    return [
        str(c.params["text"])
        for c in tg.calls("sendMessage")
        if c.params["chat_id"] == str(chat) and "☀️" in str(c.params["text"])
    ]


async def test_the_digest_goes_out_once_a_day_at_the_local_time(
    tg: FakeTelegram, storage: Storage, bot: ExtBot[Any]
) -> None:
    settings = reader_settings(tg)
    paris = settings.model_copy(
        update={"site": settings.site.model_copy(update={"timezone": "Europe/Paris"})}
    )
    day1 = START.replace(hour=5, minute=59)  # 06:59 in Paris (UTC+1 in November)
    clock = FakeClock(day1 - timedelta(days=1))
    reader = make_reader(tg, storage, bot, clock, paris)
    reader.readers.subscribe(FR, FR, "securite", "Sécurité", clock.now())
    reader.readers.set_digest(FR, FR, True, clock.now())
    reader.readers.subscribe(EN, EN, "sport", "Sport", clock.now())
    reader.readers.set_language(EN, EN, "en", clock.now())
    reader.readers.set_digest(EN, EN, True, clock.now())
    yesterday = [news(170), article(171, categories=("Sport",)), news(172, ("Politique",))]
    record(storage, yesterday, day1 - timedelta(hours=3))
    reader.on_new_articles(yesterday, day1)
    assert reader.readers.broadcast_rows() == []  # on the digest: no message per article
    assert await reader.digest_tick(day1) == 0  # 06:59
    assert await reader.digest_tick(day1 + timedelta(minutes=1)) == 2  # 07:00
    [fr] = digest_messages(tg, FR)
    assert fr.startswith("☀️ <b>Votre résumé — Bamada.net</b>\n2 nov. 2026")
    assert "Attaque repoussée à Diafarabé (170)" in fr and "(172)" not in fr
    assert fr.endswith("/digest off pour ne plus recevoir ce résumé.")
    [en] = digest_messages(tg, EN)
    assert en.startswith("☀️ <b>Your summary — Bamada.net</b>\nNov 2, 2026")
    assert "Article 171" in en
    assert await reader.digest_tick(day1 + timedelta(hours=3)) == 0  # never twice a day
    # a restart the same day sends nothing again
    again = make_reader(tg, storage, bot, clock, paris)
    assert await again.digest_tick(day1 + timedelta(hours=5)) == 0
    # the next day: only what is new since
    today = [news(173)]
    record(storage, today, day1 + timedelta(hours=8))
    assert await again.digest_tick(day1 + timedelta(days=1, minutes=1)) == 1  # EN: nothing new
    assert len(digest_messages(tg, FR)) == 2 and len(digest_messages(tg, EN)) == 1
    latest = digest_messages(tg, FR)[-1]
    assert "(173)" in latest and "(170)" not in latest
    states = Counter((r["day"], r["state"]) for r in again.readers.digest_rows())
    assert states == {
        ("2026-11-02", "sent"): 2,
        ("2026-11-03", "sent"): 1,
        ("2026-11-03", "skipped"): 1,
    }


async def test_a_blocked_digest_reader_is_unsubscribed(
    tg: FakeTelegram, storage: Storage, bot: ExtBot[Any], clock: FakeClock
) -> None:
    reader = make_reader(tg, storage, bot, clock)
    tg.set_chat(FR, type="private", first_name="Awa", blocked=True)
    reader.readers.subscribe(FR, FR, "securite", "Sécurité", START - timedelta(days=1))
    reader.readers.set_digest(FR, FR, True, START - timedelta(days=1))
    record(storage, [news(180)], START - timedelta(hours=2))
    assert await reader.digest_tick(START) == 0
    [row] = reader.readers.digest_rows()
    assert row["state"] == "skipped" and "blocked" in row["error"]
    subscriber = reader.readers.subscriber(FR)
    assert subscriber is not None and not subscriber.digest
    assert reader.readers.subscriptions(FR) == []

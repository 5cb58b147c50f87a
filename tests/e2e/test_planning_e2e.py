"""The manager's schedule end to end: feed → service round → outbox → python-telegram-bot → fake
Bot API, on a fake clock: a night's articles become one 07:00 roundup, or spread over the day's
slots newest first; breaking news goes out at once during quiet hours, rings, and is pinned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import App, Services
from bot.clock import FakeClock
from bot.models import DeliveryState
from bot.publishers.telegram import BotTimeouts, initialize_bot, make_bot
from bot.settings import settings_from_mapping
from bot.storage.store import Storage
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram, parse_html
from tests.waiting import wait_until_async

CHAT_ID = -1001987654321
FAST = BotTimeouts(connect=2.0, read=2.0, write=2.0, media_write=2.0, pool=1.0)
DAY = datetime(2026, 11, 3, tzinfo=UTC)  # a Tuesday; Bamako is UTC all year
TOWNS = [
    *("Bamako", "Kayes", "Sikasso", "Ségou", "Mopti", "Tombouctou", "Gao", "Kidal"),
    *("Koutiala", "Kita", "Bougouni", "San", "Nioro", "Djenné", "Bandiagara"),
]


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


def entry(
    n: int,
    published: datetime,
    *,
    category: str = "Société",
    title: str | None = None,
    lead: str = "ont présenté mardi le programme de la campagne",
    site: str = "https://sahel-actu.example",
) -> str:
    town = TOWNS[(n - 1) % len(TOWNS)]
    title = title or f"{town} : la mairie lance la campagne de salubrité numéro {n}"
    return f"""<item><title>{title}</title>
<link>{site}/2026/11/salubrite-{n}/</link>
<guid isPermaLink="false">https://sahel-actu.example/?p={n}</guid>
<pubDate>{published:%a, %d %b %Y %H:%M:%S} +0000</pubDate>
<category><![CDATA[{category}]]></category>
<content:encoded><![CDATA[<p>Les services municipaux de {town} {lead},
quartier par quartier, avec les associations de jeunes.</p>]]>
</content:encoded>
</item>"""


def feed(entries: list[str]) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Sahel-Actu</title><link>https://sahel-actu.example</link>
<description>Toute l’actualité</description>{"".join(reversed(entries))}</channel></rss>""".encode()


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        fake.set_chat(CHAT_ID, username="sahel_actu", title="Sahel-Actu")
        yield fake


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        s.set("/feed", feed([]))
        yield s


class Site:
    """The real service (App, one round at a time) on a fake clock, posting to the fake."""

    def __init__(self, server: FeedServer, tg: FakeTelegram, db: str, **channel: Any) -> None:
        self.server, self.tg, self.entries = server, tg, []  # type: list[str]
        self.published: dict[int, datetime] = {}
        config = {
            "site": {"name": "Sahel-Actu", "url": "https://sahel-actu.example"},
            "storage": db,
            "feeds": [{"id": "sahel", "url": server.url("/feed"), "first_run": "all"}],
            "channels": [
                {
                    "id": "tg-main",
                    "type": "telegram",
                    "chat": "@sahel_actu",
                    "max_age": None,
                    "min_gap": "0s",
                    "quiet_hours": "00:00-06:00",
                    **channel,
                }
            ],
            "telegram": {"token": tg.token, "api_url": tg.base_url, "admins": [4242]},
        }
        self.config = config
        self.settings = settings_from_mapping(config, env={})
        self.clock = FakeClock(at(0, 5))

    def publish(self, n: int, **kw: Any) -> None:
        """The site publishes article n now."""
        self.entries.append(entry(n, self.clock.now(), **kw))
        self.published[n] = self.clock.now()
        self.server.set("/feed", feed(self.entries))

    def revise(self, n: int, **kw: Any) -> None:
        """The newsroom corrects article n (same link and guid)."""
        i = next(i for i, e in enumerate(self.entries) if f"?p={n}<" in e)
        self.entries[i] = entry(n, self.published[n], **kw)
        self.server.set("/feed", feed(self.entries))

    async def app(self) -> tuple[App, Any]:
        """The service as one process opens it (alerts to the admins), and how to close it."""
        from bot.runner import notifiers_for

        storage = Storage.open(self.settings.storage, exclusive=True)
        bot = make_bot(self.settings.telegram, timeouts=FAST)
        await initialize_bot(bot)
        services = Services(telegram_bot=bot, closers=[bot.shutdown])
        app = App(
            self.settings,
            storage,
            clock=self.clock,
            services=services,
            notifiers=notifiers_for(self.settings, services),
        )

        async def close() -> None:
            await app.aclose()
            storage.close()

        return app, close

    async def round_at(self, when: datetime) -> list[dict[str, Any]]:
        """Run one service round at `when`; the posts the fake accepted in it."""
        self.clock.advance(when - self.clock.now())
        self.tg.clear_calls()
        app, close = await self.app()
        try:
            await app.service.run_once()
        finally:
            await close()
        return [  # the channel's posts, not the admins' private messages
            c.params
            for c in self.tg.calls()
            if c.method in {"sendPhoto", "sendMessage"}
            and c.status == 200
            and c.params.get("chat_id") == "@sahel_actu"
        ]

    def states(self) -> list[DeliveryState]:
        storage = Storage.open(self.settings.storage)
        try:
            return [d.state for d in storage.deliveries()]
        finally:
            storage.close()


async def overnight(site: Site) -> None:
    """Fifteen articles between 00:05 and 05:45, each polled as it comes: nothing goes out."""
    for n in range(1, 16):
        when = at(0, 5) + timedelta(minutes=24 * (n - 1))
        site.clock.advance(when - site.clock.now())
        site.publish(n)
        assert await site.round_at(when) == [], f"posted during quiet hours ({when:%H:%M})"


def titles(post: dict[str, Any]) -> str:
    return parse_html(post.get("caption") or post["text"])[0]


async def test_a_night_of_articles_is_one_roundup_at_seven(server, tg, db_url) -> None:
    site = Site(
        server,
        tg,
        db_url,
        roundup={"at": ["07:00"], "after_quiet": True, "min_items": 3, "max_items": 15},
        slots={"mon-sun": ["08:00", "12:00", "18:00"]},
    )
    await overnight(site)
    assert await site.round_at(at(6, 0)) == []  # the end of quiet hours: held for the roundup
    assert await site.round_at(at(6, 59)) == []
    [roundup] = await site.round_at(at(7, 0))
    text = titles(roundup)
    assert text.startswith("🗞 L'essentiel du mardi 3 novembre")
    lines = [line for line in text.splitlines() if line.startswith("•")]
    assert len(lines) == 15
    assert "numéro 15" in lines[0] and "numéro 1" in lines[-1]  # newest first, the top story
    for later in (at(8, 0), at(12, 0), at(18, 0), at(23, 0)):
        assert await site.round_at(later) == []  # never also posted one by one
    assert site.states() == [DeliveryState.COVERED] * 15


async def test_without_a_roundup_the_night_spreads_over_the_slots_newest_first(
    server, tg, db_url
) -> None:
    slots = [f"{h:02d}:00" for h in range(7, 22)]  # fifteen slots, 07:00 to 21:00
    site = Site(server, tg, db_url, slots={"mon-sun": slots})
    await overnight(site)
    assert await site.round_at(at(6, 30)) == []  # quiet hours are over, but no slot yet
    order = []
    for slot in range(7, 22):
        posts = await site.round_at(at(slot, 0))
        assert len(posts) == 1, f"{slot}:00 made {len(posts)} posts"
        order.append(int(titles(posts[0]).split("numéro ")[1].split()[0]))
        assert await site.round_at(at(slot, 30)) == []  # one post per slot
    assert order == list(range(15, 0, -1))
    assert site.states() == [DeliveryState.SENT] * 15


async def test_breaking_news_goes_out_at_once_in_quiet_hours_rings_and_is_pinned(
    server, tg, db_url
) -> None:
    site = Site(
        server,
        tg,
        db_url,
        silent=True,
        slots={"mon-sun": ["08:00"]},
        priority={"categories": ["Urgent"], "pin": True, "pin_for": "6h"},
    )
    site.publish(1)
    assert await site.round_at(at(0, 10)) == []
    site.clock.advance(at(2, 0) - site.clock.now())
    site.publish(2, category="Urgent")
    [urgent] = await site.round_at(at(2, 0))
    assert "numéro 2" in titles(urgent)
    assert str(urgent.get("disable_notification", "false")).lower() == "false"  # it rings
    [message] = [
        m for m in tg.messages(CHAT_ID) if "numéro 2" in (m.get("caption") or m.get("text") or "")
    ]
    assert tg.pinned(CHAT_ID) == [message["message_id"]]
    assert await site.round_at(at(7, 59)) == []  # the regular post waits for its slot
    [regular] = await site.round_at(at(8, 0))
    assert "numéro 1" in titles(regular) and str(regular["disable_notification"]).lower() == "true"
    assert tg.pinned(CHAT_ID) == []  # unpinned after pin_for (6h, at 08:00)


async def test_urgent_by_an_admin_goes_out_at_once_and_never_twice(server, tg, db_url) -> None:
    site = Site(server, tg, db_url, slots={"mon-sun": ["08:00"]})
    site.publish(1)
    site.publish(2)
    assert await site.round_at(at(1, 0)) == []  # quiet hours: both wait
    url = "https://sahel-actu.example/2026/11/salubrite-2/"
    app, close = await site.app()
    try:
        article = await app.post.fetch_article(url)
        assert article is not None
        assert await app.post.urgent(article) == [
            ("tg-main", "passé en urgence, publié tout de suite")
        ]
    finally:
        await close()
    [post] = await site.round_at(at(1, 0))  # at once, in quiet hours, with sound
    assert "numéro 2" in titles(post)
    assert str(post.get("disable_notification", "false")).lower() == "false"
    app, close = await site.app()
    try:
        answer = await app.post.urgent(article)
    finally:
        await close()
    assert answer == [("tg-main", "refusé : ce canal l'a déjà publié")]
    assert await site.round_at(at(1, 5)) == []
    [regular] = await site.round_at(at(8, 0))
    assert "numéro 1" in titles(regular)


def test_relais_plan_json_shows_the_coming_roundup(server, tg, db_url, tmp_path, capsys) -> None:
    import asyncio

    import yaml

    from bot.cli import main

    site = Site(
        server,
        tg,
        db_url,
        roundup={"at": ["07:00"], "min_items": 3, "max_items": 10},
        slots={"mon-sun": ["08:00", "12:00"]},
    )
    asyncio.run(overnight(site))
    path = tmp_path / "relais.yaml"
    path.write_text(yaml.safe_dump(site.config, allow_unicode=True), encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(path), "plan", "--json", "--from", "2026-11-03T06:00:00"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    roundup, *singles = records
    assert roundup["kind"] == "roundup" and roundup["due"] == "2026-11-03T07:00:00+00:00"
    assert roundup["why"] == "récapitulatif de 07:00" and roundup["delivery"] is None
    assert len(roundup["articles"]) == 10 and "numéro 15" in roundup["articles"][0]["title"]
    assert [(r["kind"], r["due"][11:16], r["why"]) for r in singles[:2]] == [
        ("post", "08:00", "créneau de 08:00"),
        ("post", "12:00", "créneau de 12:00"),
    ]
    assert set(roundup) == {"channel", "due", "kind", "state", "delivery", "articles", "why"}
    assert main(["--config", str(path), "plan", "--channel", "nope"]) == 2
    assert main(["--config", str(path), "plan", "--from", "2026-11-03T06:00:00"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "03/11 07:00  tg-main  récapitulatif (10) — récapitulatif de 07:00"


ADMIN, OTHER = 4242, 5151


async def test_approval_round_trip_edit_then_publish_and_timeout(server, tg, db_url) -> None:
    """Each post goes to the admins first, as it will look; ✅ publishes it, a second admin
    sees what was decided, ✏️ takes the admin's next message as its teaser, and nobody's answer
    skips it after the timeout."""
    from bot.telegram_bot.context import AdminHooks
    from bot.telegram_bot.service import ReaderBot
    from tests.telegram_bot.conftest import Chat

    for admin in (ADMIN, OTHER):
        tg.set_chat(admin, type="private", title=None)
    site = Site(
        server,
        tg,
        db_url,
        approval=True,
        approval_timeout={"after": "2h", "then": "skip"},
    )
    site.config["telegram"]["admins"] = [ADMIN, OTHER]
    site.settings = settings_from_mapping(site.config, env={})
    for n in (1, 2, 3):
        site.publish(n)
    assert await site.round_at(at(9, 0)) == []  # nothing goes out before an admin says so
    asked = [c.params for c in tg.calls("sendMessage") if c.params["chat_id"] == str(ADMIN)]
    assert len(asked) == 3
    shown = parse_html(asked[0]["text"])[0]
    assert shown.startswith("🕵️ À approuver pour tg-main (#")
    assert "salubrité numéro" in shown  # the post as it will look
    buttons = [b["text"] for row in asked[0]["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["✅ Publier", "✏️ Modifier", "⏭ Ignorer", "⏰ Plus tard"]
    ids = {}
    for params in asked:
        number = int(parse_html(params["text"])[0].split("numéro ")[1].split()[0])
        ids[number] = int(params["text"].split("(#")[1].split(")")[0])
    mine = {m["text"].split("(#")[1].split(")")[0]: m["message_id"] for m in tg.messages(ADMIN)}

    app, close = await site.app()
    reader = ReaderBot(
        site.settings,
        app.storage,
        bot=app.services.telegram_bot,
        clock=site.clock,
        hooks=AdminHooks(wake=lambda: None),
        poll_timeout=1,
    )
    await reader.start()
    try:
        awa, moussa = Chat(tg, ADMIN, "fr", "Awa"), Chat(tg, OTHER, "fr", "Moussa")
        await awa.press(f"ap:{ids[1]}:p", message_id=mine[str(ids[1])])
        await moussa.press(f"ap:{ids[1]}:s")
        answers = [str(c.params.get("text")) for c in tg.calls("answerCallbackQuery")]
        assert answers[0].startswith("✅ Publier — par Awa")
        assert answers[1].startswith("Déjà décidé : ✅ Publier — par Awa")  # one answer stands
        # The decision is shown to every admin after the button is answered: wait for the edits.
        await wait_until_async(lambda: len(tg.calls("editMessageText")) >= 2)
        edited = [c.params for c in tg.calls("editMessageText")]
        assert {e["chat_id"] for e in edited} == {str(ADMIN), str(OTHER)}  # both admins see it
        [prompt] = await awa.press(f"ap:{ids[2]}:e", expect=1)
        assert "nouveau texte d'accroche" in str(prompt.params["text"])
        replies = await awa.say(
            "Kayes se mobilise : la propreté de la ville, l'affaire de tous", expect=2
        )
        assert {r.method for r in replies} == {"sendMessage", "editMessageText"}
        [thanks] = [r for r in replies if r.method == "sendMessage"]
        assert str(thanks.params["text"]).startswith("✅ Accroche enregistrée")
    finally:
        await reader.stop()
        await close()
    posts = await site.round_at(at(9, 10))
    assert len(posts) == 2
    [edited_post] = [p for p in posts if "numéro 2" in titles(p)]
    assert "la propreté de la ville, l'affaire de tous" in titles(edited_post)
    assert await site.round_at(at(11, 1)) == []  # the third: nobody answered, skipped at 11:00
    storage = Storage.open(site.settings.storage)
    try:
        third = storage.delivery(ids[3])
    finally:
        storage.close()
    assert third is not None and third.state is DeliveryState.SKIPPED
    assert await site.round_at(at(12, 0)) == []  # and never posted twice


async def test_a_corrected_title_edits_the_post_once_and_a_typo_does_not(
    server, tg, db_url
) -> None:
    site = Site(server, tg, db_url)
    site.publish(1)
    [_post] = await site.round_at(at(9, 0))
    [message] = tg.messages(CHAT_ID)
    site.revise(1, lead="ont présenté mardi le programme de la campagnne")  # a typo
    assert await site.round_at(at(9, 10)) == [] and tg.calls("editMessageText") == []
    site.revise(1, title="Bamako : la mairie reporte la campagne de salubrité numéro 1")
    assert await site.round_at(at(9, 20)) == []  # no second post …
    [edit] = tg.calls("editMessageText")  # … one edit of the first
    assert int(edit.params["message_id"]) == message["message_id"]
    assert "la mairie reporte la campagne" in parse_html(edit.params["text"])[0]
    [now] = tg.messages(CHAT_ID)
    assert "reporte" in now["text"] and "edit_date" in now
    for later in (at(9, 30), at(10, 0)):  # the feed still says so: nothing more to do
        assert await site.round_at(later) == [] and tg.calls("editMessageText") == []
    site.revise(
        1,
        title="Bamako : la mairie reporte la campagne de salubrité numéro 1",
        lead="ont annulé mardi le programme de la campagne",
    )
    assert await site.round_at(at(10, 10)) == []
    assert len(tg.calls("editMessageText")) == 1  # a new change: one more edit
    site.clock.advance(timedelta(days=2))
    site.revise(1, title="Bamako : la campagne de salubrité numéro 1 aura lieu en décembre")
    assert await site.round_at(site.clock.now()) == []
    assert tg.calls("editMessageText") == []  # past update_window (24h): left as it is


# ---- never twice, never lost: a process that stops between the claim and the answer ---------


def _dead_worker_claims(site: Site, when: datetime) -> Any:
    """A worker takes the channel's turn at `when` (the roundup) and dies before sending it."""
    from bot.delivery.next_post import next_step

    channel, tz = site.settings.channels[0], site.settings.site.tz
    storage = Storage.open(site.settings.storage)
    try:
        return storage.claim(
            "tg-main",
            when,
            day_start=DAY,
            decide=lambda facts: next_step(
                when,
                facts.items,
                channel=channel,
                tz=tz,
                tally=facts.tally(when, tz),
                last_roundup=facts.last_roundup,
            ),
            worker="dead",
        )
    finally:
        storage.close()


ROUNDUP = {"at": ["07:00"], "after_quiet": True, "min_items": 3, "max_items": 15}


async def test_a_roundup_claimed_by_a_dead_worker_is_never_sent_twice_nor_its_articles(
    server, tg, db_url
) -> None:
    site = Site(server, tg, db_url, roundup=ROUNDUP, slots={"mon-sun": ["08:00", "12:00"]})
    await overnight(site)
    turn = _dead_worker_claims(site, at(7, 0))
    assert turn.roundup is not None and len(turn.roundup.covered) == 15
    site.clock.advance(timedelta(minutes=6))  # past PostgreSQL's lease on `sending` rows
    for later in (at(7, 6), at(8, 0), at(12, 0)):
        assert await site.round_at(later) == []  # maybe out: never again, nor one by one
    storage = Storage.open(site.settings.storage)
    try:
        [roundup] = storage.roundups("tg-main")
        assert roundup.state is DeliveryState.UNKNOWN
        assert {d.state for d in storage.deliveries()} == {DeliveryState.COVERED}
    finally:
        storage.close()


async def test_a_roundup_through_a_429_goes_out_once(server, tg, db_url) -> None:
    from tests.fakes.telegram_api import Reply

    site = Site(server, tg, db_url, roundup=ROUNDUP)
    await overnight(site)
    tg.inject("sendMessage", Reply.flood(5), times=1)
    site.clock.advance(at(7, 0) - site.clock.now())
    posts = await site.round_at(at(7, 0))  # the 429 is waited for within the round
    assert len(posts) == 1 and titles(posts[0]).startswith("🗞 L'essentiel")
    assert await site.round_at(at(7, 30)) == []


async def test_a_failed_roundup_gives_its_articles_back_to_the_slots(server, tg, db_url) -> None:
    from tests.fakes.telegram_api import Reply

    site = Site(server, tg, db_url, roundup=ROUNDUP, slots={"mon-sun": ["08:00", "12:00"]})
    await overnight(site)
    tg.inject("sendMessage", Reply.error(400, "Bad Request: chat not found"), times=1)
    assert await site.round_at(at(7, 0)) == []  # refused for good
    [first] = await site.round_at(at(8, 0))  # never lost: one by one, newest first
    assert "numéro 15" in titles(first)


async def test_an_edit_claimed_by_a_dead_worker_is_made_once(server, tg, db_url) -> None:
    site = Site(server, tg, db_url)
    site.publish(1)
    await site.round_at(at(9, 0))
    site.revise(1, title="Bamako : la mairie reporte la campagne de salubrité numéro 1")
    app, close = await site.app()
    try:
        await app.service.poll_all()  # the change is seen: one edit queued
        [claim] = app.storage.claim_edits(site.clock.now(), worker="dead")  # … and lost
    finally:
        await close()
    assert claim.title.startswith("Bamako : la mairie reporte")
    site.clock.advance(timedelta(minutes=6))
    assert await site.round_at(site.clock.now()) == []
    assert len(tg.calls("editMessageText")) == 1  # made by the next worker, once
    assert await site.round_at(site.clock.now() + timedelta(minutes=5)) == []
    assert tg.calls("editMessageText") == []


async def test_an_approval_asked_by_a_dead_worker_is_settled_by_the_timeout(
    server, tg, db_url
) -> None:
    site = Site(server, tg, db_url, approval=True, approval_timeout={"after": "2h"})
    site.publish(1)
    app, close = await site.app()
    try:
        await app.service.poll_all()
        [pending] = app.storage.pending_to_ask("tg-main")
        assert app.storage.mark_asked(pending.id, site.clock.now())  # then the process died
    finally:
        await close()
    assert await site.round_at(at(1, 0)) == []  # nobody was asked, nothing goes out …
    [post] = await site.round_at(at(6, 0))  # … until the timeout publishes it (after quiet)
    assert "numéro 1" in titles(post)
    assert await site.round_at(at(7, 0)) == []  # once


async def test_delete_removes_a_post_within_48_hours_and_says_why_not_after(
    server, tg, db_url
) -> None:
    site = Site(server, tg, db_url)
    site.publish(1)
    site.publish(2)
    assert len(await site.round_at(at(9, 0))) == 2
    app, close = await site.app()
    try:
        first, second = app.storage.deliveries()
        assert await app.outbox.delete(first, by="l'admin 4242") is None
        assert [m["message_id"] for m in tg.messages(CHAT_ID)] == [int(second.remote_id or 0)]
        site.clock.advance(timedelta(hours=49))
        refusal = await app.outbox.delete(second, by="l'admin 4242")
        assert refusal is not None and "moins de 48 heures" in refusal
        assert len(tg.messages(CHAT_ID)) == 1
        after = app.storage.delivery(first.id)
        assert after is not None and after.state is DeliveryState.SENT  # posted: never again
        assert after.error == "supprimée par l'admin 4242"
    finally:
        await close()


async def test_an_article_gone_from_the_site_soon_after_posting_alerts_with_a_one_tap_delete(
    server, tg, db_url
) -> None:
    from bot.telegram_bot.context import AdminHooks
    from bot.telegram_bot.service import ReaderBot
    from tests.telegram_bot.conftest import Chat

    tg.set_chat(ADMIN, type="private", title=None)
    site = Site(server, tg, db_url)
    local = server.url("").rstrip("/")
    site.entries = [entry(n, at(8, n), site=local) for n in (1, 2)]
    server.set("/feed", feed(site.entries))
    for n in (1, 2):
        server.set(f"/2026/11/salubrite-{n}/", b"<html><body>article</body></html>")
    assert len(await site.round_at(at(9, 0))) == 2
    server.fail("/2026/11/salubrite-1/", 410)  # the newsroom withdrew it
    site.entries = site.entries[1:]
    server.set("/feed", feed(site.entries))
    app, close = await site.app()
    try:
        site.clock.advance(timedelta(hours=2))
        await app.service.poll_all()
        await app.alerts.flush()
        [alert] = [m for m in tg.messages(ADMIN) if "retiré du site" in m.get("text", "")]
        [[button]] = alert["reply_markup"]["inline_keyboard"]
        assert button["text"].startswith("🗑 Supprimer #")
        reader = ReaderBot(
            site.settings,
            app.storage,
            bot=app.services.telegram_bot,
            clock=site.clock,
            hooks=AdminHooks(delete=lambda d, by: app.outbox.delete(d, by=by)),
            poll_timeout=1,
        )
        await reader.start()
        try:
            await Chat(tg, ADMIN, "fr", "Awa").press(button["callback_data"])
        finally:
            await reader.stop()
        assert len(tg.messages(CHAT_ID)) == 1  # the withdrawn article's post is gone
        await app.service.poll_all()  # checked once: no second alert
        await app.alerts.flush()
        assert len([m for m in tg.messages(ADMIN) if "retiré du site" in m.get("text", "")]) == 1
    finally:
        await close()

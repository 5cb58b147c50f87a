"""/metrics after a run of the whole service in-process (feed → outbox → python-telegram-bot →
the fake Bot API answering one 429): the service's own counters and the database's figures,
read with prometheus_client's parser, against what the database holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App, Services
from bot.clock import FakeClock
from bot.publishers.telegram import BotTimeouts, initialize_bot, make_bot
from bot.settings import settings_from_mapping
from bot.storage import tables as t
from bot.storage.readers import ReaderStore
from bot.storage.store import Storage
from bot.web.app import create_app
from bot.web.journal import AlertJournal
from bot.web.server import context_for
from tests.builders import telegram_site
from tests.e2e.conftest import DEMO
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram, Reply

CHAT_ID = -1001987654321
READER = 7001
FAST = BotTimeouts(connect=2.0, read=2.0, write=2.0, media_write=2.0, pool=1.0)
# The morning after the demo feed's newest article (1 Dec 2026, 07:45 UTC).
MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        fake.set_chat(CHAT_ID, username="sahel_actu", title="Sahel-Actu")
        fake.set_chat(READER, type="private", title=None)
        yield fake


def with_politics(published: datetime) -> bytes:
    """The demo feed with one more article, in Politique, which a reader follows."""
    item = f"""<item><title>Politique : le nouveau gouvernement est connu</title>
<link>https://sahel-actu.example/2026/12/01/gouvernement/</link>
<guid isPermaLink="false">https://sahel-actu.example/?p=9999</guid>
<pubDate>{format_datetime(published)}</pubDate><category><![CDATA[Politique]]></category>
<description><![CDATA[Le décret portant nomination des membres du gouvernement a été lu
mardi soir à la télévision nationale par le secrétaire général de la présidence.]]></description>
</item>"""
    return DEMO.replace(b"<item>", item.encode() + b"<item>", 1)


def parsed(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def counted(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def database(storage: Storage) -> dict[str, dict[str, int]]:
    """What the database holds, read here with queries of the test's own."""
    d, b = t.deliveries, t.broadcasts
    with storage.engine.connect() as conn:
        deliveries = conn.execute(sa.select(d.c.state, sa.func.count()).group_by(d.c.state)).all()
        broadcasts = conn.execute(sa.select(b.c.state, sa.func.count()).group_by(b.c.state)).all()
        articles = conn.execute(sa.select(sa.func.count()).select_from(t.articles)).scalar_one()
        alerts = conn.execute(sa.select(sa.func.count()).select_from(t.alert_log)).scalar_one()
    return {
        "deliveries": {str(s): int(n) for s, n in deliveries},
        "broadcasts": {str(s): int(n) for s, n in broadcasts},
        "totals": {"articles": int(articles), "alerts": int(alerts)},
    }


async def test_metrics_after_a_run_match_the_database(
    feeds: FeedServer, tg: FakeTelegram, db_url: str
) -> None:
    settings = settings_from_mapping(
        telegram_site(tg, feeds.url("/feed"), db_url, admins=[4242]), env={}
    )
    clock = FakeClock(MORNING)
    storage = Storage.open(settings.storage, exclusive=True)
    bot = make_bot(settings.telegram, timeouts=FAST)
    await initialize_bot(bot)
    app = App(
        settings,
        storage,
        clock=clock,
        services=Services(telegram_bot=bot, closers=[bot.shutdown]),
        notifiers=[],
        reader_bot=True,
    )
    app.alerts.add_notifier(AlertJournal(storage, clock))  # as `relais run` with web: does
    ReaderStore(storage.engine).subscribe(READER, READER, "politique", "Politique", MORNING)
    tg.inject("sendPhoto", Reply.flood(7), times=1)  # the first post: 429, then it goes
    try:
        await app.service.run_once()  # a first poll: every article recorded and posted
        feeds.set("/feed", with_politics(clock.now() - timedelta(hours=1)))
        await app.service.run_once()  # one new article: posted, and a broadcast queued
        await app.service.run_once()  # 304
        feeds.fail("/feed", 500)
        for _ in range(3):  # the third failure in a row alerts the admins
            await app.service.run_once()
        web = create_app(context_for(app, None, worker=True))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://relais"
        ) as http:
            answer = await http.get("/metrics")
        held = database(storage)
    finally:
        await app.aclose()
        storage.close()
    assert answer.status_code == 200
    samples = parsed(answer.text)

    assert samples[("relais_in_process_metrics", ())] == 1
    assert samples[("relais_database_up", ())] == 1
    polls = {r: counted(samples, "relais_polls_total", result=r) for r in ("ok", "not_modified")}
    assert polls == {"ok": 2, "not_modified": 1}
    assert counted(samples, "relais_polls_total", result="error") == 3
    assert samples[("relais_poll_duration_seconds_count", ())] == 6
    assert samples[("relais_poll_duration_seconds_sum", ())] > 0

    articles = held["totals"]["articles"]
    assert articles == 11  # the demo's ten and the new one
    assert counted(samples, "relais_articles_seen_total") == articles
    assert samples[("relais_articles", ())] == articles

    assert counted(samples, "relais_rate_limited_total", channel="tg-main") == 1
    assert counted(samples, "relais_publish_retries_total", channel="tg-main") == 1
    sent = held["deliveries"]["sent"]
    posted = [
        c
        for c in tg.calls()
        if c.method in {"sendPhoto", "sendMessage"}
        and c.status == 200
        and c.params.get("chat_id") == "@sahel_actu"
    ]
    assert sent == len(posted) == 11
    assert counted(samples, "relais_publish_outcomes_total", state="sent") == sent
    assert counted(samples, "relais_publish_outcomes_total", state="queued") == 1  # the 429

    for state, n in held["deliveries"].items():
        assert counted(samples, "relais_deliveries_total", channel="tg-main", state=state) == n
    assert counted(samples, "relais_deliveries_total") == sum(held["deliveries"].values())
    assert held["broadcasts"] == {"sent": 1}  # the new article, to the reader who follows it
    assert len(tg.messages(READER)) == 1
    for state, n in held["broadcasts"].items():
        assert counted(samples, "relais_broadcasts_total", state=state) == n
    assert held["totals"]["alerts"] == 1  # "Flux en panne"
    assert samples[("relais_alerts_total", ())] == 1

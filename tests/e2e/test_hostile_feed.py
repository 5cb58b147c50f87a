"""A hostile 5 MB feed is processed off the event loop: the reader bot answers meanwhile."""

from __future__ import annotations

import asyncio

from bot.app import App, Services
from bot.publishers.telegram import initialize_bot, make_bot
from bot.runner import notifiers_for
from bot.settings import settings_from_mapping
from bot.storage.store import Storage
from tests.builders import telegram_site
from tests.e2e.test_reader_service import CHAT, READER, texts
from tests.fakes.feed_server import FeedServer
from tests.fakes.telegram_api import FakeTelegram, message_update
from tests.waiting import wait_until_async

# The shapes that once took time in the square of the text (issue 12), each about 300 KB.
SHAPES = ("M. Keïta ", "Dr. ", "Gén. ", "A. B. ", "BAMAKO (AMAP) - ", "Il pleut. ", "« Oui. » “ ")
ITEM_BYTES = 300_000


def hostile_feed() -> bytes:
    items = []
    for number in range(15):
        unit = SHAPES[number % len(SHAPES)]
        text = (unit * (ITEM_BYTES // len(unit.encode()) + 1))[:ITEM_BYTES]
        items.append(
            f"<item><title>Communiqué {number}</title>"
            f"<link>https://hostile.example/{number}/</link>"
            f"<description><![CDATA[<p>{text}</p>]]></description></item>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Hostile</title><link>https://hostile.example/</link>{''.join(items)}"
        "</channel></rss>"
    ).encode()
    assert 4_000_000 < len(body) < 5 * 1024 * 1024
    return body


async def test_the_reader_bot_answers_while_a_hostile_feed_is_processed(
    feeds: FeedServer, tmp_path
) -> None:
    feeds.set("/hostile", hostile_feed())
    with FakeTelegram() as tg:
        tg.set_chat(CHAT, username="sahel_actu", title="Sahel-Actu")
        tg.set_chat(READER, type="private", title=None)
        config = telegram_site(
            tg, feeds.url("/feed"), f"sqlite:///{tmp_path / 'relais.db'}", first_run="latest:1"
        )
        config["feeds"].append(
            {"id": "hostile", "url": feeds.url("/hostile"), "first_run": "all", "every": "1h"}
        )
        settings = settings_from_mapping(config, env={})
        bot = make_bot(settings.telegram)
        await initialize_bot(bot)
        storage = Storage.open(settings.storage, exclusive=True)
        services = Services(telegram_bot=bot)
        app = App(
            settings,
            storage,
            services=services,
            notifiers=notifiers_for(settings, services),
            reader_bot=True,
        )
        app.service.reader.poll_timeout = 1.0
        stop = asyncio.Event()
        service = asyncio.create_task(app.service.serve(stop))
        try:
            await wait_until_async(lambda: bool(feeds.hits("/hostile")), timeout=30)
            tg.push_update(message_update("/help", chat_id=READER, message_id=1))
            await wait_until_async(lambda: bool(texts(tg, READER)), timeout=30)
            # The answer came while the hostile feed was still being read: nothing of it is
            # recorded yet (its poll ends with one transaction).
            state = storage.feed_state("hostile")
            assert state is None or state.last_poll is None
            await wait_until_async(
                lambda: (
                    (s := storage.feed_state("hostile")) is not None and s.last_poll is not None
                ),
                timeout=120,
            )
        finally:
            stop.set()
            await asyncio.wait_for(service, 60)
            await app.aclose()
            await bot.shutdown()
            storage.close()
        assert "/subscribe" in texts(tg, READER)[0]

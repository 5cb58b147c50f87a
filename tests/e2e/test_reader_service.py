"""`relais run` with the reader bot: readers and admins talk to it while it posts and broadcasts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from bot.app import App, Services
from bot.publishers.telegram import initialize_bot, make_bot
from bot.runner import notifiers_for
from bot.settings import settings_from_mapping
from bot.storage.store import Storage
from tests.builders import telegram_site
from tests.e2e.conftest import DEMO
from tests.fakes.telegram_api import FakeTelegram, message_update
from tests.waiting import wait_until_async

CHAT = -1001987654321
READER, ADMIN, STRANGER = 7001, 4242, 9009


def texts(tg: FakeTelegram, chat: int) -> list[str]:
    return [m.get("text", "") for m in tg.messages(chat)]


async def test_readers_admins_and_a_broadcast_in_one_process(feeds, tmp_path) -> None:
    with FakeTelegram() as tg:
        tg.set_chat(CHAT, username="sahel_actu", title="Sahel-Actu")
        for user in (READER, ADMIN, STRANGER):
            tg.set_chat(user, type="private", title=None)
        settings = settings_from_mapping(
            telegram_site(
                tg,
                feeds.url("/feed"),
                f"sqlite:///{tmp_path / 'relais.db'}",
                first_run="latest:2",
                admins=[ADMIN],
            ),
            env={},
        )
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
            await wait_until_async(lambda: len(tg.calls("sendPhoto")) >= 2)  # first_run latest:2
            tg.push_update(message_update("/subscribe Politique", chat_id=READER, message_id=1))
            tg.push_update(message_update("/latest 3", chat_id=READER, message_id=2))
            tg.push_update(message_update("/status", chat_id=ADMIN, message_id=3))
            tg.push_update(message_update("/status", chat_id=STRANGER, message_id=4))
            await wait_until_async(
                lambda: len(texts(tg, READER)) >= 2 and texts(tg, ADMIN) and texts(tg, STRANGER)
            )
            assert any("Politique" in t for t in texts(tg, READER))
            assert any("tg-main" in t for t in texts(tg, ADMIN))
            assert any("administrat" in t for t in texts(tg, STRANGER))
            # A new article in Politique reaches the subscriber by private message. It is dated an
            # hour before the test runs: broadcasts leave out articles older than two days.
            published = format_datetime(datetime.now(UTC) - timedelta(hours=1))
            new_item = DEMO.replace(
                b"<item>",
                f"""<item><title>Politique : le nouveau
gouvernement est connu</title><link>https://sahel-actu.example/2026/11/29/gouvernement/</link>
<guid isPermaLink="false">https://sahel-actu.example/?p=9999</guid>
<pubDate>{published}</pubDate><category><![CDATA[Politique]]></category>
<description><![CDATA[Le décret portant nomination des membres du gouvernement a été lu
mardi soir à la télévision nationale par le secrétaire général de la présidence.]]></description>
</item><item>""".encode(),
                1,
            )
            feeds.set("/feed", new_item)
            app.poller.settings = settings
            report = await app.poller.poll(settings.feeds[0])
            app.service.announce([report])
            await wait_until_async(lambda: any("gouvernement" in t for t in texts(tg, READER)))
        finally:
            stop.set()
            await asyncio.wait_for(service, 30)
            await app.aclose()
            await bot.shutdown()
            storage.close()
        sent_to_reader = [t for t in texts(tg, READER) if "gouvernement" in t]
        assert len(sent_to_reader) == 1


async def test_channels_keep_posting_when_the_reader_bot_cannot_start(feeds, tmp_path) -> None:
    from tests.fakes.telegram_api import Reply

    with FakeTelegram() as tg:
        tg.set_chat(CHAT, username="sahel_actu", title="Sahel-Actu")
        tg.inject("deleteWebhook", Reply.bad_gateway(), times=5)  # start_polling fails
        settings = settings_from_mapping(
            telegram_site(
                tg, feeds.url("/feed"), f"sqlite:///{tmp_path / 'relais.db'}", first_run="latest:2"
            ),
            env={},
        )
        bot = make_bot(settings.telegram)
        await initialize_bot(bot)
        storage = Storage.open(settings.storage, exclusive=True)
        app = App(
            settings, storage, services=Services(telegram_bot=bot), notifiers=[], reader_bot=True
        )
        stop = asyncio.Event()
        service = asyncio.create_task(app.service.serve(stop))
        try:
            await wait_until_async(lambda: len(tg.calls("sendPhoto")) >= 2)
            assert not service.done()
        finally:
            stop.set()
            await asyncio.wait_for(service, 30)
            await app.aclose()
            await bot.shutdown()
            storage.close()
        assert app.service.reader is None

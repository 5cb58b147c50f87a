"""The bot's updates owned by one instance: claimed once, the offset confirmed on a takeover,
and a failing getUpdates logged as one warning line without a traceback."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from telegram.ext import ExtBot

from bot.clock import FakeClock
from bot.logs import setup_logging
from bot.storage.store import Storage
from bot.telegram_bot.service import ReaderBot
from tests.fakes.telegram_api import FakeTelegram, Reply, message_update
from tests.telegram_bot.conftest import FR, reader_settings


@pytest.mark.postgres
async def test_an_update_claimed_by_one_owner_is_never_answered_by_the_next(
    tg: FakeTelegram, postgres_url: str, clock: FakeClock, bot: ExtBot[Any]
) -> None:
    storage = Storage.open(postgres_url)
    try:
        handled = tg.push_update(message_update("/help", chat_id=FR, user_id=FR))
        assert storage.claim_update(handled, "old-owner", clock.now())  # then it died
        fresh = tg.push_update(message_update("/latest", chat_id=FR, user_id=FR))
        reader = ReaderBot(reader_settings(tg), storage, bot=bot, clock=clock, poll_timeout=1)
        await reader.start()
        try:
            for _ in range(100):
                if tg.calls("sendMessage"):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
        finally:
            await reader.stop()
        assert len(tg.calls("sendMessage")) == 1  # /latest only; /help was the old owner's
        assert storage.last_update_id() == fresh
        first_poll = tg.calls("getUpdates")[0]
        assert int(first_poll.params["offset"]) == handled + 1  # confirmed before polling
    finally:
        storage.close()


async def test_a_502_on_get_updates_is_one_warning_line_without_traceback(
    tg: FakeTelegram,
    storage: Storage,
    clock: FakeClock,
    bot: ExtBot[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    base_request = logging.getLogger("telegram.request.BaseRequest")
    level = base_request.level
    setup_logging(logging.INFO)
    tg.inject("getUpdates", Reply.bad_gateway(), times=1)
    reader = ReaderBot(reader_settings(tg), storage, bot=bot, clock=clock, poll_timeout=1)
    try:
        await reader.start()
        for _ in range(100):
            if len(tg.calls("getUpdates")) >= 2:
                break
            await asyncio.sleep(0.05)
        await reader.stop()
    finally:
        base_request.setLevel(level)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "getUpdates" in line or "502" in line]
    assert len(lines) == 1, err
    assert "WARNING relais.readers: getUpdates failed" in lines[0]
    assert "Traceback" not in err
    assert tg.token not in err

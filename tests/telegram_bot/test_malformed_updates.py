"""A malformed update from the Bot API is logged once, skipped and counted; the bot keeps
answering (issue 11: two bad updates used to stop the reader bot for good)."""

from __future__ import annotations

import logging

import pytest

from bot.telegram_bot.service import ReaderBot
from tests.fakes.telegram_api import FakeTelegram, message_update
from tests.telegram_bot.conftest import FR, Chat
from tests.waiting import wait_until_async

MALFORMED = [
    {"message": {"message_id": 1, "date": "hier", "chat": {"id": FR, "type": "private"}}},
    {"message": {"text": "/latest"}},
    {"message": "pas un message"},
    {"callback_query": {"id": "1"}},
]


async def test_malformed_updates_are_skipped_and_the_bot_keeps_answering(
    tg: FakeTelegram, reader: ReaderBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad_ids = [tg.push_update(update) for update in MALFORMED]
    tg.push_update(message_update("/help", chat_id=FR, user_id=FR))
    await Chat(tg, FR)._wait(lambda: tg.calls("sendMessage"), 1, 10)
    assert tg.calls("sendMessage")[0].params["chat_id"] == str(FR)
    # The offset moves past them: the next getUpdates confirms it (wait for it, do not race it).
    await wait_until_async(lambda: all(u["update_id"] > max(bad_ids) for u in tg.pending_updates()))
    await wait_until_async(lambda: reader.malformed_updates >= len(MALFORMED), what="skips")
    assert reader.malformed_updates == len(MALFORMED)
    skipped = [r for r in caplog.records if "malformed update" in r.getMessage()]
    assert len(skipped) <= len(MALFORMED)  # once each at most, and never a traceback per retry
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]
    assert sum(r.exc_info is not None for r in caplog.records) == 0


def test_the_skip_log_is_rate_limited() -> None:
    from bot.log_limit import LogLimiter

    limiter = LogLimiter(interval=60.0)
    said = [limiter.allow("malformed", now=float(t)) for t in (0, 1, 2, 30, 61, 62, 130)]
    assert said == [1, 0, 0, 0, 4, 0, 2]  # the first, then a count of what was held back


async def test_a_handler_failing_again_and_again_is_logged_once_a_minute(
    tg: FakeTelegram, reader: ReaderBot, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("la base a disparu")

    reader.context.readers.subscriber = broken  # type: ignore[method-assign]
    for n in range(5):
        tg.push_update(message_update("/help", chat_id=FR, user_id=FR, message_id=10 + n))
    await Chat(tg, FR)._wait(lambda: tg.calls("sendMessage"), 5, 10)  # five apologies
    failures = [r for r in caplog.records if "a handler failed" in r.getMessage()]
    assert len(failures) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([{"update_id": 3}], [{"update_id": 3}]),
        (
            [{"update_id": 4, "message": {"text": "x"}}],
            [{"update_id": 4, "relais_malformed": "KeyError"}],
        ),
        ([{"message": "x"}, "pas un objet"], []),  # no id to move past: dropped
        ({"not": "a list"}, {"not": "a list"}),
    ],
)
def test_screen_updates(raw: object, expected: object) -> None:
    from bot.publishers.telegram.updates import screen_updates

    assert screen_updates(raw) == expected


async def test_a_malformed_update_posted_to_the_webhook_is_skipped_too(
    tg: FakeTelegram, reader: ReaderBot
) -> None:
    await reader.feed_update({"update_id": 91, **MALFORMED[0]})
    await reader.feed_update({"update_id": 92, **MALFORMED[1]})
    await reader.feed_update({"pas": "une mise à jour"})  # no id: nothing to skip
    await reader.feed_update({**message_update("/help", chat_id=FR, user_id=FR), "update_id": 93})
    await Chat(tg, FR)._wait(lambda: tg.calls("sendMessage"), 1, 10)
    await wait_until_async(lambda: reader.malformed_updates >= 2, what="two skipped updates")
    assert reader.malformed_updates == 2

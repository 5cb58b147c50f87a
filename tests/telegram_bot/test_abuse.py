"""Abuse and accidents: the per-user command limit, odd or huge input, a handler that fails."""

from __future__ import annotations

import logging

import pytest

from bot.clock import FakeClock
from bot.telegram_bot.service import ReaderBot
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram, callback_update, message_update
from tests.telegram_bot.conftest import FR, OTHER, Chat, Handled

APOLOGY = "Désolé, quelque chose s'est mal passé de mon côté. Réessayez dans un instant."


async def test_twenty_commands_a_minute_then_a_polite_word_then_silence(
    reader: ReaderBot, tg: FakeTelegram, clock: FakeClock, awa: Chat, boss: Chat, handled: Handled
) -> None:
    fanta = Chat(tg, OTHER, "fr", "Fanta")
    for _ in range(20):
        await fanta.say("/help")
    assert await fanta.text("/help") == (
        "Doucement 🙂 Vous m'avez envoyé beaucoup de messages en peu de temps. "
        "Réessayez dans une minute."
    )
    before = len(fanta.replies())
    ignored = [
        tg.push_update(message_update("/latest", chat_id=OTHER, user_id=OTHER)),
        tg.push_update(message_update("securite", chat_id=OTHER, user_id=OTHER)),
        tg.push_update(callback_update("l:5:5", chat_id=OTHER, user_id=OTHER)),  # ignored too
    ]
    await awa.say("/help")  # others are not affected
    await handled.wait(*ignored)
    assert len(fanta.replies()) == before
    assert len(tg.calls("answerCallbackQuery")) == 0
    for _ in range(25):  # admins are not limited
        await boss.say("/help")
    clock.advance(61)
    assert (await fanta.text("/help")).startswith("Voici ce que je sais faire")


async def test_over_the_limit_a_button_gets_the_polite_word(
    reader: ReaderBot, tg: FakeTelegram, john: Chat
) -> None:
    for _ in range(20):
        await john.say("/help")
    await john.press("l:5:5")
    # the fake's button updates carry no language_code, and John has no row: the site's language
    assert tg.calls("answerCallbackQuery")[-1].params["text"].startswith("Doucement 🙂")


@pytest.mark.parametrize(
    "message",
    [
        "/search " + "sécurité " * 600,
        "/search \x00\x01 bamako \u200b\u202e",
        "/search %_\\' OR 1=1; DROP TABLE articles; --",
        "/subscribe " + "🦁" * 3000,
        "/subscribe \x00",
        "/unsubscribe " + "x" * 4000,
        "/latest ٣",
        "/latest -1",
        "/digest " + "daily " * 500,
        "/lang " + "en" * 100,
        "/start " + "<b>" * 1000,
        "🦁" * 4000,
        "/help@relais_test_bot",
        "/",
    ],
)
async def test_odd_and_huge_input_never_breaks_a_handler(
    reader: ReaderBot, tg: FakeTelegram, awa: Chat, message: str
) -> None:
    replies = await awa.say(message[:4096])
    for reply in replies:
        assert reply.status == 200  # valid HTML, within limits
        assert reply.params["text"] != APOLOGY


async def test_odd_buttons_never_break_a_handler(
    reader: ReaderBot, tg: FakeTelegram, awa: Chat
) -> None:
    for data in ("l:99999:5", "l:5:0", "l:5:x", "s:5:", "s:0:" + "é" * 20, "t+:", "-:zz", "x" * 64):
        await awa.press(data)
    assert all(c.status == 200 for c in tg.calls("answerCallbackQuery"))
    assert not [r for r in awa.replies() if r.params["text"] == APOLOGY]


async def test_a_failing_handler_is_logged_without_the_token_and_answered_with_an_apology(
    reader: ReaderBot,
    awa: Chat,
    john: Chat,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(**_kwargs: object) -> None:
        raise RuntimeError(f"database exploded while calling bot{DEFAULT_TOKEN}/getMe")

    monkeypatch.setattr(reader.readers, "latest", broken)
    caplog.set_level(logging.ERROR, logger="relais.readers")
    assert await awa.text("/latest") == APOLOGY
    assert await john.text("/latest") == (
        "Sorry, something went wrong on my side. Please try again in a moment."
    )
    assert "a handler failed (user 555)" in caplog.text
    assert "database exploded" in caplog.text and "Traceback" in caplog.text
    assert DEFAULT_TOKEN not in caplog.text
    for reply in awa.replies() + john.replies():
        assert "Traceback" not in reply.params["text"]
    # the bot goes on answering
    assert (await awa.text("/help")).startswith("Voici ce que je sais faire")


async def test_a_failing_button_is_answered_too(
    reader: ReaderBot, tg: FakeTelegram, awa: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(reader.readers, "latest", broken)
    replies = await awa.press("l:5:5", expect=1)
    assert [r.params["text"] for r in replies] == [APOLOGY]
    assert tg.calls("answerCallbackQuery")


async def test_the_user_id_is_in_the_log_of_a_refusal(
    reader: ReaderBot, awa: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="relais.admin")
    await awa.say("/retry 1")
    assert f"refused /retry from user {FR}" in caplog.text

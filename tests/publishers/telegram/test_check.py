"""`relais check --online` for Telegram: token, channel, rights, and what to fix, in French."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.ext import ExtBot

from bot.models import ChannelType
from bot.publishers.telegram import BOT_CHECK_ID, CheckLine, check_channels
from bot.settings import ChannelSettings
from tests.fakes.telegram_api import FakeTelegram, Reply
from tests.publishers.telegram.conftest import CHANNEL, CHANNEL_ID, channel, open_bot

BOT = "@relais_test_bot"


def by_id(lines: list[CheckLine]) -> dict[str, CheckLine]:
    return {line.channel_id: line for line in lines}


async def test_all_good(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    others = [
        ChannelSettings(id="out", type=ChannelType.CONSOLE),
        ChannelSettings(id="fb", type=ChannelType.FACEBOOK, page_id="1", token="x"),  # type: ignore[arg-type]
    ]
    lines = await check_channels(bot, [channel(), *others])
    assert [line.channel_id for line in lines] == [BOT_CHECK_ID, "tg-main"]  # others ignored
    head, line = lines
    assert head.ok
    assert BOT in head.message
    assert str(tg.bot_id) in head.message
    assert line.ok
    assert "@bamada_net" in line.message
    assert "Bamada.net" in line.message
    assert "peut publier" in line.message
    [member_call] = tg.calls("getChatMember")
    assert member_call.params == {"chat_id": str(CHANNEL_ID), "user_id": str(tg.bot_id)}


async def test_bot_not_admin(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    tg.set_member(CHANNEL, None, "member")
    line = by_id(await check_channels(bot, [channel()]))["tg-main"]
    assert not line.ok
    assert line.message == (
        "Le bot n'est pas administrateur de @bamada_net : ouvrez la chaîne › Administrateurs › "
        f"Ajouter un administrateur, choisissez {BOT} et cochez « Publier des messages »."
    )


@pytest.mark.parametrize("status", ["left", "member", "restricted"])
async def test_bot_absent_or_plain_member(tg: FakeTelegram, bot: ExtBot[Any], status: str) -> None:
    tg.set_member(CHANNEL, None, status)
    line = by_id(await check_channels(bot, [channel()]))["tg-main"]
    assert not line.ok
    assert "n'est pas administrateur" in line.message


async def test_admin_without_the_right_to_post(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    tg.set_member(CHANNEL, None, "administrator", can_post_messages=False)
    line = by_id(await check_channels(bot, [channel()]))["tg-main"]
    assert not line.ok
    assert "administrateur de @bamada_net mais sans le droit « Publier des messages »" in (
        line.message
    )
    assert f"Administrateurs › {BOT}" in line.message


async def test_bot_banned(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    tg.set_member(CHANNEL, None, "kicked")
    line = by_id(await check_channels(bot, [channel()]))["tg-main"]
    assert not line.ok
    assert "banni" in line.message
    assert "débannissez" in line.message


async def test_owner_can_post(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    tg.set_member(CHANNEL, None, "creator")
    assert by_id(await check_channels(bot, [channel()]))["tg-main"].ok


async def test_chat_not_found(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    lines = await check_channels(bot, [channel("@chaine_inconnue"), channel(id="tg-ok")])
    bad, good = lines[1], lines[2]
    assert not bad.ok
    assert "La chaîne @chaine_inconnue est introuvable" in bad.message
    assert "vérifiez `chat`" in bad.message
    assert good.ok  # one bad channel does not hide the others


async def test_numeric_chat_id(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    line = by_id(await check_channels(bot, [channel(str(CHANNEL_ID))]))["tg-main"]
    assert line.ok
    assert tg.calls("getChat")[-1].params["chat_id"] == str(CHANNEL_ID)


async def test_bot_not_member_of_a_private_channel(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    tg.inject("getChat", Reply.not_member())
    line = by_id(await check_channels(bot, [channel()]))["tg-main"]
    assert not line.ok
    assert "n'est pas membre" in line.message
    assert "Publier des messages" in line.message


async def test_migrated_group(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    tg.inject("getChat", Reply.migrated(-1005550001))
    line = by_id(await check_channels(bot, [channel()]))["tg-main"]
    assert not line.ok
    assert "-1005550001" in line.message


async def test_groups(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    tg.set_chat(-1004000000004, username="groupe_bamada", title="Groupe", type="supergroup")
    tg.set_member(-1004000000004, None, "member")
    tg.set_chat(-4005, title="Petit groupe", type="group")
    tg.set_member(-4005, None, "restricted", can_send_messages=False)
    lines = by_id(
        await check_channels(bot, [channel("@groupe_bamada", id="g1"), channel("-4005", id="g2")])
    )
    assert lines["g1"].ok
    assert not lines["g2"].ok
    assert "restreint" in lines["g2"].message


async def test_bad_token(tg: FakeTelegram) -> None:
    bot = await open_bot(tg, token="7012345678:AAF-not-the-right-token-yyyyyyyyyyyyyyy")
    try:
        lines = await check_channels(bot, [channel(), channel(id="tg-2")])
    finally:
        await bot.shutdown()
    head, *rest = lines
    assert (head.channel_id, head.ok) == (BOT_CHECK_ID, False)
    assert "Telegram refuse le jeton du bot" in head.message
    assert "@BotFather" in head.message
    assert [(line.channel_id, line.ok) for line in rest] == [("tg-main", False), ("tg-2", False)]
    assert all("non vérifiée" in line.message for line in rest)
    assert tg.calls("getChat") == []
    assert all("yyyyyyyy" not in line.message for line in lines)


async def test_telegram_unreachable(tg: FakeTelegram, unused_port: int) -> None:
    bot = await open_bot(tg, api_url=f"http://127.0.0.1:{unused_port}/bot")
    try:
        lines = await check_channels(bot, [channel()])
    finally:
        await bot.shutdown()
    assert not lines[0].ok
    assert "Impossible de joindre Telegram" in lines[0].message
    assert not lines[1].ok
    assert tg.token not in lines[0].message


async def test_private_chat(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    tg.set_chat(123456789, type="private", first_name="Awa")
    line = by_id(await check_channels(bot, [channel("123456789", id="dm")]))["dm"]
    assert line.ok
    assert "conversation privée avec Awa" in line.message
    assert tg.calls("getChatMember") == []

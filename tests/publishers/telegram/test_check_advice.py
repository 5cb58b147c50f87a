"""The advice of `relais check --online` for Telegram, from gathered facts: a table, no network."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.publishers.telegram.check import (
    BOT_CHECK_ID,
    BotFacts,
    ChatFacts,
    advise_bot,
    advise_chat,
    advise_unchecked,
)
from bot.publishers.telegram.errors import FailureKind, TelegramFailure

BOT = "@relais_test_bot"


def chat(**kw: object) -> ChatFacts:
    """A channel the bot was asked about; override what the row is about."""
    base = ChatFacts(
        channel_id="tg-main",
        chat="@bamada_net",
        bot=BOT,
        shown="@bamada_net",
        name="Bamada.net",
        type="channel",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def failed(step: str, kind: FailureKind, description: str = "", **kw: object) -> ChatFacts:
    failure = TelegramFailure(kind, description=description, **kw)  # type: ignore[arg-type]
    return chat(failure=failure, step=step, shown="", name="", type="")


@pytest.mark.parametrize(
    ("facts", "ok", "fragments"),
    [
        # a channel: the owner, or an administrator with "Post Messages"
        (chat(status="creator"), True, ["@bamada_net (« Bamada.net ») : le bot peut publier."]),
        (chat(status="administrator", can_post=True), True, ["le bot peut publier"]),
        (
            chat(status="administrator", can_post=False),
            False,
            ["administrateur de @bamada_net mais sans le droit", f"Administrateurs › {BOT}"],
        ),
        (chat(status="kicked"), False, ["banni", "débannissez", f"choisissez {BOT}"]),
        (chat(status="member"), False, ["n'est pas administrateur", "Ajouter un administrateur"]),
        (chat(status="left"), False, ["n'est pas administrateur"]),
        (chat(status="restricted"), False, ["n'est pas administrateur"]),
        # a group: an admin can post, a member when members may write
        (chat(type="supergroup", status="administrator"), True, ["le bot peut publier"]),
        (chat(type="group", status="member"), True, ["le bot peut publier"]),
        (
            chat(type="group", status="member", members_can_send=False),
            False,
            ["ne peuvent pas écrire", f"nommez {BOT} administrateur"],
        ),
        (chat(type="group", status="restricted", can_send=True), True, ["le bot peut publier"]),
        (chat(type="group", status="restricted"), False, ["restreint", "Envoyer des messages"]),
        (
            chat(type="group", status="kicked"),
            False,
            ["banni", f"Ajouter des membres et ajoutez {BOT}"],
        ),
        (chat(type="group", status="left"), False, ["n'est pas membre", "Ajouter des membres"]),
        # a private chat: no membership to ask about
        (chat(type="private", name="Awa", shown="123"), True, ["conversation privée avec Awa"]),
        # getChat failed
        (failed("chat", "moved", new_chat_id=-1005550001), False, ["supergroupe", "-1005550001"]),
        (failed("chat", "forbidden"), False, ["n'est pas membre de @bamada_net", "Publier des"]),
        (failed("chat", "refused", "Chat not found"), False, ["@bamada_net est introuvable"]),
        (failed("chat", "refused", "Peer_id_invalid"), False, ["introuvable", f"d'abord {BOT}"]),
        (failed("chat", "refused", "Group deactivated"), False, ["refuse l'accès", "deactivated"]),
        (
            failed("chat", "unreachable", "httpx.ConnectError"),
            False,
            ["impossible", "ConnectError"],
        ),
        # getChatMember failed
        (
            replace(failed("member", "forbidden"), shown="@bamada_net"),
            False,
            ["n'est pas membre de @bamada_net"],
        ),
        (
            replace(failed("member", "refused", "User not found"), shown="@bamada_net"),
            False,
            ["n'est pas administrateur de @bamada_net"],
        ),
        (
            replace(failed("member", "refused", "Participant_id_invalid"), shown="@x"),
            False,
            ["n'est pas administrateur de @x"],
        ),
        (
            replace(failed("member", "refused", "Bad thing"), shown="@x"),
            False,
            ["Vérification impossible pour @x : Bad thing."],
        ),
    ],
)
def test_chat_advice(facts: ChatFacts, ok: bool, fragments: list[str]) -> None:
    line = advise_chat(facts, "fr")
    assert (line.channel_id, line.ok) == ("tg-main", ok)
    for fragment in fragments:
        assert fragment in line.message


@pytest.mark.parametrize(
    ("kind", "reachable"),
    [("unreachable", False), ("timeout", False), ("flood", False), ("refused", True)],
)
def test_a_chat_line_says_whether_telegram_answered(kind: FailureKind, reachable: bool) -> None:
    assert advise_chat(failed("chat", kind), "fr").reachable is reachable


def test_bot_advice() -> None:
    good = advise_bot(BotFacts(username="relais_test_bot", id=42), "fr")
    assert (good.channel_id, good.ok, good.reachable) == (BOT_CHECK_ID, True, True)
    assert good.message == f"jeton valide : bot {BOT} (id 42)."

    refused = BotFacts(failure=TelegramFailure("token"))
    line = advise_bot(refused, "fr")
    assert not line.ok and line.reachable
    assert "@BotFather" in line.message
    assert "non vérifiée" in advise_unchecked(refused, "tg-main", "fr").message

    away = BotFacts(failure=TelegramFailure("unreachable", description="httpx.ConnectError: x"))
    line = advise_bot(away, "fr")
    assert not line.ok and not line.reachable
    assert "Impossible de joindre Telegram (httpx.ConnectError: x)" in line.message
    assert not advise_unchecked(away, "tg-main", "fr").reachable


def test_the_advice_speaks_the_sites_language() -> None:
    facts = chat(status="administrator", can_post=False)
    assert "Post Messages" in advise_chat(facts, "en").message
    assert "Publier des messages" in advise_chat(facts, "fr").message
    bot = BotFacts(failure=TelegramFailure("token"))
    assert advise_bot(bot, "en").message.startswith("Telegram refuses the bot token")

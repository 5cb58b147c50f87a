"""Reader commands through the real Application polling the fake Bot API, in both languages."""

from __future__ import annotations

from bot.content.telegram_html import validate_telegram_html
from bot.storage.store import Storage
from bot.telegram_bot.context import topic_token
from bot.telegram_bot.service import ReaderBot
from tests.builders import BAMADA
from tests.fakes.telegram_api import FakeTelegram, message_update
from tests.telegram_bot.conftest import ARCHIVE, EN, FR, START, Chat, Handled, buttons, record


def last_message_id(tg: FakeTelegram, chat: int) -> int:
    return int(tg.messages(chat)[-1]["message_id"])


async def test_start_and_help_in_both_languages(reader: ReaderBot, awa: Chat, john: Chat) -> None:
    welcome = await awa.text("/start")
    assert welcome.startswith("Bonjour Awa 👋")
    assert "Je suis le bot de <b>Bamada.net</b>" in welcome
    assert "/digest daily — un seul résumé chaque matin à 07:00" in welcome
    assert "Administration" not in welcome
    hello = await john.text("/start")
    assert hello.startswith("Hello John 👋") and "I am the bot of <b>Bamada.net</b>" in hello
    assert (await awa.text("/help")).startswith("Voici ce que je sais faire")
    assert (await john.text("/help")).startswith("Here is what I can do")
    for reply in awa.replies() + john.replies():
        validate_telegram_html(str(reply.params["text"]))
        assert reply.params["parse_mode"] == "HTML"


async def test_admins_see_their_commands_in_the_help(reader: ReaderBot, boss: Chat) -> None:
    assert "Administration : /status" in await boss.text("/help")


async def test_latest_with_more_button(reader: ReaderBot, awa: Chat, tg: FakeTelegram) -> None:
    [reply] = await awa.say("/latest")
    message = str(reply.params["text"])
    assert message.startswith("🗞 <b>Les derniers articles de Bamada.net</b>")
    assert message.count('<a href="') == 5
    assert "1. <a" in message and "5. <a" in message
    # a hostile title is escaped
    assert "Bamako : &lt;b&gt;coupures&lt;/b&gt; &amp; délestages" in message
    assert buttons(reply) == [("Plus ▸", "l:5:5")]
    [page] = await awa.press("l:5:5", message_id=last_message_id(tg, FR), expect=1)
    assert page.method == "editMessageText"
    assert "articles 6 à 7" in str(page.params["text"])
    assert str(page.params["text"]).count('<a href="') == 2
    assert buttons(page) == []
    # past the end: a short answer, no new message
    await awa.press("l:40:5", message_id=last_message_id(tg, FR))
    assert tg.calls("answerCallbackQuery")[-1].params["text"] == "C'est tout pour le moment."


async def test_latest_in_english_and_odd_counts(reader: ReaderBot, john: Chat, awa: Chat) -> None:
    [reply] = await john.say("/latest 2")
    assert str(reply.params["text"]).startswith("🗞 <b>The latest from Bamada.net</b>")
    assert str(reply.params["text"]).count('<a href="') == 2
    assert buttons(reply) == [("More ▸", "l:2:2")]
    assert "Nov" in str(reply.params["text"]) or "Oct" in str(reply.params["text"])
    big = await awa.text("/latest 99999999999999999999")
    assert big.count('<a href="') == len(ARCHIVE)  # clamped to 10, the archive has 7
    assert (await awa.text("/latest beaucoup")).startswith("Écrivez /latest")


async def test_latest_when_there_is_nothing(
    tg: FakeTelegram, storage: Storage, reader: ReaderBot, awa: Chat
) -> None:
    with storage.engine.begin() as conn:
        from bot.storage import tables as t

        conn.execute(t.article_search.delete())
        conn.execute(t.articles.delete())
    assert await awa.text("/latest") == "Aucun article pour l'instant. Revenez un peu plus tard !"


async def test_search_with_and_without_accents(reader: ReaderBot, awa: Chat, john: Chat) -> None:
    for query in ("securite", "Sécurité", "SECURITE mopti", "l'armée"):
        message = await awa.text(f"/search {query}")
        assert "l'armée malienne renforce sa présence à Mopti" in message, query
        assert message.count('<a href="') == 1
    message = await john.text("/search élections")
    assert message.startswith("🔎 <b>“élections”</b>")
    assert "le calendrier électoral publié" in message
    assert await awa.text("/search girafe") == (
        "Aucun article ne contient « girafe ». Essayez avec d'autres mots."
    )
    assert await john.text("/search zebra") == "No article contains “zebra”. Try other words."
    assert (await awa.text("/search")).startswith("Que cherchez-vous ?")
    assert (await john.text("/search ?!")).startswith("What are you looking for?")


async def test_plain_text_is_a_search(reader: ReaderBot, awa: Chat) -> None:
    message = await awa.text("vaccination rougeole")
    assert "une campagne de vaccination contre la rougeole" in message


async def test_search_pages(
    reader: ReaderBot, storage: Storage, awa: Chat, tg: FakeTelegram
) -> None:
    extra = [BAMADA.article(20 + n, title=f"Hivernage {n} : pluies à Kayes") for n in range(7)]
    record(storage, extra)
    reader.broadcaster.index_backlog()
    [first] = await awa.say("/search pluies kayes")
    assert str(first.params["text"]).count('<a href="') == 5
    [(_label, data)] = buttons(first)
    assert data == "s:5:pluie kaye"
    [second] = await awa.press(data, message_id=last_message_id(tg, FR), expect=1)
    assert str(second.params["text"]).count('<a href="') == 2
    assert "6. <a" in str(second.params["text"])


async def test_topics_and_the_inline_buttons(
    reader: ReaderBot, awa: Chat, tg: FakeTelegram
) -> None:
    [reply] = await awa.say("/topics")
    message = str(reply.params["text"])
    assert message.startswith("📚 <b>Les rubriques de Bamada.net</b>")
    assert "• Politique (2)" in message and "• Sécurité (1)" in message
    securite = topic_token("securite")
    assert ("➕ Sécurité", f"t+:{securite}") in buttons(reply)
    [edited] = await awa.press(f"t+:{securite}", message_id=last_message_id(tg, FR), expect=1)
    assert tg.calls("answerCallbackQuery")[-1].params["text"] == "Abonné à « Sécurité »"
    assert ("✅ Sécurité", f"t-:{securite}") in buttons(edited)
    assert "✅ Sécurité (1)" in str(edited.params["text"])
    assert [s.label for s in reader.readers.subscriptions(FR)] == ["Sécurité"]
    [edited] = await awa.press(f"t-:{securite}", message_id=last_message_id(tg, FR), expect=1)
    assert ("➕ Sécurité", f"t+:{securite}") in buttons(edited)
    assert reader.readers.subscriptions(FR) == []


async def test_topics_in_english(reader: ReaderBot, john: Chat) -> None:
    message = await john.text("/topics")
    assert message.startswith("📚 <b>Topics on Bamada.net</b>")
    assert "Tap a topic to subscribe" in message


async def test_subscribe_and_unsubscribe_by_command(reader: ReaderBot, awa: Chat) -> None:
    assert await awa.text("/subscribe securite") == (
        "✅ Vous suivez désormais « Sécurité ». Ses nouveaux articles arriveront ici."
    )
    assert await awa.text("/subscribe SÉCURITÉ") == "Vous suivez déjà « Sécurité »."
    assert (await awa.text("/subscribe Economie")).startswith(
        "✅ Vous suivez désormais « Économie »"
    )
    assert [s.topic for s in reader.readers.subscriptions(FR)] == ["economie", "securite"]
    assert await awa.text("/unsubscribe Sécurité") == "Vous ne suivez plus « Sécurité »."
    message = await awa.text("/unsubscribe sport")
    assert message.startswith("Vous ne suiviez pas « sport ».")
    assert "Vos rubriques : Économie" in message
    assert (await awa.text("/subscribe")).startswith("Écrivez le nom d'une rubrique")
    row = reader.readers.subscriber(FR)
    assert row is not None and row.language is None and row.telegram_language == "fr"


async def test_unknown_topic_gets_suggestions_with_buttons(
    reader: ReaderBot, awa: Chat, john: Chat, tg: FakeTelegram
) -> None:
    [reply] = await awa.say("/subscribe secu")
    message = str(reply.params["text"])
    assert message.startswith("Je ne connais pas de rubrique « secu ».")
    assert "Vouliez-vous dire : Sécurité ?" in message
    assert buttons(reply) == [("➕ Sécurité", f"+:{topic_token('securite')}")]
    [confirm] = await awa.press(f"+:{topic_token('securite')}", expect=1)
    assert str(confirm.params["text"]).startswith("✅ Vous suivez désormais « Sécurité »")
    assert (await john.text("/subscribe weather")).startswith("I know no topic called “weather”.")
    # a forged or stale button
    await awa.press("+:000000000000")
    assert tg.calls("answerCallbackQuery")[-1].params["text"].startswith("Ce bouton n'est plus")
    await awa.press("nonsense")
    assert tg.calls("answerCallbackQuery")[-1].params["text"].startswith("Ce bouton n'est plus")


async def test_unsubscribe_in_english_with_buttons(
    reader: ReaderBot, john: Chat, tg: FakeTelegram
) -> None:
    assert (await john.text("/unsubscribe")).startswith("Send the topic's name")
    await john.say("/subscribe Sport")
    [reply] = await john.say("/unsubscribe")
    assert "Your topics: Sport" in str(reply.params["text"])
    assert buttons(reply) == [("✖ Sport", f"-:{topic_token('sport')}")]
    await john.press(f"-:{topic_token('sport')}")
    assert tg.calls("answerCallbackQuery")[-1].params["text"] == "Unsubscribed from “Sport”"
    assert reader.readers.subscriptions(EN) == []


async def test_digest_in_both_languages(reader: ReaderBot, awa: Chat, john: Chat) -> None:
    usage = await awa.text("/digest")
    assert (
        usage.startswith("Écrivez /digest daily")
        and "Actuellement : un message par article" in usage
    )
    assert (await awa.text("/digest daily")).startswith("☀️ C'est noté : chaque matin à 07:00")
    row = reader.readers.subscriber(FR)
    assert row is not None and row.digest and row.digest_since == START
    assert "Actuellement : résumé quotidien" in await awa.text("/digest")
    assert (await awa.text("/digest off")).startswith("C'est noté : plus de résumé")
    row = reader.readers.subscriber(FR)
    assert row is not None and not row.digest
    await john.say("/subscribe Sport")
    assert (await john.text("/digest daily")).startswith("☀️ Done: every morning at 07:00")
    assert (await john.text("/digest off")).startswith("Done: no more summary")


async def test_lang_switches_the_catalogue(reader: ReaderBot, awa: Chat) -> None:
    assert await awa.text("/lang en") == "Done: I will speak English with you."
    assert (await awa.text("/help")).startswith("Here is what I can do")
    assert (await awa.text("/lang klingon")).startswith("Send /lang en for English")
    assert await awa.text("/lang FR") == "C'est noté : je vous parlerai en français."
    assert (await awa.text("/help")).startswith("Voici ce que je sais faire")


async def test_the_site_language_when_telegram_gives_none(
    tg: FakeTelegram, reader: ReaderBot
) -> None:
    nobody = Chat(tg, 558, None)
    tg.set_chat(558, type="private", first_name="Ali")
    assert (await nobody.text("/help")).startswith("Voici ce que je sais faire")


async def test_stop_erases_the_reader(reader: ReaderBot, storage: Storage, awa: Chat) -> None:
    await awa.say("/subscribe Sécurité")
    await awa.say("/digest daily")
    await awa.say("/lang en")
    reader.readers.set_digest(FR, FR, False, START)
    fresh = BAMADA.article(30, categories=("Sécurité",), published=START)
    record(storage, [fresh])
    reader.on_new_articles([fresh], START)
    assert reader.readers.broadcast_rows(user_id=FR)
    assert (await awa.text("/stop")).startswith("Done: I erased everything I knew about you")
    assert reader.readers.subscriber(FR) is None
    assert reader.readers.subscriptions(FR) == []
    assert reader.readers.broadcast_rows(user_id=FR) == []
    assert reader.readers.digest_rows(user_id=FR) == []
    # nothing kept: French again (Telegram's language), and nothing to erase
    assert (await awa.text("/stop")).startswith("Je ne garde rien sur vous")


async def test_unknown_commands_and_groups(
    reader: ReaderBot, awa: Chat, tg: FakeTelegram, handled: Handled
) -> None:
    assert await awa.text("/frobnicate") == "Je ne connais pas cette commande. /help pour la liste."
    tg.set_chat(-4242, type="group", title="Grin", bot_status="member")
    before = len(tg.calls("sendMessage"))
    in_group = [
        tg.push_update(message_update("/latest", chat_id=-4242, user_id=FR, chat_type="group")),
        tg.push_update(message_update("/status", chat_id=-4242, user_id=FR, chat_type="group")),
    ]
    await awa.say("/help")
    await handled.wait(*in_group)  # the group's updates are handled: they got no answer
    assert len(tg.calls("sendMessage")) == before + 1

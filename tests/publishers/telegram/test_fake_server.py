"""The fake Bot API server itself: it must answer, record and refuse the way Telegram does."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Bot, InputFile, Update
from telegram.error import BadRequest, InvalidToken, NetworkError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

import tests.fakes.telegram_api as fake_module
from tests.fakes.telegram_api import (
    CORPUS_DIR,
    EntityParseError,
    FakeTelegram,
    Reply,
    callback_update,
    image_kind,
    load_error_body,
    message_update,
    parse_html,
    tiny_png,
    utf16_len,
)
from tests.publishers.telegram.conftest import CHANNEL, CHANNEL_ID
from tests.waiting import wait_until

SPEC = CORPUS_DIR / "api_specs" / "telegram_bot_api_9.2_spec.json"
needs_corpus = pytest.mark.skipif(not CORPUS_DIR.is_dir(), reason="../shared/corpus is absent")


def api(tg: FakeTelegram, method: str, token: str | None = None, **params: Any) -> httpx.Response:
    """A raw form-encoded call, as python-telegram-bot makes them."""
    data = {k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in params.items()}
    return httpx.post(f"{tg.base_url}{token or tg.token}/{method}", data=data, timeout=5)


def send(tg: FakeTelegram, text: str, **params: Any) -> httpx.Response:
    return api(tg, "sendMessage", chat_id=CHANNEL, text=text, parse_mode="HTML", **params)


def description(response: httpx.Response) -> str:
    body = response.json()
    assert body["ok"] is False
    return str(body["description"])


# -- HTML and lengths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<p>Bonjour</p>", 'Unsupported start tag "p"'),
        ("Bamako&nbsp;: la crue", 'Unsupported HTML entity "&nbsp;"'),
        ("Guerre &mdash; paix", 'Unsupported HTML entity "&mdash;"'),
        ("<b>Titre", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>Titre</i>", 'expected "</b>", found "</i>"'),
        ("Titre</b>", "Unexpected end tag"),
        ("<br/>ligne", 'Unsupported start tag "br"'),
        ('<img src="x.jpg">', 'Unsupported start tag "img"'),
        ("AT&T", 'Unsupported HTML entity "&T"'),
        ("un & deux", 'Unsupported character "&"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ('<span class="x">a</span>', 'must have class "tg-spoiler"'),
        ("<b>Titre", "can't parse entities"),
    ],
)
def test_rejects_what_telegram_html_rejects(tg: FakeTelegram, text: str, expected: str) -> None:
    response = send(tg, text)
    assert response.status_code == 400
    assert description(response).startswith("Bad Request: can't parse entities: ")
    assert expected in description(response)
    assert tg.messages(CHANNEL) == []


@pytest.mark.parametrize(
    "text",
    [
        "<b>Titre</b>\n\nTexte &lt;brut&gt; &amp; &quot;cité&quot; &#8217; &#x2019;",
        '<a href="https://bamada.net/?a=1&amp;b=2">lien</a> <i>i</i> <u>u</u> <s>s</s>',
        "<strong>a</strong><em>b</em><ins>c</ins><strike>d</strike><del>e</del>",
        '<span class="tg-spoiler">x</span> <tg-spoiler>y</tg-spoiler> <code>z</code>',
        '<pre><code class="language-python">print(1)</code></pre>',
        "<blockquote expandable>citation</blockquote> <blockquote>b</blockquote>",
        "<B>Majuscules</B> 1 &lt; 2 et 3 > 2",
    ],
)
def test_accepts_valid_telegram_html(tg: FakeTelegram, text: str) -> None:
    response = send(tg, text)
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True


def test_entities_are_counted_in_utf16_after_parsing() -> None:
    text, entities = parse_html("🇲🇱 <b>Mali</b> &amp; <a href='https://x.ml'>lien</a>")
    assert text == "🇲🇱 Mali & lien"
    assert entities == [
        {"type": "bold", "offset": 5, "length": 4},
        {"type": "text_link", "offset": 12, "length": 4, "url": "https://x.ml"},
    ]
    with pytest.raises(EntityParseError, match="byte offset 9"):
        parse_html("🇲🇱 <p>")  # 8 bytes of flag + 1 space before the tag


def test_text_limit_is_4096_utf16_units_after_entities(tg: FakeTelegram) -> None:
    assert utf16_len("🇲🇱") == 4  # two regional indicators outside the BMP
    exact = "<b>" + "é" * 4092 + "🇲🇱" + "</b>"  # tags and the emoji: 4092 + 4 = 4096 units
    assert send(tg, exact).status_code == 200
    over = exact.replace("é", "&amp;", 1) + "x"  # an entity counts one character
    response = send(tg, over)
    assert response.status_code == 400
    assert description(response) == "Bad Request: message is too long"
    plain = "a" * 4097
    assert description(api(tg, "sendMessage", chat_id=CHANNEL, text=plain)) == (
        "Bad Request: message is too long"
    )


def test_caption_limit_is_1024_utf16_units_counting_emoji_twice(tg: FakeTelegram) -> None:
    photo = tg.static_url("photo.png")
    caption = "📰" * 512  # 512 characters, 1024 UTF-16 units
    ok = api(tg, "sendPhoto", chat_id=CHANNEL, photo=photo, caption=caption, parse_mode="HTML")
    assert ok.status_code == 200, ok.text
    assert len(caption + "a") == 513  # far below 1024 characters...
    refused = api(
        tg, "sendPhoto", chat_id=CHANNEL, photo=photo, caption=caption + "a", parse_mode="HTML"
    )
    assert refused.status_code == 400  # ...but 1025 units
    assert description(refused) == "Bad Request: message caption is too long"


def test_empty_text_is_refused(tg: FakeTelegram) -> None:
    assert description(send(tg, "")) == "Bad Request: message text is empty"
    assert description(send(tg, "<b> </b>\n")) == "Bad Request: message text is empty"


def test_invalid_button_url_is_refused(tg: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "Lire", "url": "javascript:alert(1)"}]]}
    response = send(tg, "texte", reply_markup=markup)
    assert description(response) == "Bad Request: BUTTON_URL_INVALID"


# -- answers ----------------------------------------------------------------------------------


def test_message_shape_and_ids_increment_per_chat(tg: FakeTelegram) -> None:
    tg.set_chat(-1009, username="autre_chaine", title="Autre")
    markup = {"inline_keyboard": [[{"text": "Lire l'article", "url": "https://bamada.net/a"}]]}
    first = send(tg, "<b>Un</b>", reply_markup=markup).json()["result"]
    second = send(tg, "Deux").json()["result"]
    other = api(tg, "sendMessage", chat_id="-1009", text="Ailleurs").json()["result"]
    assert (first["message_id"], second["message_id"], other["message_id"]) == (1, 2, 1)
    assert first["chat"] == {
        "id": CHANNEL_ID,
        "type": "channel",
        "title": "Bamada.net",
        "username": "bamada_net",
    }
    assert first["text"] == "Un"
    assert first["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    assert first["reply_markup"] == markup
    assert abs(first["date"] - time.time()) < 60
    assert [m["message_id"] for m in tg.messages(CHANNEL)] == [1, 2]


def test_records_calls_with_decoded_params(tg: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "Lire", "url": "https://bamada.net/a"}]]}
    send(tg, "x", reply_markup=markup, disable_notification="true")
    [call] = tg.calls("sendMessage")
    assert call.token == tg.token
    assert call.params["reply_markup"] == markup  # JSON-decoded
    assert call.params["disable_notification"] == "true"
    assert call.uploaded is False
    assert call.status == 200
    assert tg.calls("getMe") == []


async def test_python_telegram_bot_talks_to_it(tg: FakeTelegram) -> None:
    async with Bot(tg.token, base_url=tg.base_url) as bot:
        me = await bot.get_me()
        assert me.username == tg.bot_username
        photo = await bot.send_photo(
            CHANNEL, InputFile(tiny_png(), filename="une.png"), caption="x"
        )
        assert photo.photo[-1].width == 1280
        chat = await bot.get_chat(CHANNEL)
        assert (chat.id, chat.type, chat.title) == (CHANNEL_ID, "channel", "Bamada.net")
        member = await bot.get_chat_member(CHANNEL, me.id)
        assert member.status == "administrator"
        assert await bot.delete_webhook() is True
        assert await bot.set_my_commands([("latest", "Derniers articles")]) is True
        assert await bot.send_chat_action(CHANNEL, "typing") is True
        await bot.send_message(CHANNEL, "ancien")
        edited = await bot.edit_message_text("nouveau", chat_id=CHANNEL, message_id=2)
        assert edited is not True
        assert edited.text == "nouveau"
        assert await bot.answer_callback_query("42") is True
    [upload] = tg.calls("sendPhoto")
    assert upload.uploaded
    assert upload.photo_source == "upload"
    assert upload.files["photo"].filename == "une.png"
    assert upload.files["photo"].data == tiny_png()
    assert tg.commands() == [{"command": "latest", "description": "Derniers articles"}]


def test_photo_by_url_file_id_or_upload_is_recorded(tg: FakeTelegram) -> None:
    api(tg, "sendPhoto", chat_id=CHANNEL, photo=tg.static_url("photo.png"))
    api(tg, "sendPhoto", chat_id=CHANNEL, photo="AgACAgQAAxkDAAI0000010")
    files = {"photo": ("p.png", tiny_png(), "image/png")}
    httpx.post(f"{tg.base_url}{tg.token}/sendPhoto", data={"chat_id": CHANNEL}, files=files)
    assert [c.photo_source for c in tg.calls("sendPhoto")] == ["url", "file_id", "upload"]
    assert [c.status for c in tg.calls("sendPhoto")] == [200, 200, 200]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("missing.jpg", "Bad Request: failed to get HTTP URL content"),
        ("page.html", "Bad Request: wrong type of the web page content"),
    ],
)
def test_photo_url_on_the_fake_is_judged_like_telegram(
    tg: FakeTelegram, name: str, expected: str
) -> None:
    response = api(tg, "sendPhoto", chat_id=CHANNEL, photo=tg.static_url(name))
    assert description(response) == expected


def test_an_uploaded_non_image_is_refused(tg: FakeTelegram) -> None:
    files = {"photo": ("p.png", b"<html>not an image</html>", "image/png")}
    response = httpx.post(
        f"{tg.base_url}{tg.token}/sendPhoto", data={"chat_id": CHANNEL}, files=files
    )
    assert description(response) == "Bad Request: IMAGE_PROCESS_FAILED"


def test_unknown_chat_bad_token_and_unknown_method(tg: FakeTelegram) -> None:
    response = api(tg, "sendMessage", chat_id="@nulle_part", text="x")
    assert (response.status_code, description(response)) == (400, "Bad Request: chat not found")
    response = api(tg, "getMe", token="123:wrong")
    assert (response.status_code, description(response)) == (401, "Unauthorized")
    assert tg.calls("getMe")[-1].status == 401
    response = api(tg, "sendTelepathy", chat_id=CHANNEL)
    assert (response.status_code, description(response)) == (404, "Not Found")
    assert httpx.get(f"{tg.url}/nowhere").status_code == 404


def test_bot_rights_in_the_channel_are_enforced(tg: FakeTelegram) -> None:
    tg.set_member(CHANNEL, None, "administrator", can_post_messages=False)
    response = send(tg, "x")
    assert description(response) == "Bad Request: need administrator rights in the channel chat"
    tg.set_member(CHANNEL, None, "left")
    response = send(tg, "x")
    assert response.status_code == 403
    assert description(response) == "Forbidden: bot is not a member of the channel chat"
    tg.set_member(CHANNEL, None, "kicked")
    assert description(send(tg, "x")) == "Forbidden: bot was kicked from the channel chat"
    member = api(tg, "getChatMember", chat_id=CHANNEL, user_id=tg.bot_id).json()["result"]
    assert member["status"] == "kicked"


def test_blocked_private_chat(tg: FakeTelegram) -> None:
    tg.set_chat(555, type="private", first_name="Awa", blocked=True)
    response = api(tg, "sendMessage", chat_id=555, text="x")
    assert (response.status_code, description(response)) == (
        403,
        "Forbidden: bot was blocked by the user",
    )


# -- scripted failures ------------------------------------------------------------------------


def test_injection_times_and_match(tg: FakeTelegram) -> None:
    tg.set_chat(-1009, username="autre_chaine")
    tg.inject("sendMessage", Reply.flood(7), times=2, match={"chat_id": "@autre_chaine"})
    assert send(tg, "x").status_code == 200  # another chat: not matched
    other = api(tg, "sendMessage", chat_id="@autre_chaine", text="x")
    assert other.status_code == 429
    assert other.json()["parameters"] == {"retry_after": 7}
    assert other.json()["description"] == "Too Many Requests: retry after 7"
    assert api(tg, "sendMessage", chat_id="@autre_chaine", text="x").status_code == 429
    assert api(tg, "sendMessage", chat_id="@autre_chaine", text="x").status_code == 200
    tg.inject("sendMessage", Reply.server_error(), match=lambda p: p.get("text") == "boom")
    assert send(tg, "calme").status_code == 200
    assert send(tg, "boom").status_code == 500


def test_bad_gateway_is_an_html_page(tg: FakeTelegram) -> None:
    tg.inject("getMe", Reply.bad_gateway())
    response = api(tg, "getMe")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert b"502 Bad Gateway" in response.content


def test_migrated_chat_body(tg: FakeTelegram) -> None:
    tg.inject("sendMessage", Reply.migrated(-1009999))
    body = send(tg, "x").json()
    assert body["error_code"] == 400
    assert body["parameters"]["migrate_to_chat_id"] == -1009999
    assert "migrated" in body["description"]


def test_slow_reply_still_posts_the_message(tg: FakeTelegram) -> None:
    tg.inject("sendMessage", Reply.slow(0.3))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{tg.base_url}{tg.token}/sendMessage",
            data={"chat_id": CHANNEL, "text": "lent"},
            timeout=httpx.Timeout(5, read=0.1),
        )
    assert [m["text"] for m in wait_until(lambda: tg.messages(CHANNEL))] == ["lent"]


def test_drop_and_close_after(tg: FakeTelegram) -> None:
    with httpx.Client(base_url=f"{tg.base_url}{tg.token}", timeout=5) as client:
        tg.inject("getMe", Reply.drop_connection())
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/getMe")
        tg.inject("getMe", Reply.close_after())
        response = client.post("/getMe")
        assert response.status_code == 200
        assert response.headers["connection"] == "close"
        assert client.post("/getMe").status_code == 200  # a new connection works
    assert [c.status for c in tg.calls("getMe")] == [None, 200, 200]


async def test_ptb_sees_scripted_errors(tg: FakeTelegram) -> None:
    async with Bot(tg.token, base_url=tg.base_url) as bot:
        tg.inject("sendMessage", Reply.chat_not_found())
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(CHANNEL, "x")
        tg.inject("sendMessage", Reply.bad_gateway())
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(CHANNEL, "x")
        tg.inject("getMe", Reply.unauthorized())
        with pytest.raises(InvalidToken):
            await bot.get_me()
        assert (await bot.send_message(CHANNEL, "x")).message_id == 1


# -- updates ----------------------------------------------------------------------------------


def test_get_updates_honours_offset_and_timeout(tg: FakeTelegram) -> None:
    first = tg.push_update({"message": {"message_id": 1, "date": 0, "chat": {"id": 5}}})
    second = tg.push_update({"message": {"message_id": 2, "date": 0, "chat": {"id": 5}}})
    assert second == first + 1
    got = api(tg, "getUpdates").json()["result"]
    assert [u["update_id"] for u in got] == [first, second]
    got = api(tg, "getUpdates", offset=second).json()["result"]
    assert [u["update_id"] for u in got] == [second]
    assert [u["update_id"] for u in tg.pending_updates()] == [second]  # first confirmed
    started = time.monotonic()
    assert api(tg, "getUpdates", offset=second + 1, timeout=0).json()["result"] == []
    assert time.monotonic() - started < 0.5


def test_long_poll_returns_when_an_update_arrives(tg: FakeTelegram) -> None:
    timer = threading.Timer(0.1, tg.push_update, args=({"update_id": 77},))
    timer.start()
    started = time.monotonic()
    got = api(tg, "getUpdates", timeout=30).json()["result"]
    elapsed = time.monotonic() - started
    timer.join()
    assert [u["update_id"] for u in got] == [77]
    assert elapsed < tg.long_poll_cap  # woke up on the update, did not wait for the cap


def test_long_poll_is_capped(tg: FakeTelegram) -> None:
    tg.long_poll_cap = 0.2
    started = time.monotonic()
    assert api(tg, "getUpdates", timeout=30).json()["result"] == []
    assert 0.15 < time.monotonic() - started < 1.5


async def test_a_polling_application_reads_updates_and_answers(tg: FakeTelegram) -> None:
    """What the reader bot will do: long polling, a command, a button press."""
    tg.set_chat(555, type="private", first_name="Awa")
    done = asyncio.Event()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Bienvenue !")

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("ok")
        done.set()

    app = Application.builder().token(tg.token).base_url(tg.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    first = tg.push_update(message_update("/start"))
    tg.push_update(callback_update("subscribe:politique"))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1, poll_interval=0)
        await asyncio.wait_for(done.wait(), timeout=5)
        await app.updater.stop()
        await app.stop()
    assert tg.calls("deleteWebhook")
    [welcome] = tg.calls("sendMessage")
    assert welcome.params == {"chat_id": "555", "text": "Bienvenue !"}
    [answer] = tg.calls("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "4242"
    # on stop, python-telegram-bot confirms what it handled with a last getUpdates(offset)
    assert tg.pending_updates() == []
    assert tg.calls("getUpdates")[-1].params["offset"] == str(first + 2)


# -- static files, corpus ---------------------------------------------------------------------


def test_static_files(tg: FakeTelegram) -> None:
    with httpx.Client(timeout=5) as client:
        png = client.get(tg.static_url("photo.png"))
        assert (png.status_code, png.headers["content-type"]) == (200, "image/png")
        assert image_kind(png.content) == "png"
        assert client.get(tg.static_url("missing.jpg")).status_code == 404
        assert (
            client.get(tg.static_url("page.html")).headers["content-type"].startswith("text/html")
        )
        redirected = client.get(tg.static_url("redirect.png"), follow_redirects=True)
        assert redirected.content == tiny_png()
        url = tg.add_static("stream.png", tiny_png(), no_length=True)
        streamed = client.get(url)
        assert "content-length" not in streamed.headers
        assert streamed.content == tiny_png()
    assert tg.static_hits() == [
        "photo.png",
        "missing.jpg",
        "page.html",
        "redirect.png",
        "photo.png",
        "stream.png",
    ]


def test_tiny_png_is_a_valid_png() -> None:
    data = tiny_png(3, 2)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(data[16:20], "big") == 3  # IHDR width
    assert int.from_bytes(data[20:24], "big") == 2  # IHDR height


def test_error_bodies_work_without_the_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake_module, "TELEGRAM_ERRORS_DIR", Path("/nonexistent/corpus"))
    assert load_error_body("too-many-requests") == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after X",
        "parameters": {"retry_after": 123},
    }
    assert Reply.chat_not_found().body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: chat not found",
    }


@needs_corpus
def test_builtin_bodies_match_the_corpus() -> None:
    for name, (code, text, parameters) in fake_module.BUILTIN_ERRORS.items():
        path = fake_module.TELEGRAM_ERRORS_DIR / f"{name}.json"
        assert path.is_file(), name
        body = json.loads(path.read_text(encoding="utf-8"))
        assert (body["error_code"], body["description"]) == (code, text), name
        assert body.get("parameters") == parameters, name


@pytest.mark.skipif(not SPEC.is_file(), reason="the Bot API spec in ../shared/corpus is absent")
def test_answers_have_every_field_the_spec_requires(tg: FakeTelegram) -> None:
    types = json.loads(SPEC.read_text(encoding="utf-8"))["types"]

    def missing(obj: dict[str, Any], type_name: str) -> set[str]:
        required = {f["name"] for f in types[type_name].get("fields", []) if f["required"]}
        return required - set(obj)

    tg.set_member(CHANNEL, 42, "restricted")
    tg.set_member(CHANNEL, 43, "kicked")
    tg.set_member(CHANNEL, 44, "creator")
    results = {
        "User": api(tg, "getMe").json()["result"],
        "ChatFullInfo": api(tg, "getChat", chat_id=CHANNEL).json()["result"],
        "ChatMemberAdministrator": api(
            tg, "getChatMember", chat_id=CHANNEL, user_id=tg.bot_id
        ).json()["result"],
        "ChatMemberRestricted": api(tg, "getChatMember", chat_id=CHANNEL, user_id=42).json()[
            "result"
        ],
        "ChatMemberBanned": api(tg, "getChatMember", chat_id=CHANNEL, user_id=43).json()["result"],
        "ChatMemberOwner": api(tg, "getChatMember", chat_id=CHANNEL, user_id=44).json()["result"],
        "ChatMemberLeft": api(tg, "getChatMember", chat_id=CHANNEL, user_id=45).json()["result"],
        "Message": send(tg, "x").json()["result"],
    }
    photo = api(tg, "sendPhoto", chat_id=CHANNEL, photo=tg.static_url("photo.png")).json()
    for name, obj in results.items():
        assert missing(obj, name) == set(), name
    assert missing(results["Message"]["chat"], "Chat") == set()
    for size in photo["result"]["photo"]:
        assert missing(size, "PhotoSize") == set()
    assert missing(results["ChatFullInfo"]["accepted_gift_types"], "AcceptedGiftTypes") == set()

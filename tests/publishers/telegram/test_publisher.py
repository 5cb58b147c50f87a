"""TelegramPublisher against the fake Bot API, through the real python-telegram-bot client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from telegram.ext import ExtBot

from bot.clock import FakeClock
from bot.errors import PermanentError, TransientError, UnknownOutcomeError
from bot.models import ConsolePost, PublishResult, ReconcileOutcome
from bot.publishers.base import Publisher
from bot.publishers.telegram import BotTimeouts, TelegramPublisher, photo_refusal
from tests.fakes.telegram_api import (
    IMAGE_PROCESS_FAILED,
    PHOTO_URL_FAILED,
    PHOTO_URL_WRONG,
    PHOTO_URL_WRONG_TYPE,
    FakeTelegram,
    Reply,
    tiny_png,
)
from tests.publishers.telegram.conftest import ARTICLE, CHANNEL, CHANNEL_ID, channel, open_bot, post

# -- text posts -------------------------------------------------------------------------------


async def test_send_message_with_buttons_silent_and_preview(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    buttons = (
        (("Lire l'article", ARTICLE),),
        (("Bamada.net", "https://bamada.net/"), ("Facebook", "https://facebook.com/bamada")),
    )
    result = await publisher.publish(post(buttons=buttons, silent=True))

    assert result == PublishResult(remote_id="1", link="https://t.me/bamada_net/1")
    [call] = tg.calls("sendMessage")
    assert call.params["chat_id"] == CHANNEL
    assert call.params["parse_mode"] == "HTML"
    assert call.params["text"] == post().text
    assert call.params["disable_notification"] == "true"
    assert call.params["link_preview_options"] == {
        "url": ARTICLE,
        "prefer_large_media": True,
        "show_above_text": False,
    }
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Lire l'article", "url": ARTICLE}],
            [
                {"text": "Bamada.net", "url": "https://bamada.net/"},
                {"text": "Facebook", "url": "https://facebook.com/bamada"},
            ],
        ]
    }
    [message] = tg.messages(CHANNEL)
    assert message["text"].startswith("Le fleuve Niger en crue à Bamako")


async def test_ids_and_links_follow_the_channel(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    first = await publisher.publish(post())
    second = await publisher.publish(post(buttons=(), silent=False))
    assert (first.remote_id, second.remote_id) == ("1", "2")
    assert second.link == "https://t.me/bamada_net/2"
    call = tg.calls("sendMessage")[-1]
    assert "reply_markup" not in call.params
    assert call.params.get("disable_notification") in (None, "false")


async def test_channel_silent_setting_applies(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    publisher = TelegramPublisher(channel(silent=True), bot)
    await publisher.publish(post(silent=False))
    assert tg.calls("sendMessage")[-1].params["disable_notification"] == "true"


async def test_numeric_chat_link_comes_from_the_answer(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    public = TelegramPublisher(channel(str(CHANNEL_ID)), bot)
    result = await public.publish(post())
    assert tg.calls("sendMessage")[-1].params["chat_id"] == str(CHANNEL_ID)
    assert result.link == "https://t.me/bamada_net/1"

    tg.set_chat(-1002000000001, title="Rédaction (privée)")
    private = TelegramPublisher(channel("-1002000000001", id="tg-private"), bot)
    assert await private.publish(post()) == PublishResult(remote_id="1", link=None)


async def test_chat_id_override_for_a_migrated_chat(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    tg.set_chat(-1003000000003, title="Nouveau supergroupe", type="supergroup")
    publisher = TelegramPublisher(channel(), bot, chat_id=-1003000000003)
    assert publisher.chat == -1003000000003
    result = await publisher.publish(post())
    assert tg.calls("sendMessage")[-1].params["chat_id"] == "-1003000000003"
    assert result.remote_id == "1"
    assert result.link == "https://t.me/bamada_net/1"  # the configured public name still holds


async def test_send_photo_method_without_photo_posts_text(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    await publisher.publish(post(method="sendPhoto", photo=None))
    assert tg.calls("sendPhoto") == []
    assert len(tg.calls("sendMessage")) == 1


async def test_only_telegram_posts_are_accepted(publisher: TelegramPublisher) -> None:
    with pytest.raises(PermanentError, match="ConsolePost"):
        await publisher.publish(ConsolePost(text="x"))


async def test_reconcile_cannot_tell(publisher: TelegramPublisher) -> None:
    outcome = await publisher.reconcile(post(), datetime(2026, 11, 2, tzinfo=UTC))
    assert outcome.outcome is ReconcileOutcome.CANNOT_TELL
    assert outcome.result is None


def test_is_a_publisher(publisher: TelegramPublisher) -> None:
    assert isinstance(publisher, Publisher)
    assert publisher.channel_id == "tg-main"


def test_refuses_a_non_telegram_channel(bot: ExtBot[Any]) -> None:
    from bot.models import ChannelType
    from bot.settings import ChannelSettings

    with pytest.raises(ValueError, match="not a telegram channel"):
        TelegramPublisher(ChannelSettings(id="out", type=ChannelType.CONSOLE), bot)


# -- photos -----------------------------------------------------------------------------------


def photo_post(url: str, **kw: Any) -> Any:
    text = "<b>Le fleuve Niger en crue</b>\n\nLes eaux montent."
    return post(method="sendPhoto", photo=url, text=text, **kw)


async def test_send_photo_by_url(tg: FakeTelegram, publisher: TelegramPublisher) -> None:
    url = tg.static_url("photo.png")
    result = await publisher.publish(photo_post(url, silent=True))
    [call] = tg.calls("sendPhoto")
    assert call.photo_source == "url"
    assert call.params["photo"] == url
    assert call.params["caption"] == photo_post(url).text
    assert call.params["parse_mode"] == "HTML"
    assert call.params["disable_notification"] == "true"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["url"] == ARTICLE
    assert tg.calls("sendMessage") == []
    assert result == PublishResult(remote_id="1", link="https://t.me/bamada_net/1")
    assert tg.messages(CHANNEL)[0]["caption"] == "Le fleuve Niger en crue\n\nLes eaux montent."


@pytest.mark.parametrize(
    "refusal",
    [Reply.photo_url_wrong(), Reply.photo_url_failed(), Reply.photo_url_wrong_type()],
    ids=["wrong-file-identifier", "failed-to-get", "wrong-type"],
)
async def test_photo_refused_by_url_is_downloaded_and_uploaded(
    tg: FakeTelegram, publisher: TelegramPublisher, refusal: Reply
) -> None:
    tg.inject("sendPhoto", refusal)
    url = tg.static_url("photo.png")
    result = await publisher.publish(photo_post(url))

    by_url, upload = tg.calls("sendPhoto")
    assert (by_url.photo_source, by_url.status) == ("url", 400)
    assert upload.uploaded
    assert upload.photo_source == "upload"
    assert upload.files["photo"].data == tiny_png()
    assert upload.files["photo"].filename == "photo.png"
    assert upload.params["caption"] == by_url.params["caption"]
    assert upload.params["reply_markup"] == by_url.params["reply_markup"]
    assert tg.static_hits() == ["photo.png"]
    assert tg.calls("sendMessage") == []
    assert result.remote_id == "1"  # the refused call posted nothing


async def test_photo_download_follows_redirects(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendPhoto", Reply.photo_url_wrong())
    await publisher.publish(photo_post(tg.static_url("redirect.png")))
    assert tg.calls("sendPhoto")[-1].files["photo"].data == tiny_png()
    assert tg.static_hits() == ["redirect.png", "photo.png"]


def assert_text_fallback(tg: FakeTelegram, url: str) -> None:
    [message] = tg.calls("sendMessage")
    first = tg.calls("sendPhoto")[0]
    assert message.params["text"] == first.params["caption"]
    assert message.params["parse_mode"] == "HTML"
    assert message.params["link_preview_options"]["url"] == ARTICLE
    assert message.params["link_preview_options"]["prefer_large_media"] is True
    assert message.params["reply_markup"] == first.params["reply_markup"]
    assert message.status == 200


@pytest.mark.parametrize(
    ("name", "static"),
    [
        ("missing.jpg", None),  # the fake itself refuses it by URL, and it is a 404
        ("page.html", None),  # an HTML page, not an image
        ("svg.svg", (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")),
        ("empty.png", (b"", "image/png")),
    ],
)
async def test_photo_that_cannot_be_downloaded_becomes_a_text_post(
    tg: FakeTelegram, publisher: TelegramPublisher, name: str, static: tuple[bytes, str] | None
) -> None:
    if static is not None:
        tg.add_static(name, static[0], static[1])
        tg.inject("sendPhoto", Reply.photo_url_failed())
    url = tg.static_url(name)
    result = await publisher.publish(photo_post(url))
    assert len(tg.calls("sendPhoto")) == 1  # no upload
    assert_text_fallback(tg, url)
    assert result == PublishResult(remote_id="1", link="https://t.me/bamada_net/1")


async def test_photo_over_10_mb_is_not_uploaded(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    big = tiny_png() + b"\0" * (10 * 1024 * 1024)
    url = tg.add_static("big.png", big)
    tg.inject("sendPhoto", Reply.photo_url_failed())
    await publisher.publish(photo_post(url))
    assert len(tg.calls("sendPhoto")) == 1
    assert_text_fallback(tg, url)


async def test_photo_cap_also_holds_without_content_length(
    tg: FakeTelegram, bot: ExtBot[Any]
) -> None:
    publisher = TelegramPublisher(channel(), bot, max_photo_bytes=1000)
    url = tg.add_static("stream.png", tiny_png() + b"\0" * 5000, no_length=True)
    small = tg.add_static("small.png", tiny_png(), no_length=True)
    tg.inject("sendPhoto", Reply.photo_url_failed(), times=2)
    try:
        await publisher.publish(photo_post(url))
        assert len(tg.calls("sendPhoto")) == 1
        assert_text_fallback(tg, url)
        await publisher.publish(photo_post(small))  # under the cap: uploaded
        assert tg.calls("sendPhoto")[-1].files["photo"].data == tiny_png()
    finally:
        await publisher.aclose()


async def test_unreachable_photo_host_becomes_a_text_post(
    tg: FakeTelegram, publisher: TelegramPublisher, unused_port: int
) -> None:
    tg.inject("sendPhoto", Reply.photo_url_wrong())
    url = f"http://127.0.0.1:{unused_port}/photo.jpg"
    await publisher.publish(photo_post(url))
    assert_text_fallback(tg, url)


async def test_slow_photo_download_gives_up(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    slow_host = FakeTelegram()
    with slow_host:
        slow_host.inject("getMe", Reply.slow(5))  # any route: a server that never answers
        url = f"{slow_host.base_url}{slow_host.token}/getMe"
        tg.inject("sendPhoto", Reply.photo_url_failed())
        publisher = TelegramPublisher(channel(), bot, download_timeout=0.2)
        try:
            await publisher.publish(photo_post(url))
        finally:
            await publisher.aclose()
    assert_text_fallback(tg, url)


async def test_uploaded_photo_refused_too_becomes_a_text_post(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendPhoto", Reply.photo_url_wrong())
    tg.inject("sendPhoto", Reply.error(400, IMAGE_PROCESS_FAILED))
    url = tg.static_url("photo.png")
    await publisher.publish(photo_post(url))
    assert [c.photo_source for c in tg.calls("sendPhoto")] == ["url", "upload"]
    assert_text_fallback(tg, url)


async def test_image_refused_by_url_skips_the_download(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendPhoto", Reply.error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS"))
    url = tg.static_url("photo.png")
    await publisher.publish(photo_post(url))
    assert tg.static_hits() == []
    assert len(tg.calls("sendPhoto")) == 1
    assert_text_fallback(tg, url)


async def test_other_photo_errors_are_not_swallowed(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendPhoto", Reply.chat_not_found())
    with pytest.raises(PermanentError, match=r"(?i)chat not found"):
        await publisher.publish(photo_post(tg.static_url("photo.png")))
    assert tg.calls("sendMessage") == []


async def test_flood_during_upload_is_transient_not_a_text_post(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendPhoto", Reply.photo_url_wrong())
    tg.inject("sendPhoto", Reply.flood(11))
    with pytest.raises(TransientError) as caught:
        await publisher.publish(photo_post(tg.static_url("photo.png")))
    assert caught.value.retry_after == 11
    assert tg.calls("sendMessage") == []


async def test_photo_timeout_is_unknown_and_not_retried_as_text(tg: FakeTelegram) -> None:
    bot = await open_bot(tg, timeouts=BotTimeouts(read=0.2, write=1, connect=1, pool=1))
    publisher = TelegramPublisher(channel(), bot)
    tg.inject("sendPhoto", Reply.slow(0.6))
    try:
        with pytest.raises(UnknownOutcomeError):
            await publisher.publish(photo_post(tg.static_url("photo.png")))
    finally:
        await publisher.aclose()
        await bot.shutdown()
    assert len(tg.calls("sendPhoto")) == 1
    assert tg.calls("sendMessage") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PHOTO_URL_WRONG, "url"),
        (PHOTO_URL_FAILED, "url"),
        (PHOTO_URL_WRONG_TYPE, "url"),
        # python-telegram-bot's own rendering: "Bad Request: " dropped, the rest lower-cased
        ("Wrong file identifier/http url specified", "url"),
        ("Wrong remote file identifier specified: wrong padding in the string", "url"),
        ("Bad Request: WEBPAGE_CURL_FAILED", "url"),
        ("Bad Request: WEBPAGE_MEDIA_EMPTY", "url"),
        ("Bad Request: file is too big", "url"),
        (IMAGE_PROCESS_FAILED, "image"),
        ("Photo_invalid_dimensions", "image"),
        ("Bad Request: PHOTO_SAVE_FILE_INVALID", "image"),
        ("Bad Request: chat not found", None),
        ("Bad Request: not enough rights to send photos to the chat", None),
        ("Bad Request: message caption is too long", None),
    ],
)
def test_photo_refusal_classification(text: str, expected: str | None) -> None:
    assert photo_refusal(text) == expected


# -- lifecycle --------------------------------------------------------------------------------


async def test_aclose_closes_its_own_client_only(tg: FakeTelegram, bot: ExtBot[Any]) -> None:
    async with httpx.AsyncClient() as shared:
        publisher = TelegramPublisher(channel(), bot, http=shared, clock=FakeClock())
        tg.inject("sendPhoto", Reply.photo_url_wrong())
        await publisher.publish(photo_post(tg.static_url("photo.png")))
        await publisher.aclose()
        assert not shared.is_closed
    own = TelegramPublisher(channel(), bot)
    tg.inject("sendPhoto", Reply.photo_url_wrong())
    await own.publish(photo_post(tg.static_url("photo.png")))
    client = own._http
    assert client is not None
    await own.aclose()
    assert client.is_closed
    assert (await bot.get_me()).username == tg.bot_username  # the shared bot still works

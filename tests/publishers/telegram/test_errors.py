"""Every Telegram failure becomes the right Relais error, with retry_after, and never the token."""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import timedelta
from typing import Any

import httpx
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.errors import (
    AuthError,
    ChatMovedError,
    PermanentError,
    PublishError,
    TooLongError,
    TransientError,
    UnknownOutcomeError,
)
from bot.publishers.telegram import (
    BotTimeouts,
    InvalidTokenError,
    TelegramFailure,
    TelegramPublisher,
    make_bot,
    map_failure,
    retry_after_seconds,
    translate_error,
)
from bot.publishers.telegram.errors import ERRORS, FailureKind, failure_of
from bot.secrets import scrub
from bot.telegram_bot.messages import Lang, plain
from tests.fakes.telegram_api import FakeTelegram, Reply
from tests.publishers.telegram.conftest import CHANNEL, channel, open_bot, post, telegram_settings
from tests.waiting import wait_until_async


def assert_no_token(err: BaseException, token: str) -> None:
    """Neither the error nor anything chained to it mentions the token."""
    seen = 0
    current: BaseException | None = err
    while current is not None and seen < 20:
        assert token not in str(current), repr(current)
        assert token not in repr(current)
        current = current.__cause__ or current.__context__
        seen += 1


async def publish_error(tg: FakeTelegram, publisher: TelegramPublisher, **kw: Any) -> PublishError:
    with pytest.raises(PublishError) as caught:
        await publisher.publish(post(**kw))
    assert_no_token(caught.value, tg.token)
    return caught.value


# -- through the fake server ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected", "fragment"),
    [
        (Reply.flood(17), TransientError, "dans 17 s"),
        (Reply.corpus("too-many-requests"), TransientError, "dans 123 s"),
        (Reply.bad_gateway(), TransientError, "Bad Gateway"),
        (Reply.server_error(), TransientError, "Internal Server Error"),
        (Reply.error(503, "Service Unavailable"), TransientError, "Service Unavailable"),
        (Reply.corpus("conflicted-terminated-by-other-long-poll"), TransientError, "onflict"),
        (Reply.chat_not_found(), PermanentError, "Chat not found"),
        (Reply.corpus("bad-request-peer-id-invalid"), PermanentError, "Peer_id_invalid"),
        (Reply.corpus("bad-request-group-deactivated"), PermanentError, "deactivated"),
        (Reply.corpus("bad-request-entities-too-long"), TooLongError, "Entities too long"),
        (Reply.no_rights_text(), AuthError, "Not enough rights"),
        (Reply.bot_kicked(), AuthError, "kicked"),
        (Reply.not_member(), AuthError, "not a member of the channel"),
        (Reply.corpus("forbidden-bot-blocked-by-user"), AuthError, "blocked"),
        (Reply(200, b"<html>proxy page</html>", "text/html"), UnknownOutcomeError, "illisible"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
async def test_scripted_errors_map_to_relais_errors(
    tg: FakeTelegram,
    publisher: TelegramPublisher,
    reply: Reply,
    expected: type[PublishError],
    fragment: str,
) -> None:
    tg.inject("sendMessage", reply)
    err = await publish_error(tg, publisher)
    assert type(err) is expected
    assert fragment in str(err)
    if isinstance(err, PermanentError | AuthError):
        assert err.retry_after is None


async def test_flood_control_gives_retry_after(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendMessage", Reply.flood(42))
    err = await publish_error(tg, publisher)
    assert isinstance(err, TransientError)
    assert err.retry_after == 42.0


async def test_not_enough_rights_to_send_photos_pauses_the_channel(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendPhoto", Reply.no_rights_photos())
    err = await publish_error(tg, publisher, method="sendPhoto", photo=tg.static_url("photo.png"))
    assert type(err) is AuthError
    assert tg.calls("sendMessage") == []  # not a photo problem to work around: a rights one


@pytest.mark.parametrize(
    ("status", "rights", "expected"),
    [
        ("administrator", {"can_post_messages": False}, AuthError),
        ("member", {}, AuthError),
        ("left", {}, AuthError),
        ("kicked", {}, AuthError),
    ],
)
async def test_real_rights_refusals_pause_the_channel(
    tg: FakeTelegram,
    publisher: TelegramPublisher,
    status: str,
    rights: dict[str, Any],
    expected: type[PublishError],
) -> None:
    tg.set_member(CHANNEL, None, status, **rights)
    err = await publish_error(tg, publisher)
    assert type(err) is expected


async def test_too_long_text_and_caption(tg: FakeTelegram, publisher: TelegramPublisher) -> None:
    err = await publish_error(tg, publisher, text="é" * 4097)
    assert type(err) is TooLongError
    assert "too long" in str(err)
    caption = "<b>Titre</b>\n\n" + "📰" * 510  # 5 + 2 + 1020 = 1027 UTF-16 units
    err = await publish_error(
        tg, publisher, method="sendPhoto", photo=tg.static_url("photo.png"), text=caption
    )
    assert type(err) is TooLongError
    assert "caption is too long" in str(err)


async def test_bad_html_is_permanent_with_telegrams_words(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    err = await publish_error(tg, publisher, text="<p>Bamako&nbsp;: la crue</p>")
    assert type(err) is PermanentError
    assert "Can't parse entities" in str(err)
    assert 'start tag "p"' in str(err)


async def test_invalid_button_url_is_permanent(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    err = await publish_error(tg, publisher, buttons=((("Lire", "javascript:alert(1)"),),))
    assert type(err) is PermanentError
    assert "Button_url_invalid" in str(err)


async def test_chat_migrated_gives_the_new_id(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendMessage", Reply.migrated(-1009876543210))
    err = await publish_error(tg, publisher)
    assert isinstance(err, ChatMovedError)
    assert err.new_chat_id == -1009876543210
    assert isinstance(err, TransientError)
    assert err.retry_after == 0


async def test_migrated_body_from_the_corpus(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendMessage", Reply.corpus("bad-request-group-chat-migrated"))
    err = await publish_error(tg, publisher)
    assert isinstance(err, ChatMovedError)
    assert err.new_chat_id == -123456789


async def test_invalid_token(tg: FakeTelegram) -> None:
    bot = await open_bot(tg, token="7012345678:AAF-revoked_token-xxxxxxxxxxxxxxxxxxxx")
    publisher = TelegramPublisher(channel(), bot)
    try:
        with pytest.raises(InvalidTokenError) as caught:
            await publisher.publish(post())
    finally:
        await publisher.aclose()
        await bot.shutdown()
    assert isinstance(caught.value, AuthError)
    assert "jeton" in str(caught.value)
    assert_no_token(caught.value, "7012345678:AAF-revoked_token-xxxxxxxxxxxxxxxxxxxx")
    assert tg.calls("sendMessage")[-1].status == 401


async def test_wrong_api_path_reads_as_an_invalid_token(tg: FakeTelegram) -> None:
    bot = await open_bot(tg, api_url=f"{tg.url}/nope/")
    publisher = TelegramPublisher(channel(), bot)
    try:
        with pytest.raises(InvalidTokenError):
            await publisher.publish(post())
    finally:
        await bot.shutdown()


async def test_read_timeout_is_an_unknown_outcome(tg: FakeTelegram) -> None:
    bot = await open_bot(tg, timeouts=BotTimeouts(read=0.2, write=1, connect=1, pool=1))
    publisher = TelegramPublisher(channel(), bot)
    tg.inject("sendMessage", Reply.slow(0.5))
    try:
        err = await publish_error(tg, publisher)
    finally:
        await bot.shutdown()
    assert type(err) is UnknownOutcomeError
    assert "a peut-être été publié" in str(err)
    # the server finishes its slow answer: the message does exist
    assert len(await wait_until_async(lambda: tg.messages(CHANNEL))) == 1


async def test_dropped_connection_after_sending_is_an_unknown_outcome(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendMessage", Reply.drop_connection())
    err = await publish_error(tg, publisher)
    assert type(err) is UnknownOutcomeError
    assert "RemoteProtocolError" in str(err)


async def test_connection_closed_after_an_answer_is_fine(
    tg: FakeTelegram, publisher: TelegramPublisher
) -> None:
    tg.inject("sendMessage", Reply.close_after())
    assert (await publisher.publish(post())).remote_id == "1"
    assert (await publisher.publish(post())).remote_id == "2"


async def test_connection_refused_is_transient(tg: FakeTelegram, unused_port: int) -> None:
    bot = make_bot(
        telegram_settings(tg, api_url=f"http://127.0.0.1:{unused_port}/bot"),
        rate_limited=False,
        timeouts=BotTimeouts(connect=1, read=1, write=1, pool=1),
    )
    publisher = TelegramPublisher(channel(), bot)
    try:
        err = await publish_error(tg, publisher)
    finally:
        await bot.request.shutdown()
    assert type(err) is TransientError
    assert "ConnectError" in str(err)


async def test_pool_timeout_is_transient_and_never_sent(tg: FakeTelegram) -> None:
    request = HTTPXRequest(connection_pool_size=1, pool_timeout=0.1, read_timeout=2)
    bot: ExtBot[Any] = ExtBot(tg.token, base_url=tg.base_url, request=request)
    publisher = TelegramPublisher(channel(), bot)
    tg.inject("sendMessage", Reply.slow(0.5))
    try:
        first = asyncio.create_task(publisher.publish(post(text="premier")))
        # until the slow request holds the only connection
        await wait_until_async(lambda: tg.calls("sendMessage"))
        err = await publish_error(tg, publisher, text="second")
        assert (await first).remote_id == "1"
    finally:
        await request.shutdown()
    assert type(err) is TransientError
    assert "pas partie" in str(err)
    assert [c.params["text"] for c in tg.calls("sendMessage")] == ["premier"]


async def test_rate_limited_bot_passes_429_through_without_retrying(tg: FakeTelegram) -> None:
    bot = await open_bot(tg, rate_limited=True)
    publisher = TelegramPublisher(channel(), bot)
    tg.inject("sendMessage", Reply.flood(30))
    try:
        err = await publish_error(tg, publisher)
        assert (await publisher.publish(post())).remote_id == "1"
    finally:
        await bot.shutdown()
    assert isinstance(err, TransientError)
    assert err.retry_after == 30
    assert len(tg.calls("sendMessage")) == 2  # the 429 once, then the next post: no retry


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_in_the_int_form(
    tg: FakeTelegram, publisher: TelegramPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without PTB_TIMEDELTA, python-telegram-bot 22 warns when it builds RetryAfter (ignored
    here); the publisher still reads the delay, and emits no warning of its own."""
    monkeypatch.delenv("PTB_TIMEDELTA")
    tg.inject("sendMessage", Reply.flood(9))
    err = await publish_error(tg, publisher)
    assert err.retry_after == 9.0


@pytest.mark.parametrize("env", [None, "true"])
def test_retry_after_seconds_reads_both_forms_silently(
    monkeypatch: pytest.MonkeyPatch, env: str | None
) -> None:
    if env is None:
        monkeypatch.delenv("PTB_TIMEDELTA")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        errors = [RetryAfter(12), RetryAfter(timedelta(seconds=12)), RetryAfter(1.5)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = [retry_after_seconds(e) for e in errors]
    assert values == [12.0, 12.0, 1.5]
    assert caught == []


# -- the mapping table, on python-telegram-bot's own exceptions -------------------------------


def timed_out(cause: BaseException) -> TimedOut:
    try:
        raise TimedOut() from cause
    except TimedOut as err:
        return err


def network(cause: BaseException) -> NetworkError:
    try:
        raise NetworkError(f"httpx.{type(cause).__name__}: {cause}") from cause
    except NetworkError as err:
        return err


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (InvalidToken(), InvalidTokenError),
        (Forbidden("Forbidden: bot was kicked from the channel chat"), AuthError),
        (BadRequest("Bad Request: message is too long"), TooLongError),
        (BadRequest("Bad Request: message caption is too long"), TooLongError),
        (BadRequest("Bad Request: entities too long"), TooLongError),
        (BadRequest("Bad Request: not enough rights to send text messages to the chat"), AuthError),
        (BadRequest("Bad Request: need administrator rights in the channel chat"), AuthError),
        (BadRequest("Bad Request: CHAT_WRITE_FORBIDDEN"), AuthError),
        (BadRequest("Bad Request: have no rights to send a message"), AuthError),
        (BadRequest("Bad Request: chat not found"), PermanentError),
        (BadRequest("Bad Request: can't parse entities: Unsupported start tag"), PermanentError),
        (ChatMigrated(-1001), ChatMovedError),
        (Conflict("Conflict: terminated by other long poll or webhook"), TransientError),
        (timed_out(httpx.ReadTimeout("timed out")), UnknownOutcomeError),
        (TimedOut(), UnknownOutcomeError),
        (timed_out(httpx.PoolTimeout("pool")), TransientError),
        (timed_out(httpx.ConnectTimeout("connect")), TransientError),
        (timed_out(httpx.WriteTimeout("write")), TransientError),
        (network(httpx.ConnectError("[Errno 111] Connection refused")), TransientError),
        (network(httpx.RemoteProtocolError("Server disconnected")), UnknownOutcomeError),
        (network(httpx.ReadError("reset")), UnknownOutcomeError),
        (NetworkError("Bad Gateway (502)"), TransientError),
        (TelegramError("Invalid server response"), UnknownOutcomeError),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v.__name__,
)
def test_mapping_table(error: TelegramError, expected: type[PublishError]) -> None:
    mapped = translate_error(error)
    assert type(mapped) is expected


def test_bad_request_is_not_mistaken_for_a_network_error() -> None:
    assert issubclass(BadRequest, NetworkError)  # why the order of the checks matters
    assert type(translate_error(BadRequest("Bad Request: chat not found"))) is PermanentError


def test_scrub_removes_the_token_and_anything_shaped_like_one() -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    url = f"https://api.telegram.org/bot{token}/sendMessage"
    assert scrub(url) == "https://api.telegram.org/bot***/sendMessage"
    assert scrub("secret-thing here", ["secret-thing"]) == "*** here"
    assert scrub("message 123456: not a token") == "message 123456: not a token"
    mapped = translate_error(NetworkError(f"httpx.ConnectError: {url}"), secrets=[token])
    assert token not in str(mapped)


def test_token_in_a_ptb_message_is_not_chained(tg: FakeTelegram) -> None:
    """python-telegram-bot's initialize() puts the token in its InvalidToken message; the
    publisher raises from None then, so a logged traceback cannot show it either."""
    token = tg.token

    async def run() -> PublishError:
        bot = make_bot(telegram_settings(tg), rate_limited=False)
        publisher = TelegramPublisher(channel(), bot)
        try:
            raise InvalidToken(f"The token `{token}` was rejected by the server.")
        except InvalidToken as err:
            try:
                publisher._fail(err)
            except PublishError as mapped:
                return mapped
        raise AssertionError("not reached")

    mapped = asyncio.run(run())
    assert mapped.__cause__ is None
    assert mapped.__suppress_context__
    assert token not in str(mapped)


async def test_token_never_in_logs(
    tg: FakeTelegram, caplog: pytest.LogCaptureFixture, unused_port: int
) -> None:
    caplog.set_level(logging.DEBUG)
    bad_token = "7012345678:AAF-another-revoked-token-zzzzzzzzzzzzzzz"
    good = make_bot(telegram_settings(tg), rate_limited=True, timeouts=BotTimeouts(read=0.3))
    bad = make_bot(telegram_settings(tg, token=bad_token), rate_limited=False)
    dead = make_bot(
        telegram_settings(tg, api_url=f"http://127.0.0.1:{unused_port}/bot"), rate_limited=False
    )
    with pytest.raises(InvalidToken):
        await bad.initialize()  # python-telegram-bot's own message names the token
    await good.initialize()
    publisher = TelegramPublisher(channel(), good)
    tg.inject("sendMessage", Reply.bad_gateway())  # PTB logs the unreadable body, with traceback
    tg.inject("sendMessage", Reply.flood(5))  # the rate limiter logs the 429 with a traceback
    tg.inject("sendMessage", Reply.slow(0.6))
    for _ in range(3):
        with pytest.raises(PublishError) as caught:
            await publisher.publish(post())
        logging.getLogger("relais.test").exception("delivery failed", exc_info=caught.value)
    with pytest.raises(PublishError) as caught:
        await TelegramPublisher(channel(), bad).publish(post())
    logging.getLogger("relais.test").error("delivery failed", exc_info=caught.value)
    with pytest.raises(TransientError):
        await TelegramPublisher(channel(), dead).publish(post())
    await publisher.publish(post())
    for client in (good, bad, dead):
        await client.shutdown()
    await dead.request.shutdown()

    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # httpx did log URLs
    assert "bot***/sendMessage" in caplog.text
    for token in (tg.token, bad_token):
        assert token not in caplog.text
        for record in caplog.records:
            assert token not in record.getMessage()
            assert token not in (record.exc_text or "")


# -- the failure value, then the pure mapping ---------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (InvalidToken(), "token"),
        (RetryAfter(timedelta(seconds=5)), "flood"),
        (ChatMigrated(-1001), "moved"),
        (Forbidden("Forbidden: bot was blocked by the user"), "forbidden"),
        (BadRequest("Bad Request: message is too long"), "too_long"),
        (BadRequest("Bad Request: CHAT_ADMIN_REQUIRED"), "no_rights"),
        (BadRequest("Bad Request: chat not found"), "refused"),
        (timed_out(httpx.ReadTimeout("timed out")), "timeout"),
        (timed_out(httpx.PoolTimeout("pool")), "not_sent"),
        (Conflict("Conflict: terminated by other getUpdates request"), "conflict"),
        (network(httpx.RemoteProtocolError("Server disconnected")), "aborted"),
        (network(httpx.ConnectError("refused")), "unreachable"),
        (TelegramError("Invalid server response"), "unreadable"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_failure_of_reads_the_kind(error: TelegramError, kind: str) -> None:
    assert failure_of(error).kind == kind


def test_failure_of_keeps_the_facts_and_no_secret() -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    failure = failure_of(network(httpx.ConnectError(f"to /bot{token}/x")), secrets=[token])
    assert token not in failure.description
    assert failure.cause == "ConnectError"
    assert failure_of(ChatMigrated(-1009)).new_chat_id == -1009
    assert failure_of(RetryAfter(timedelta(seconds=7))).retry_after == 7.0


@pytest.mark.parametrize("kind", sorted(ERRORS))
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_map_failure_table(kind: FailureKind, lang: Lang) -> None:
    failure = TelegramFailure(
        kind,
        description="Telegram a dit ceci",
        retry_after=3.0 if kind == "flood" else None,
        new_chat_id=-1007 if kind == "moved" else None,
        cause="ReadError",
    )
    mapped = map_failure(failure, lang=lang)
    assert type(mapped) is ERRORS[kind][0]
    assert str(mapped) == plain(
        lang,
        ERRORS[kind][1],
        description="Telegram a dit ceci",
        seconds="3",
        chat=-1007,
        cause="ReadError",
    )
    assert mapped.retry_after == (3.0 if kind == "flood" else 0 if kind == "moved" else None)


def test_map_failure_speaks_the_sites_language() -> None:
    failure = TelegramFailure("timeout")
    assert "may have been posted" in str(map_failure(failure, lang="en"))
    assert "a peut-être été publié" in str(map_failure(failure, lang="fr"))
    assert "retry in 17" in str(translate_error(RetryAfter(timedelta(seconds=17)), lang="en"))

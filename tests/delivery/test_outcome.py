"""The outcome policy as one table: every answer (each error class of errors.py, a result, a
render failure, a bug) × every platform and a reader's chat × the attempt count."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from bot import errors
from bot.delivery.outcome import CHANNEL_OF, READER, READER_ERROR_MAX, NotRendered, decide
from bot.models import ChannelType, DeliveryState, Outcome, Pause, PublishResult
from tests.builders import BASE

S = DeliveryState
HINT = 30.0  # seconds the platform asked us to wait


@dataclass(frozen=True)
class Row:
    """One answer and what it must become for a channel and for a reader's chat.

    `due` in the expectations: None, "now", "hint" (retry_after + 1 s) or "backoff" (30 s
    doubling with each attempt, no jitter here)."""

    name: str
    answer: Callable[[], object]
    channel: dict[str, object]
    reader: dict[str, object]


def due_for(kind: object, attempts: int) -> datetime | None:
    if kind is None:
        return None
    if kind == "now":
        return BASE
    if kind == "hint":
        return BASE + timedelta(seconds=HINT + 1)
    assert kind == "backoff"
    return BASE + timedelta(seconds=30 * 2 ** (attempts - 1))


RESULT = PublishResult("42", "https://t.me/sahel_actu/42")
LONG = "Telegram a refusé : " + "x" * 400

TABLE = [
    Row(
        "sent",
        lambda: RESULT,
        {"state": S.SENT, "result": RESULT},
        {"state": S.SENT, "result": RESULT},
    ),
    Row(
        "cannot render",
        lambda: NotRendered("the link is not http(s)"),
        {"state": S.FAILED, "error": "cannot render: the link is not http(s)", "alert": True},
        {"state": S.FAILED, "error": "cannot render: the link is not http(s)"},
    ),
    Row(
        "a bug in an adapter (ValueError after the request went out)",
        lambda: ValueError("unexpected answer"),
        {
            "state": S.UNKNOWN,
            "error": "unexpected error: ValueError",
            "alert": True,
            "end_round": True,
        },
        {"state": S.UNKNOWN, "error": "unexpected error: ValueError"},
    ),
    Row(
        "PublishError (no more precise class)",
        lambda: errors.PublishError("refused"),
        {"state": S.FAILED, "error": "refused", "alert": True},
        {"state": S.FAILED, "error": "refused"},
    ),
    Row(
        "TransientError without a hint",
        lambda: errors.TransientError("502 Bad Gateway"),
        {"state": S.QUEUED, "error": "502 Bad Gateway", "due": "backoff"},
        {"state": S.QUEUED, "error": "502 Bad Gateway", "due": "backoff", "end_round": True},
    ),
    Row(
        "TransientError with retry_after (a rate limit)",
        lambda: errors.TransientError("429", retry_after=HINT),
        {"state": S.QUEUED, "error": "429", "due": "hint", "end_round": True, "rate_limited": True},
        {"state": S.QUEUED, "error": "429", "due": "hint", "end_round": True, "rate_limited": True},
    ),
    Row(
        "ChatMovedError",
        lambda: errors.ChatMovedError("upgraded", new_chat_id=-100123),
        {
            "state": S.QUEUED,
            "error": "chat moved to -100123",
            "due": "now",
            "chat_moved": "-100123",
        },
        # a reader's private chat never moves: an ordinary wait
        {
            "state": S.QUEUED,
            "error": "upgraded",
            "due": BASE + timedelta(seconds=1),
            "end_round": True,
        },
    ),
    Row(
        "PermanentError",
        lambda: errors.PermanentError("chat not found"),
        {"state": S.FAILED, "error": "chat not found", "alert": True},
        {"state": S.FAILED, "error": "chat not found"},
    ),
    Row(
        "PermanentError with a long message",
        lambda: errors.PermanentError(LONG),
        {"state": S.FAILED, "error": LONG, "alert": True},
        {"state": S.FAILED, "error": LONG[:READER_ERROR_MAX]},
    ),
    Row(
        "TooLongError (first time)",
        lambda: errors.TooLongError("message is too long"),
        {"state": S.SENDING, "error": "message is too long", "shorter": True},
        {"state": S.FAILED, "error": "message is too long"},
    ),
    Row(
        "RecipientGoneError",
        lambda: errors.RecipientGoneError("blocked or gone: bot was blocked by the user"),
        # a channel has no "gone" reader: a permanent failure
        {
            "state": S.FAILED,
            "error": "blocked or gone: bot was blocked by the user",
            "alert": True,
        },
        {
            "state": S.SKIPPED,
            "error": "blocked or gone: bot was blocked by the user",
            "unsubscribe": True,
        },
    ),
    Row(
        "AuthError",
        lambda: errors.AuthError("not enough rights"),
        {
            "state": S.QUEUED,
            "release": True,
            "pause": Pause("not enough rights"),
            "end_round": True,
        },
        # a reader cannot give the bot rights: this one message fails
        {"state": S.FAILED, "error": "not enough rights"},
    ),
    Row(
        "CredentialsError",
        lambda: errors.CredentialsError("the bot token is invalid"),
        {
            "state": S.QUEUED,
            "release": True,
            "pause": Pause("the bot token is invalid", platform_wide=True),
            "end_round": True,
        },
        {
            "state": S.QUEUED,
            "error": "the bot token is invalid",
            "release": True,
            "pause": Pause("the bot token is invalid", platform_wide=True),
            "end_round": True,
        },
    ),
    Row(
        "UnknownOutcomeError",
        lambda: errors.UnknownOutcomeError("read timeout"),
        {"state": S.UNKNOWN, "error": "read timeout", "alert": True, "end_round": True},
        {"state": S.UNKNOWN, "error": "read timeout"},
    ),
]

RECIPIENTS = [pytest.param(CHANNEL_OF[p], id=p.value) for p in ChannelType] + [
    pytest.param(READER, id="reader")
]


def expected(row: Row, reader: bool, attempts: int) -> Outcome:
    spec = dict(row.reader if reader else row.channel)
    due = spec.pop("due", None)
    when = due if isinstance(due, datetime) else due_for(due, attempts)
    return Outcome(due=when, **spec)  # type: ignore[arg-type]


@pytest.mark.parametrize("attempts", [1, 3])
@pytest.mark.parametrize("to", RECIPIENTS)
@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_outcome_table(row: Row, to, attempts: int) -> None:
    got = decide(row.answer(), to, attempts=attempts, now=BASE, rand=0.0)  # type: ignore[arg-type]
    assert got == expected(row, to.reader, attempts)


def test_the_table_covers_every_publish_error_of_errors_py() -> None:
    classes = {
        c
        for _n, c in inspect.getmembers(errors, inspect.isclass)
        if issubclass(c, errors.PublishError)
    }
    covered = {type(row.answer()) for row in TABLE}
    assert classes <= covered, classes - covered


@pytest.mark.parametrize("to", RECIPIENTS)
def test_a_post_already_rendered_shorter_is_not_shortened_twice(to) -> None:
    got = decide(
        errors.TooLongError("still too long"), to, attempts=1, now=BASE, rand=0.0, shortened=True
    )
    assert got == Outcome(S.FAILED, "still too long", alert=not to.reader)


def test_backoff_jitter_and_cap() -> None:
    """The jitter is the caller's draw; the backoff stops growing at an hour."""
    err = errors.TransientError("503")
    jittered = decide(err, READER, attempts=1, now=BASE, rand=0.5)
    assert jittered.due == BASE + timedelta(seconds=33)
    capped = decide(err, CHANNEL_OF[ChannelType.FACEBOOK], attempts=30, now=BASE, rand=0.0)
    assert capped.due == BASE + timedelta(hours=1)

"""python-telegram-bot errors → a failure value → Relais errors, by tables, at one boundary."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal, NoReturn

import httpx
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
from telegram.warnings import PTBDeprecationWarning

from bot.errors import (
    AuthError,
    ChatMovedError,
    CredentialsError,
    PermanentError,
    PublishError,
    TooLongError,
    TransientError,
    UnknownOutcomeError,
)
from bot.publishers.boundary import chained, short
from bot.secrets import mentions_secret, scrub
from bot.telegram_bot.messages import Lang, plain

FailureKind = Literal[
    "token",  # Telegram refused the bot token (401/404)
    "flood",  # 429: wait `retry_after`
    "moved",  # the group became a supergroup: `new_chat_id`
    "forbidden",  # 403: kicked, not a member, blocked
    "too_long",  # 400 for the length of the text or caption
    "no_rights",  # 400 because the bot may not post there
    "refused",  # any other 400
    "not_sent",  # no connection, or none free, or the request could not be written
    "timeout",  # no answer after the request was sent: it may have been taken
    "conflict",  # 409
    "aborted",  # the connection broke after the request was sent
    "unreachable",  # any other network failure
    "unreadable",  # an answer that is not the Bot API's JSON
]

# The class of a python-telegram-bot exception → the failure, most specific first: BadRequest
# and TimedOut are subclasses of NetworkError.
_KINDS: Final[tuple[tuple[type[TelegramError], FailureKind], ...]] = (
    (InvalidToken, "token"),
    (RetryAfter, "flood"),
    (ChatMigrated, "moved"),
    (Forbidden, "forbidden"),
    (BadRequest, "refused"),
    (TimedOut, "timeout"),
    (Conflict, "conflict"),
    (NetworkError, "unreachable"),
    (TelegramError, "unreadable"),
)

# What httpx raised under a timeout or a network error: before or after the request went out.
_BY_CAUSE: Final[Mapping[tuple[FailureKind, type[httpx.HTTPError]], FailureKind]] = {
    ("timeout", httpx.PoolTimeout): "not_sent",
    ("timeout", httpx.ConnectTimeout): "not_sent",
    ("timeout", httpx.WriteTimeout): "not_sent",
    ("unreachable", httpx.RemoteProtocolError): "aborted",
    ("unreachable", httpx.ReadError): "aborted",
}

# Lower-cased fragments of Telegram's descriptions. python-telegram-bot drops "Bad Request: " and
# lower-cases the rest of the text (str.capitalize), so every comparison is on lower case.
_TOO_LONG: Final = (
    "message is too long",
    "caption is too long",
    "entities too long",
    "text is too long",
    "message_too_long",
    "media_caption_too_long",
)
_NO_RIGHTS: Final = (
    "not enough rights",
    "need administrator rights",
    "have no rights to send",
    "chat_write_forbidden",
    "chat_admin_required",
    "chat_restricted",
)
# A 400 whose description says why, before the catch-all "refused".
_BAD_REQUESTS: Final[tuple[tuple[tuple[str, ...], FailureKind], ...]] = (
    (_TOO_LONG, "too_long"),
    (_NO_RIGHTS, "no_rights"),
)
# Every kind that is a 400 (the check tells a missing chat from the other refusals).
REFUSALS: Final = frozenset({"too_long", "no_rights", "refused"})
# The kinds after which Telegram's view of the chat is not known (no usable answer came back).
UNANSWERED: Final = frozenset(
    {"flood", "not_sent", "timeout", "conflict", "aborted", "unreachable", "unreadable"}
)

# Telegram could not take the photo from its URL: downloading and uploading it may work.
_PHOTO_URL_REFUSED: Final = (
    "wrong file identifier/http url specified",
    "failed to get http url content",
    "wrong type of the web page content",
    "wrong http url",
    "wrong remote file identifier",
    "webpage_curl_failed",
    "webpage_media_empty",
    "photo_content_url_empty",
    "file is too big",
)
# Telegram refused the image itself: sending the same bytes again will not help.
_PHOTO_REFUSED: Final = (
    "image_process_failed",
    "photo_invalid_dimensions",
    "photo_ext_invalid",
    "photo_save_file_invalid",
    "photo_content_type_invalid",
    "photo_invalid",
)

PhotoRefusal = Literal["url", "image"]


class InvalidTokenError(CredentialsError):
    """Telegram refused the bot token: every Telegram channel must pause, not only this one."""


@dataclass(frozen=True, slots=True)
class TelegramFailure:
    """What went wrong with one Bot API call, scrubbed: the facts `map_failure` decides on.

    `description` is Telegram's text (or python-telegram-bot's), on one line, without secrets;
    `cause` names the httpx error under a network failure.
    """

    kind: FailureKind
    description: str = ""
    retry_after: float | None = None
    new_chat_id: int | None = None
    cause: str | None = None


def retry_after_seconds(err: RetryAfter) -> float:
    """`err.retry_after` in seconds, whether python-telegram-bot gives an int or a timedelta
    (PTB_TIMEDELTA), without the deprecation warning that reading the int form emits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = err.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def _kind(err: TelegramError) -> FailureKind:
    kind: FailureKind = next(k for cls, k in _KINDS if isinstance(err, cls))
    if kind == "refused":
        lowered = err.message.lower()
        for fragments, refined in _BAD_REQUESTS:
            if any(fragment in lowered for fragment in fragments):
                return refined
    for (base, cause_type), refined in _BY_CAUSE.items():
        if kind == base and isinstance(err.__cause__, cause_type):
            return refined
    return kind


def failure_of(err: TelegramError, *, secrets: Iterable[str] = ()) -> TelegramFailure:
    """The failure value of a python-telegram-bot exception (its description scrubbed)."""
    cause = err.__cause__
    return TelegramFailure(
        kind=_kind(err),
        description=short(scrub(err.message, tuple(secrets))),
        retry_after=retry_after_seconds(err) if isinstance(err, RetryAfter) else None,
        new_chat_id=int(err.new_chat_id) if isinstance(err, ChatMigrated) else None,
        cause=type(cause).__name__ if isinstance(cause, httpx.HTTPError) else None,
    )


# The failure → the Relais error and its catalogue entry (docs/design.md has the reasons).
ERRORS: Final[Mapping[FailureKind, tuple[type[PublishError], str]]] = {
    "token": (InvalidTokenError, "tg_error_token"),
    "flood": (TransientError, "tg_error_flood"),
    "moved": (ChatMovedError, "tg_error_moved"),
    "forbidden": (AuthError, "tg_error_forbidden"),
    "too_long": (TooLongError, "tg_error_too_long"),
    "no_rights": (AuthError, "tg_error_no_rights"),
    "refused": (PermanentError, "tg_error_refused"),
    "not_sent": (TransientError, "tg_error_not_sent"),
    "timeout": (UnknownOutcomeError, "tg_error_timeout"),
    "conflict": (TransientError, "tg_error_conflict"),
    "aborted": (UnknownOutcomeError, "tg_error_aborted"),
    "unreachable": (TransientError, "tg_error_unreachable"),
    "unreadable": (UnknownOutcomeError, "tg_error_unreadable"),
}


def map_failure(failure: TelegramFailure, *, lang: Lang = "fr") -> PublishError:
    """The Relais error for a failed Bot API call, explained in `lang` (pure: no I/O)."""
    error_type, key = ERRORS[failure.kind]
    message = plain(
        lang,
        key,
        description=failure.description,
        seconds=f"{failure.retry_after or 0:g}",
        chat=failure.new_chat_id,
        cause=failure.cause or "?",
    )
    if failure.kind == "moved" and failure.new_chat_id is not None:
        return ChatMovedError(message, new_chat_id=failure.new_chat_id)
    if error_type is ChatMovedError:  # a migration without its new id: try again later
        return TransientError(message)
    return error_type(message, retry_after=failure.retry_after)


def translate_error(
    err: TelegramError, *, secrets: Iterable[str] = (), lang: Lang = "fr"
) -> PublishError:
    """The Relais error for a python-telegram-bot error (see docs/design.md for the table).

    The message never contains a secret or anything shaped like a bot token.
    """
    return map_failure(failure_of(err, secrets=secrets), lang=lang)


def raise_translated(err: TelegramError, *, secrets: Iterable[str], lang: Lang) -> NoReturn:
    """The boundary: raise the Relais error for `err`, from `err` unless something in its chain
    prints a secret or a token (python-telegram-bot's InvalidToken quotes it): from None then."""
    secrets = tuple(secrets)
    error = translate_error(err, secrets=secrets, lang=lang)
    raise chained(error, None if _chain_mentions(err, secrets) else err)


def _chain_mentions(err: BaseException, secrets: Iterable[str]) -> bool:
    """Whether `err` or any exception it was raised from/while prints a secret or a token."""
    seen: set[int] = set()
    current: BaseException | None = err
    secrets = tuple(s for s in secrets if s)
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if mentions_secret(f"{current!s} {current!r}", secrets):
            return True
        current = current.__cause__ or current.__context__
    return False


def photo_refusal(description: str) -> PhotoRefusal | None:
    """'url' when Telegram could not fetch a photo by URL (upload it instead), 'image' when it
    refused the image itself (post as text), None for anything else."""
    lowered = description.lower()
    if any(fragment in lowered for fragment in _PHOTO_URL_REFUSED):
        return "url"
    if any(fragment in lowered for fragment in _PHOTO_REFUSED):
        return "image"
    return None


__all__ = [
    "ERRORS",
    "REFUSALS",
    "UNANSWERED",
    "FailureKind",
    "InvalidTokenError",
    "PhotoRefusal",
    "TelegramFailure",
    "failure_of",
    "map_failure",
    "photo_refusal",
    "raise_translated",
    "retry_after_seconds",
    "translate_error",
]

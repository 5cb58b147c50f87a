"""Graph API failures (a value) → Relais errors, by a table of Graph codes; pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from bot.errors import (
    AuthError,
    PermanentError,
    PublishError,
    TransientError,
    UnknownOutcomeError,
)
from bot.telegram_bot.messages import Lang, plain

# Graph error codes (https://developers.facebook.com/docs/graph-api/guides/error-handling).
TOKEN_CODES: Final = frozenset({190, 102})
PERMISSION_CODES: Final = frozenset({3, 10, *range(200, 300)})
THROTTLING_CODES: Final = frozenset({4, 17, 32, 341, 613, *range(80000, 80015)})
TEMPORARY_CODES: Final = frozenset({1, 2})
POLICY_BLOCK: Final = 368
INVALID_PARAMETER: Final = 100
DUPLICATE_POST: Final = 506
LINK_NOT_FETCHED: Final = 1609005
DEPRECATED_VERSION: Final = 2635
OBJECT_NOT_FOUND_SUBCODE: Final = 33


class GraphCallError(Exception):
    """A scrubbed stand-in for what requests or facebook-sdk raised (type and message only).

    Relais errors are chained to it (`__cause__`) instead of the library exception, whose
    message may hold the token in a URL.
    """


class DuplicatePostError(PermanentError):
    """Facebook refused the post as a duplicate (#506) and no matching post could be found."""


FailureKind = Literal["graph", "unreadable", "not_sent", "timeout", "aborted"]


@dataclass(frozen=True, slots=True)
class GraphFailure:
    """What went wrong with one Graph call, scrubbed, with the HTTP status when one came back.

    kind: `graph` (a Graph error envelope), `unreadable` (an answer that is not Graph JSON),
    `not_sent` (connect failure: nothing reached Facebook), `timeout` (no answer after the request
    was sent), `aborted` (the connection broke after the request may have been sent).
    """

    kind: FailureKind
    status: int | None = None
    code: int | None = None
    subcode: int | None = None
    is_transient: bool | None = None
    message: str = ""
    fbtrace_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    cause: GraphCallError | None = None
    what: str | None = None  # our words when Graph gave none: a `fb_what_…` catalogue entry

    def describe(self, lang: Lang = "fr") -> str:
        """Short technical summary for logs and error texts (already scrubbed)."""
        message = self.message or (plain(lang, f"fb_what_{self.what}") if self.what else "")
        bits = []
        if self.code is not None:
            bits.append(f"code {self.code}" + (f"/{self.subcode}" if self.subcode else ""))
        if self.status is not None:
            bits.append(f"HTTP {self.status}")
        if self.fbtrace_id:
            bits.append(f"fbtrace_id {self.fbtrace_id}")
        head = ", ".join(bits)
        return f"[{head}] {message}" if head else message


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def retry_after_hint(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from X-Business-Use-Case-Usage (minutes) or Retry-After, else None."""
    lowered = {k.lower(): v for k, v in headers.items()}
    best: float | None = None
    raw = lowered.get("x-business-use-case-usage")
    if raw:
        try:
            usage = json.loads(raw)
        except ValueError:
            usage = None
        if isinstance(usage, dict):
            for entries in usage.values():
                for entry in entries if isinstance(entries, list) else ():
                    minutes = (
                        entry.get("estimated_time_to_regain_access")
                        if isinstance(entry, dict)
                        else None
                    )
                    if isinstance(minutes, int | float) and minutes > 0:
                        best = max(best or 0.0, float(minutes) * 60)
    if best is None:
        value = lowered.get("retry-after", "").strip()
        if value.isdigit() and int(value) > 0:
            best = float(value)
    return best


# The error_subcode of a token error (code 190) → what it means, for the admins.
_TOKEN_PROBLEMS: Final = frozenset({458, 459, 460, 463, 464, 467, 492})


def token_problem(code: int | None, subcode: int | None, lang: Lang = "fr") -> str:
    """What a token error means, for the admins, in `lang`."""
    if code == 102:
        return plain(lang, "fb_token_102")
    return plain(lang, f"fb_token_{subcode}" if subcode in _TOKEN_PROBLEMS else "fb_token_invalid")


def token_steps(lang: Lang = "fr") -> str:
    """How to get a Page token that never expires, step by step."""
    return plain(lang, "fb_token_steps")


TOKEN_STEPS: Final = token_steps("fr")


@dataclass(frozen=True, slots=True)
class _Rule:
    """Graph codes (with `subcode`: and that subcode; with `or_subcode`: or as the subcode) → a
    Relais error and its catalogue entry."""

    codes: frozenset[int]
    error: type[PublishError]
    key: str
    subcode: int | None = None
    or_subcode: bool = False

    def matches(self, code: int | None, subcode: int | None) -> bool:
        if self.subcode is not None:
            return code in self.codes and subcode == self.subcode
        return code in self.codes or (self.or_subcode and subcode in self.codes)


# A Graph error envelope → the Relais error: the first rule that matches wins.
RULES: Final[tuple[_Rule, ...]] = (
    _Rule(TOKEN_CODES, AuthError, "fb_error_token"),
    _Rule(PERMISSION_CODES, AuthError, "fb_error_permission"),
    _Rule(frozenset({DEPRECATED_VERSION}), AuthError, "fb_error_version"),
    _Rule(
        frozenset({INVALID_PARAMETER}),
        AuthError,
        "fb_error_page_not_found",
        subcode=OBJECT_NOT_FOUND_SUBCODE,
    ),
    _Rule(THROTTLING_CODES, TransientError, "fb_error_throttled"),
    _Rule(TEMPORARY_CODES, TransientError, "fb_error_temporary"),
    _Rule(frozenset({DUPLICATE_POST}), DuplicatePostError, "fb_error_duplicate"),
    _Rule(frozenset({POLICY_BLOCK}), PermanentError, "fb_error_policy"),
    _Rule(
        frozenset({LINK_NOT_FETCHED}), PermanentError, "fb_error_link_not_fetched", or_subcode=True
    ),
    _Rule(frozenset({INVALID_PARAMETER}), PermanentError, "fb_error_invalid_parameter"),
)


def _transport_error(
    failure: GraphFailure, may_have_posted: bool
) -> tuple[type[PublishError], str]:
    """(error, entry) for a failure with no Graph envelope: nothing sent, no answer, garbage."""
    status = failure.status
    if failure.kind == "not_sent":
        return TransientError, "fb_error_not_sent"
    if failure.kind in ("timeout", "aborted"):
        if may_have_posted:
            return UnknownOutcomeError, "fb_error_lost_answer"
        return TransientError, "fb_error_no_answer"
    accepted = status is not None and 200 <= status < 300
    if accepted and may_have_posted:
        return UnknownOutcomeError, "fb_error_unreadable_accepted"
    if status is None or status >= 500 or status in (408, 429) or accepted:
        return TransientError, "fb_error_invalid_answer"
    return PermanentError, "fb_error_unexpected_answer"


def _graph_error(failure: GraphFailure) -> tuple[type[PublishError], str]:
    """(error, entry) for a Graph error envelope, by the table of codes."""
    for rule in RULES:
        if rule.matches(failure.code, failure.subcode):
            return rule.error, rule.key
    if failure.is_transient or (failure.status is not None and failure.status >= 500):
        return TransientError, "fb_error_temporary"
    return PermanentError, "fb_error_refused"


def map_failure(
    failure: GraphFailure,
    *,
    channel_id: str,
    page_id: str,
    version: str,
    may_have_posted: bool,
    lang: Lang = "fr",
) -> PublishError:
    """The Relais error for a failed Graph call, explained in `lang` (pure: no I/O).

    `may_have_posted`: the call was the publishing POST, so an answer lost after the request was
    sent means the post may exist (UnknownOutcomeError) rather than a plain retry.
    """
    if failure.kind == "graph":
        error, key = _graph_error(failure)
    else:
        error, key = _transport_error(failure, may_have_posted)
    message = plain(
        lang,
        key,
        detail=failure.describe(lang),
        channel=channel_id,
        page=page_id,
        version=version,
        problem=token_problem(failure.code, failure.subcode, lang),
    )
    hint = retry_after_hint(failure.headers) if issubclass(error, TransientError) else None
    return error(message, retry_after=hint)

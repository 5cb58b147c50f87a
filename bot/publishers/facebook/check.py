"""A Page token's health (`relais check --online`, the daily check): ask, then advise (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from bot.clock import Clock, SystemClock
from bot.errors import AuthError
from bot.publishers.checkline import CheckLine
from bot.publishers.facebook.client import GraphAnswer, GraphClient
from bot.publishers.facebook.errors import (
    TOKEN_CODES,
    GraphFailure,
    int_or_none,
    map_failure,
    token_problem,
    token_steps,
)
from bot.settings import ChannelSettings, FacebookSettings
from bot.telegram_bot.messages import Lang, plain

REQUIRED_PERMISSIONS: Final = ("pages_manage_posts", "pages_read_engagement")


# --------------------------------------------------------------------------- the facts


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What debug_token and /me said of a channel's token.

    `failure`: debug_token itself failed; `readable` is False when it answered something else
    than its `data` object; `invalid_*` are its reasons when the token is not valid;
    `page_name` is the configured Page's, asked only when the token is another Page's.
    """

    channel_id: str
    page_id: str
    version: str
    now: datetime
    failure: GraphFailure | None = None
    readable: bool = True
    valid: bool = False
    invalid_code: int | None = None
    invalid_subcode: int | None = None
    is_page_token: bool = False
    expires_at: datetime | None = None
    missing_permissions: tuple[str, ...] = ()
    me_id: str | None = None
    me_name: str | None = None
    page_name: str | None = None

    @property
    def page_matches(self) -> bool:
        return self.is_page_token and self.me_id == self.page_id


def _granted(scope: str, page_id: str, scopes: list[Any], granular: list[Any]) -> bool:
    if scope not in scopes:
        return False
    for entry in granular:
        if isinstance(entry, dict) and entry.get("scope") == scope:
            targets = entry.get("target_ids")
            if isinstance(targets, list):
                return page_id in [str(t) for t in targets]
    return True


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_dict(outcome: GraphAnswer | GraphFailure) -> dict[str, Any]:
    return _dict(outcome.value) if isinstance(outcome, GraphAnswer) else {}


def _text(value: Any) -> str | None:
    return str(value) if value is not None and str(value) else None


async def gather_token(
    client: GraphClient, channel_id: str, page_id: str, now: datetime
) -> TokenFacts:
    """debug_token, then /me (and the configured Page when the token is another Page's)."""
    facts = TokenFacts(channel_id=channel_id, page_id=page_id, version=client.version, now=now)
    debug = await client.call(
        "request", f"{client.version}/debug_token", {"input_token": client.token}
    )
    if isinstance(debug, GraphFailure):
        return replace(facts, failure=debug)
    data = _as_dict(debug).get("data")
    if not isinstance(data, dict):
        return replace(facts, readable=False)
    if data.get("is_valid") is not True:
        error = _dict(data.get("error"))
        return replace(
            facts,
            invalid_code=int_or_none(error.get("code")),
            invalid_subcode=int_or_none(error.get("subcode")),
        )
    is_page_token = data.get("type") == "PAGE"
    expires = int_or_none(data.get("expires_at")) or 0
    scopes, granular = _list(data.get("scopes")), _list(data.get("granular_scopes"))
    me = _as_dict(await client.call("get_object", "me", fields="id,name"))
    me_id = _text(me.get("id"))
    if me_id is None and is_page_token:
        me_id = _text(data.get("profile_id"))
    facts = replace(
        facts,
        valid=True,
        is_page_token=is_page_token,
        expires_at=datetime.fromtimestamp(expires, UTC) if expires > 0 else None,
        missing_permissions=tuple(
            scope
            for scope in REQUIRED_PERMISSIONS
            if not _granted(scope, page_id, scopes, granular)
        ),
        me_id=me_id,
        me_name=_text(me.get("name")),
    )
    if facts.is_page_token and not facts.page_matches:
        page = _as_dict(await client.call("get_object", page_id, fields="id,name"))
        facts = replace(facts, page_name=_text(page.get("name")))
    return facts


# --------------------------------------------------------------------------- the advice


@dataclass(slots=True)
class TokenReport:
    """What `relais check --online` (and the daily check of a paused channel) says of a token."""

    channel_id: str
    ok: bool
    reachable: bool = True
    is_page_token: bool = False
    page_matches: bool = False
    expires_at: datetime | None = None
    missing_permissions: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    page_name: str | None = None

    def line(self) -> CheckLine:
        """The report as a line of `relais check --online`."""
        return CheckLine(self.channel_id, self.ok, " ".join(self.messages) or "OK", self.reachable)


def _failure_report(facts: TokenFacts, failure: GraphFailure, lang: Lang) -> TokenReport:
    """debug_token failed: a refused token (with the steps), or Facebook could not say."""
    error = map_failure(
        failure,
        channel_id=facts.channel_id,
        page_id=facts.page_id,
        version=facts.version,
        may_have_posted=False,
        lang=lang,
    )
    report = TokenReport(channel_id=facts.channel_id, ok=False)
    if not isinstance(error, AuthError):
        report.reachable = False
        report.messages.append(plain(lang, "fb_check_unavailable", error=error))
        return report
    if failure.code in TOKEN_CODES:
        problem = token_problem(failure.code, failure.subcode, lang)
        detail = failure.describe(lang)
        report.messages.append(
            plain(lang, "fb_check_refused_detail", problem=problem, detail=detail)
        )
    else:
        report.messages.append(str(error))
    report.messages.append(token_steps(lang))
    return report


def _problems(facts: TokenFacts, lang: Lang) -> list[str]:
    """What is wrong with a valid token: a user token, another Page's, missing rights, expiry."""
    messages: list[str] = []
    if not facts.is_page_token:
        if facts.me_name:
            messages.append(plain(lang, "fb_check_user_token_of", name=facts.me_name))
        else:
            messages.append(plain(lang, "fb_check_user_token"))
    elif not facts.page_matches:
        if facts.me_name:
            owner = plain(lang, "fb_check_named", name=facts.me_name, id=facts.me_id)
        else:
            owner = facts.me_id or plain(lang, "fb_check_unknown_page")
        page = facts.page_id
        if facts.page_name:
            page = plain(lang, "fb_check_id_named", id=facts.page_id, name=facts.page_name)
        messages.append(plain(lang, "fb_check_other_page", owner=owner, page=page))
    if facts.missing_permissions:
        permissions = ", ".join(facts.missing_permissions)
        messages.append(plain(lang, "fb_check_missing", permissions=permissions))
    if facts.expires_at is not None:
        days = max(0, (facts.expires_at - facts.now).days)
        date = facts.expires_at.strftime(plain(lang, "fb_check_date"))
        messages.append(plain(lang, "fb_check_expires", date=date, days=days))
    return messages


def advise_token(facts: TokenFacts, lang: Lang = "fr") -> TokenReport:
    """Is the token a valid, non-expiring Page token for its Page with the rights, and if not,
    what to do, in `lang` (pure)."""
    if facts.failure is not None:
        return _failure_report(facts, facts.failure, lang)
    report = TokenReport(channel_id=facts.channel_id, ok=False)
    if not facts.readable:
        report.reachable = False
        report.messages.append(plain(lang, "fb_check_unreadable"))
        return report
    if not facts.valid:
        problem = token_problem(facts.invalid_code, facts.invalid_subcode, lang)
        report.messages += [plain(lang, "fb_check_refused", problem=problem), token_steps(lang)]
        return report
    report.is_page_token = facts.is_page_token
    report.page_matches = facts.page_matches
    report.page_name = facts.me_name if facts.page_matches else None
    report.expires_at = facts.expires_at
    report.missing_permissions = list(facts.missing_permissions)
    report.messages = _problems(facts, lang)
    report.ok = facts.page_matches and not facts.missing_permissions
    if report.ok:
        key = "fb_check_ok_forever" if facts.expires_at is None else "fb_check_ok_for_now"
        report.messages.insert(0, plain(lang, key, name=report.page_name, page=facts.page_id))
    if not report.ok or facts.expires_at is not None:
        report.messages.append(token_steps(lang))
    return report


# --------------------------------------------------------------------------- the check


async def check_token(
    channel: ChannelSettings,
    fb: FacebookSettings,
    *,
    clock: Clock | None = None,
    lang: Lang = "fr",
) -> TokenReport:
    """Is this channel's token a valid, non-expiring Page token for its page, with the rights?"""
    if not channel.page_id or channel.token is None:
        raise ValueError(f"channel {channel.id!r}: a facebook channel needs page_id and token")
    now = (clock or SystemClock()).now()
    client = GraphClient(channel.token.get_secret_value(), fb)
    try:
        facts = await gather_token(client, channel.id, channel.page_id, now)
    finally:
        client.close()
    return advise_token(facts, lang)


__all__ = [
    "REQUIRED_PERMISSIONS",
    "TokenFacts",
    "TokenReport",
    "advise_token",
    "check_token",
    "gather_token",
]

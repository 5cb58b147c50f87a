"""One-time login links (signed, 10 minutes, used once) and the CSRF token of a session."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

LINK_VALIDITY = timedelta(minutes=10)
_SALT = "relais-login"


class LoginRefusal(StrEnum):
    """Why a login link is refused (each has its sentence on the login page)."""

    FORGED = "forged"
    EXPIRED = "expired"
    USED = "used"
    NOT_ADMIN = "not_admin"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class LoginClaim:
    """What a valid signature says: which admin, and the link's single-use nonce."""

    user_id: int
    nonce: str


def _serializer(secret: str, now: datetime) -> URLSafeTimedSerializer:
    """itsdangerous dates a signature with the system clock; ours uses the given `now`."""

    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now.timestamp())

    return URLSafeTimedSerializer(secret, salt=_SALT, signer=_Signer)


def login_token(secret: str, user_id: int, now: datetime) -> str:
    """A signed token naming the admin, with a fresh nonce, dated `now`."""
    payload = {"u": int(user_id), "n": secrets.token_urlsafe(16)}
    return str(_serializer(secret, now).dumps(payload))


def read_token(secret: str, token: str, now: datetime) -> LoginClaim | LoginRefusal:
    """The claim of a genuine token no older than LINK_VALIDITY, else why it is refused."""
    try:
        payload, signed_at = _serializer(secret, now).loads(token, return_timestamp=True)
    except BadSignature:
        return LoginRefusal.FORGED
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return LoginRefusal.FORGED
    age = now - signed_at
    if age > LINK_VALIDITY or age < -timedelta(minutes=1):
        return LoginRefusal.EXPIRED
    return LoginClaim(int(payload["u"]), str(payload.get("n", "")))


def decide_login(
    claim: LoginClaim | LoginRefusal, admins: frozenset[int], *, first_use: bool
) -> LoginRefusal | None:
    """None: let this admin in. Checked in this order: signature and age, admin, single use."""
    if isinstance(claim, LoginRefusal):
        return claim
    if claim.user_id not in admins:
        return LoginRefusal.NOT_ADMIN
    if not first_use:
        return LoginRefusal.USED
    return None


def login_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/login/{token}"


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))

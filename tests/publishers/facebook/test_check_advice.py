"""A Page token's advice from gathered facts, and the Graph error table: pure, no network."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import (
    AuthError,
    PermanentError,
    PublishError,
    TransientError,
    UnknownOutcomeError,
)
from bot.publishers.facebook import (
    DuplicatePostError,
    GraphFailure,
    TokenFacts,
    advise_token,
    map_failure,
    token_steps,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PAGE = "104857600000001"


def facts(**kw: object) -> TokenFacts:
    """A valid, non-expiring token of the configured Page with every right; override a fact."""
    base = TokenFacts(
        channel_id="fb-main",
        page_id=PAGE,
        version="v25.0",
        now=NOW,
        valid=True,
        is_page_token=True,
        me_id=PAGE,
        me_name="Sahel-Actu",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("token", "ok", "reachable", "fragments", "steps"),
    [
        (facts(), True, True, [f"valide pour « Sahel-Actu » ({PAGE}) ; il n'expire pas"], False),
        (
            facts(expires_at=NOW + timedelta(days=3, hours=1)),
            True,
            True,
            ["est valable pour l'instant", "expire le 04/12/2026 à 10:00 UTC (dans 3 jour(s))"],
            True,
        ),
        (
            facts(is_page_token=False, me_id="77"),
            False,
            True,
            ["jeton d'utilisateur de « Sahel"],
            True,
        ),
        (facts(is_page_token=False, me_name=None), False, True, ["jeton d'utilisateur, pas"], True),
        (
            facts(me_id="999", me_name="Autre Page", page_name="Sahel-Actu"),
            False,
            True,
            [f"la Page « Autre Page » (999), pas de la Page {PAGE} (« Sahel-Actu »)"],
            True,
        ),
        (
            facts(me_id=None, me_name=None),
            False,
            True,
            [f"Page inconnue, pas de la Page {PAGE}."],
            True,
        ),
        (
            facts(missing_permissions=("pages_read_engagement",)),
            False,
            True,
            ["Autorisations manquantes : pages_read_engagement."],
            True,
        ),
        (
            facts(valid=False, invalid_code=190, invalid_subcode=463),
            False,
            True,
            ["le jeton a expiré"],
            True,
        ),
        (
            facts(valid=False),
            False,
            True,
            ["Jeton refusé : le jeton est invalide ou a expiré."],
            True,
        ),
        (facts(readable=False), False, False, ["debug_token illisible"], False),
        (
            facts(failure=GraphFailure("graph", status=400, code=190, subcode=460, message="x")),
            False,
            True,
            ["Jeton refusé : le mot de passe", "([code 190/460, HTTP 400] x)"],
            True,
        ),
        (
            facts(failure=GraphFailure("graph", status=403, code=200, message="Permissions error")),
            False,
            True,
            ["pages_manage_posts", "Permissions error"],
            True,
        ),
        (
            facts(failure=GraphFailure("graph", status=403, code=4, message="Too many calls")),
            False,
            False,
            ["Vérification impossible pour l'instant", "limite le nombre d'appels"],
            False,
        ),
        (
            facts(failure=GraphFailure("not_sent", what="cannot_connect")),
            False,
            False,
            ["Facebook injoignable (connexion impossible)"],
            False,
        ),
    ],
)
def test_token_advice(
    token: TokenFacts, ok: bool, reachable: bool, fragments: list[str], steps: bool
) -> None:
    report = advise_token(token, "fr")
    assert (report.channel_id, report.ok, report.reachable) == ("fb-main", ok, reachable)
    text = "\n".join(report.messages)
    for fragment in fragments:
        assert fragment in text
    assert (token_steps("fr") in report.messages) is steps
    line = report.line()
    assert (line.channel_id, line.ok, line.reachable) == ("fb-main", ok, reachable)
    assert line.message == " ".join(report.messages)


def test_token_advice_speaks_the_sites_language() -> None:
    expiring = facts(expires_at=NOW + timedelta(days=3))
    english = advise_token(expiring, "en").messages
    assert english[0] == f"Valid Page token for “Sahel-Actu” ({PAGE}); it is valid for now."
    assert "expires on 2026-12-04 at 09:00 UTC (in 3 day(s))" in english[1]
    assert english[-1] == token_steps("en")
    assert "<APP_ID>" in token_steps("en") and "<ID_APP>" in token_steps("fr")


def graph(code: int, subcode: int | None = None, status: int = 400, **kw: object) -> GraphFailure:
    return GraphFailure("graph", status=status, code=code, subcode=subcode, message="m", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("failure", "posting", "expected", "fragment"),
    [
        (graph(190, 463), True, AuthError, "le jeton a expiré"),
        (graph(102), True, AuthError, "session Facebook du jeton a expiré"),
        (graph(10, status=403), True, AuthError, "autorisation nécessaire"),
        (graph(230, status=403), True, AuthError, "autorisation nécessaire"),
        (graph(2635), True, AuthError, "version v25.0"),
        (graph(100, 33), True, AuthError, f"la Page {PAGE} est introuvable"),
        (graph(100), True, PermanentError, "un paramètre"),
        (graph(4, status=403), True, TransientError, "limite le nombre d'appels"),
        (graph(80001, status=403), True, TransientError, "limite le nombre d'appels"),
        (graph(2, status=500), True, TransientError, "Erreur temporaire"),
        (graph(506), True, DuplicatePostError, "doublon"),
        (graph(368), True, PermanentError, "règles de la plateforme"),
        (graph(1609005), True, PermanentError, "lire le lien"),
        (graph(100, 1609005), True, PermanentError, "lire le lien"),
        (graph(9999, status=500), True, TransientError, "Erreur temporaire"),
        (graph(9999, is_transient=True), True, TransientError, "Erreur temporaire"),
        (graph(9999), True, PermanentError, "a refusé la publication"),
        (GraphFailure("not_sent", what="cannot_connect"), True, TransientError, "injoignable"),
        (GraphFailure("timeout", what="timeout"), True, UnknownOutcomeError, "peut-être eu lieu"),
        (GraphFailure("timeout", what="timeout"), False, TransientError, "Pas de réponse"),
        (GraphFailure("aborted", what="connection_broken"), True, UnknownOutcomeError, "coupée"),
        (GraphFailure("unreadable", status=200), True, UnknownOutcomeError, "illisible"),
        (GraphFailure("unreadable", status=200), False, TransientError, "Réponse invalide"),
        (GraphFailure("unreadable", status=502), True, TransientError, "Réponse invalide"),
        (GraphFailure("unreadable", status=429), True, TransientError, "Réponse invalide"),
        (GraphFailure("unreadable", status=404), True, PermanentError, "Réponse inattendue"),
    ],
)
def test_graph_error_table(
    failure: GraphFailure, posting: bool, expected: type[PublishError], fragment: str
) -> None:
    error = map_failure(
        failure, channel_id="fb-main", page_id=PAGE, version="v25.0", may_have_posted=posting
    )
    assert type(error) is expected
    assert fragment in str(error)
    if not isinstance(error, TransientError):
        assert error.retry_after is None


def test_only_a_retry_takes_the_usage_header_hint() -> None:
    headers = {"Retry-After": "30"}
    kwargs = {"channel_id": "fb", "page_id": PAGE, "version": "v25.0", "may_have_posted": True}
    assert map_failure(graph(4, headers=headers), **kwargs).retry_after == 30  # type: ignore[arg-type]
    assert map_failure(graph(190, headers=headers), **kwargs).retry_after is None  # type: ignore[arg-type]


def test_graph_errors_speak_the_sites_language() -> None:
    kwargs = {"channel_id": "fb", "page_id": PAGE, "version": "v25.0", "may_have_posted": True}
    english = map_failure(graph(190, 463), lang="en", **kwargs)  # type: ignore[arg-type]
    assert str(english).startswith("Channel fb paused: the token has expired.")
    lost = map_failure(GraphFailure("timeout", what="timeout"), lang="en", **kwargs)  # type: ignore[arg-type]
    assert "(no answer in time)" in str(lost)

"""Token health for `relais check --online`: debug_token and /me, reported in plain French."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.publishers.facebook import TOKEN_STEPS, TokenReport, check_token
from bot.settings import FacebookSettings
from tests.fakes.graph_api import (
    OTHER_PAGE_ID,
    OTHER_PAGE_NAME,
    PAGE_ID,
    PAGE_NAME,
    GraphApiServer,
    GraphError,
    Raw,
    TokenInfo,
)
from tests.fakes.http_base import closed_port
from tests.publishers.facebook.conftest import PAGE_TOKEN, TIMEOUT, channel_settings


async def run_check(
    graph: GraphApiServer, fb: FacebookSettings, clock: FakeClock, info: TokenInfo | None
) -> TokenReport:
    if info is not None:
        graph.tokens[PAGE_TOKEN] = info
    report = await check_token(channel_settings(), fb, clock=clock)
    text = " ".join(report.messages)
    assert PAGE_TOKEN not in text
    assert PAGE_TOKEN not in repr(report)
    return report


async def test_valid_page_token_that_never_expires(
    graph: GraphApiServer, fb: FacebookSettings, clock: FakeClock
) -> None:
    report = await run_check(graph, fb, clock, None)

    assert report.ok
    assert report.reachable
    assert report.is_page_token
    assert report.page_matches
    assert report.expires_at is None
    assert report.missing_permissions == []
    assert report.page_name == PAGE_NAME
    assert report.messages == [
        f"Jeton de Page valide pour « {PAGE_NAME} » ({PAGE_ID}) ; il n'expire pas."
    ]
    debug = graph.requests_to("debug_token")
    assert len(debug) == 1
    assert debug[0].params["input_token"] == PAGE_TOKEN
    assert debug[0].token == PAGE_TOKEN
    assert graph.requests_to("me")[0].params["fields"] == "id,name"


async def test_expiring_user_token(
    graph: GraphApiServer, fb: FacebookSettings, clock: FakeClock
) -> None:
    expires = clock.now() + timedelta(days=50, hours=2)
    info = TokenInfo(
        type="USER",
        name="Awa Traoré",
        scopes=("public_profile", "pages_show_list", "pages_manage_posts", "pages_read_engagement"),
        expires_at=int(expires.timestamp()),
    )
    report = await run_check(graph, fb, clock, info)

    assert not report.ok
    assert not report.is_page_token
    assert not report.page_matches
    assert report.expires_at == expires
    text = "\n".join(report.messages)
    assert "jeton d'utilisateur de « Awa Traoré »" in text
    assert f"expire le {expires:%d/%m/%Y à %H:%M} UTC (dans 50 jour(s))" in text
    assert TOKEN_STEPS in report.messages
    assert "/me/accounts" in TOKEN_STEPS
    assert "fb_exchange_token" in TOKEN_STEPS


async def test_expiring_page_token_works_but_warns(
    graph: GraphApiServer, fb: FacebookSettings, clock: FakeClock
) -> None:
    expires = clock.now() + timedelta(days=3)
    report = await run_check(graph, fb, clock, TokenInfo(expires_at=int(expires.timestamp())))

    assert report.ok
    assert report.expires_at == expires
    assert any("dans 3 jour(s)" in m for m in report.messages)
    assert TOKEN_STEPS in report.messages


async def test_token_of_another_page(
    graph: GraphApiServer, fb: FacebookSettings, clock: FakeClock
) -> None:
    info = TokenInfo(profile_id=OTHER_PAGE_ID, name=OTHER_PAGE_NAME)
    report = await run_check(graph, fb, clock, info)

    assert not report.ok
    assert report.is_page_token
    assert not report.page_matches
    text = "\n".join(report.messages)
    assert f"« {OTHER_PAGE_NAME} » ({OTHER_PAGE_ID})" in text
    assert f"pas de la Page {PAGE_ID} (« {PAGE_NAME} »)" in text
    assert [r.path for r in graph.requests_to("object")] == [f"/v25.0/{PAGE_ID}"]


@pytest.mark.parametrize(
    ("info", "missing"),
    [
        (TokenInfo(scopes=("pages_show_list", "pages_manage_posts")), ["pages_read_engagement"]),
        (TokenInfo(scopes=("pages_show_list",)), ["pages_manage_posts", "pages_read_engagement"]),
        (
            # Granted, but only for another Page (granular_scopes.target_ids).
            TokenInfo(
                granular_scopes=[
                    {"scope": "pages_manage_posts", "target_ids": [OTHER_PAGE_ID]},
                    {"scope": "pages_read_engagement", "target_ids": [PAGE_ID]},
                ]
            ),
            ["pages_manage_posts"],
        ),
    ],
    ids=["no-read-engagement", "neither", "granted-for-another-page"],
)
async def test_missing_permissions(
    graph: GraphApiServer,
    fb: FacebookSettings,
    clock: FakeClock,
    info: TokenInfo,
    missing: list[str],
) -> None:
    report = await run_check(graph, fb, clock, info)

    assert not report.ok
    assert report.page_matches
    assert report.missing_permissions == missing
    assert f"Autorisations manquantes : {', '.join(missing)}." in report.messages


@pytest.mark.parametrize(
    ("info", "words"),
    [
        (TokenInfo(invalid_subcode=463), "le jeton a expiré"),
        (TokenInfo(invalid_subcode=460), "mot de passe"),
        (TokenInfo(invalid_subcode=492), "plus de rôle"),
    ],
    ids=["expired", "password-changed", "role-lost"],
)
async def test_token_no_longer_valid(
    graph: GraphApiServer,
    fb: FacebookSettings,
    clock: FakeClock,
    info: TokenInfo,
    words: str,
) -> None:
    report = await run_check(graph, fb, clock, info)

    assert not report.ok
    assert report.reachable
    assert words in report.messages[0]
    assert report.messages[-1] == TOKEN_STEPS


async def test_unknown_token(graph: GraphApiServer, fb: FacebookSettings, clock: FakeClock) -> None:
    del graph.tokens[PAGE_TOKEN]
    report = await run_check(graph, fb, clock, None)

    assert not report.ok
    assert report.reachable
    assert "invalide" in report.messages[0]
    assert "code 190" in report.messages[0]
    assert graph.requests_to("me") == []


async def test_input_token_judged_invalid_by_debug_token(
    graph: GraphApiServer, fb: FacebookSettings, clock: FakeClock
) -> None:
    """debug_token itself can answer 200 with `is_valid: false` and the reason inside."""
    data = {
        "app_id": "1",
        "type": "PAGE",
        "is_valid": False,
        "expires_at": 1_790_000_000,
        "scopes": [],
        "error": {"code": 190, "subcode": 463, "message": "Session has expired"},
    }
    graph.script("debug_token", Raw(200, json.dumps({"data": data}).encode()))
    report = await run_check(graph, fb, clock, None)

    assert not report.ok
    assert "le jeton a expiré" in report.messages[0]


async def test_facebook_unreachable(clock: FakeClock) -> None:
    fb = FacebookSettings(graph_url=f"http://127.0.0.1:{closed_port()}", timeout=TIMEOUT)
    report = await check_token(channel_settings(), fb, clock=clock)

    assert not report.ok
    assert not report.reachable
    assert "Vérification impossible" in report.messages[0]
    assert PAGE_TOKEN not in " ".join(report.messages)


async def test_throttled_check_is_not_a_token_problem(
    graph: GraphApiServer, fb: FacebookSettings, clock: FakeClock
) -> None:
    graph.script("debug_token", GraphError(code=4, status=403))
    report = await run_check(graph, fb, clock, None)

    assert not report.ok
    assert not report.reachable

"""Issue 11: hostile and careless inputs answered clearly, no secret shown, no lock bypassed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.secrets import REDACTED, scrub

TOKEN = "7012345678:AAFhQ9x2LmN4pR7sT1uV3wX5yZ8bC0dE6fG"
PAGE = "EAABsbCS1iHgBAKZCZAx9pZBqw7ZCk3ZBsecret"


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        (f"Unauthorized: {TOKEN}", TOKEN),
        (f"error: {TOKEN.capitalize()}", TOKEN.capitalize()),
        (f"error: {TOKEN.upper()}", TOKEN.upper()),
        (f"GET /bot{TOKEN[:30]}…", TOKEN[:30]),
        (f"token {PAGE[:12]} was refused", PAGE[:12]),
        (f"token {PAGE.lower()[:20]}x", PAGE.lower()[:20]),
    ],
)
def test_secrets_are_scrubbed_in_any_case_and_by_any_long_prefix(text: str, gone: str) -> None:
    clean = scrub(text, [TOKEN, PAGE])
    assert gone not in clean and REDACTED in clean


@pytest.mark.parametrize("order", [0, 1])
def test_a_secret_that_starts_another_never_leaves_the_rest_of_it(order: int) -> None:
    """A short secret that is the start of a token (a bot id, a test's leftover) used to be
    replaced first in some runs, cutting the token's start away: the rest then leaked into the
    log ("bot***fAkE…/getMe"). The whole token goes, whatever order the secrets come in."""
    short = TOKEN.split(":")[0] + ":"
    secrets = [short, TOKEN] if order == 0 else [TOKEN, short]
    assert scrub(f"POST http://127.0.0.1/bot{TOKEN}/getMe", secrets) == (
        f"POST http://127.0.0.1/bot{REDACTED}/getMe"
    )
    odd = "fAkE_t0ken-for-relais-tests_0123456"
    assert odd not in scrub(f"/bot123456:{odd}/getMe", ["123456:", f"123456:{odd}"])


def test_a_short_prefix_or_unrelated_text_stays() -> None:
    assert scrub(f"page {PAGE[:11]} ok", [PAGE]) == f"page {PAGE[:11]} ok"
    assert scrub("rien à cacher", [PAGE]) == "rien à cacher"


def test_check_and_status_never_print_a_feeds_password_or_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "relais.yaml"
    path.write_text(
        f"storage: 'sqlite:///{tmp_path / 'r.db'}'\n"
        "feeds: [{id: b, url: 'https://redac:motdepasse42@bamada.example/feed"
        "?api_key=CLEF-SECRETE-99&cat=mali'}]\nchannels: [{id: o, type: console}]\n",
        encoding="utf-8",
    )
    assert main(["--config", str(path), "check"]) == 0
    assert main(["--config", str(path), "status", "--json"]) == 0
    assert main(["--config", str(path), "status"]) == 0
    out = capsys.readouterr().out
    assert "bamada.example/feed" in out and "cat=mali" in out
    assert "motdepasse42" not in out and "CLEF-SECRETE-99" not in out
    assert json.loads(out[out.index("{") : out.rindex("}") + 1])["feeds"][0]["id"] == "b"


def test_terminal_escapes_from_a_feed_never_reach_the_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import logging

    from bot.logs import setup_logging

    setup_logging(logging.INFO)
    title = "Coup d'État\x1b]0;pwned\x07\x1b[2J\x9b31m fin"
    logging.getLogger("relais.test").warning("feed x: new article %s", title)
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\x9b" not in err
    assert "Coup d'État" in err and "\\x1b[2J" in err and "fin" in err


@pytest.mark.parametrize(
    ("first_run", "warned"), [("latest:2", True), ("all", True), ("skip", False)]
)
def test_check_warns_that_a_new_database_would_post_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first_run: str, warned: bool
) -> None:
    from bot.storage.store import Storage

    db = tmp_path / "relais.db"
    path = tmp_path / "relais.yaml"
    path.write_text(
        f"storage: 'sqlite:///{db}'\n"
        f"feeds: [{{id: b, url: 'https://bamada.example/feed', first_run: '{first_run}'}}]\n"
        "channels: [{id: o, type: console}]\n",
        encoding="utf-8",
    )
    assert main(["--config", str(path), "check"]) == 0
    out = capsys.readouterr().out
    assert ("base de données neuve" in out and first_run in out) is warned
    assert not db.exists()  # check creates nothing
    Storage.open(f"sqlite:///{db}").close()
    assert main(["--config", str(path), "check"]) == 0
    assert "base de données neuve" not in capsys.readouterr().out


def test_human_status_shows_deliveries_in_sending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.storage.store import Storage
    from tests.builders import BASE, article, claim_due
    from tests.builders import new_article as new

    db = tmp_path / "relais.db"
    storage = Storage.open(f"sqlite:///{db}")
    storage.record([new(article(1), ["o"])], BASE)
    claimed, _ = claim_due(
        storage, "o", BASE, n=1, worker="w1", day_start=BASE - timedelta(hours=9)
    )
    assert len(claimed) == 1
    storage.close()
    path = tmp_path / "relais.yaml"
    path.write_text(f"storage: 'sqlite:///{db}'\nchannels: [{{id: o, type: console}}]\n")
    assert main(["--config", str(path), "status"]) == 0
    assert "sending 1" in capsys.readouterr().out

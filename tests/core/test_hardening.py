"""Issue 11: hostile and careless inputs answered clearly, no secret shown, no lock bypassed."""

from __future__ import annotations

import json
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

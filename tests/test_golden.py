"""Golden test: the bundled sample feed → the exact posts each platform gets.

When a change to cleaning or templates is intended, regenerate with
`RELAIS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py` and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO_FEED = ROOT / "bot" / "data" / "demo_feed.xml"
GOLDEN = ROOT / "tests" / "data" / "demo" / "expected_posts.jsonl"
CONFIG = """
site: {name: "Sahel-Actu", url: "https://sahel-actu.example", language: fr}
feeds: [{id: sahel, url: "%s"}]
channels:
  - {id: tg, type: telegram, chat: "@sahel_actu", exclude: {categories: ["Publicité"]},
     utm: {source: telegram, medium: social, campaign: relais}}
  - {id: fb, type: facebook, page_id: "1234567890", token: "x",
     exclude: {categories: ["Publicité"]}}
  - {id: out, type: console}
telegram: {token: "x"}
"""


def test_demo_feed_gives_the_expected_posts(tmp_path: Path, capsys) -> None:
    config = tmp_path / "relais.yaml"
    config.write_text(CONFIG % DEMO_FEED, encoding="utf-8")
    assert main(["--config", str(config), "preview", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    got = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    if os.environ.get("RELAIS_UPDATE_GOLDEN"):
        GOLDEN.write_text(got, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    assert got.splitlines() == expected.splitlines()
    # And what the golden file itself promises, so that a careless regeneration shows up too:
    channels = {(r["channel"], r["article"]["title"]) for r in records}
    assert len(records) == 9 + 9 + 10  # Publicité only reaches the console
    assert len(channels) == len(records)
    for record in records:
        text = record["post"].get("text") or record["post"].get("message")
        for marker in (
            "Suivez-nous sur Facebook",
            "À Lire Aussi",
            "Toute reproduction",
            "[…]",
            "apparu en premier",
            "<script",
        ):
            assert marker not in text, (marker, record["article"]["title"])

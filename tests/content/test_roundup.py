"""Roundup posts: golden output per format, and Telegram's rules (escaping, tags, 4096 units).

When a change to the roundup layout is intended, regenerate with
`RELAIS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/content/test_roundup.py` and read the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.content.roundup import render_roundup, roundup_heading
from bot.models import ConsolePost, FacebookPost, TelegramPost
from bot.settings import settings_from_mapping
from tests.builders import article
from tests.fakes.telegram_api import parse_html, utf16_len

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "roundup"
AT = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)  # a Tuesday, 07:00 in Bamako
TITLES = [
    "Kayes : la crue du fleuve Sénégal coupe la route nationale 1",
    "Bamako : les commerçants du Grand Marché <réclament> des « mesures urgentes » & des délais",
    "Football : les Aigles du Mali qualifiés pour la CAN 2027",
    "Santé : campagne de vaccination contre la méningite à Kati",
]


def settings(language: str = "fr"):
    return settings_from_mapping(
        {
            "site": {
                "name": "Sahel Actu",
                "url": "https://sahel-actu.example",
                "language": language,
                "timezone": "Africa/Bamako",
            },
            "telegram": {"token": "1:x"},
            "channels": [
                {
                    "id": "tg",
                    "type": "telegram",
                    "chat": "@sahel_actu",
                    "utm": {"source": "telegram", "campaign": "matin"},
                },
                {
                    "id": "fb",
                    "type": "facebook",
                    "page_id": "123",
                    "token": "x",
                    "cta": "📲 Suivez Sahel Actu sur Facebook",
                },
                {"id": "out", "type": "console"},
            ],
        },
        env={},
    )


def articles(titles=TITLES):
    return [article(i + 1, title=t) for i, t in enumerate(titles)]


def golden(name: str, got: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RELAIS_UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


def test_telegram_roundup_golden() -> None:
    s = settings()
    post = render_roundup(articles(), s.channel("tg"), s.site, at=AT)
    assert isinstance(post, TelegramPost) and post.method == "sendMessage" and post.photo is None
    golden("telegram.json", json.dumps(post.to_json(), ensure_ascii=False, indent=1) + "\n")
    text, entities = parse_html(post.text)  # the fake Bot API's own parser: Telegram's rules
    assert "<réclament>" in text and "& des délais" in text
    assert [e["type"] for e in entities].count("text_link") == 4
    assert post.link.startswith(articles()[0].url)


def test_facebook_roundup_golden() -> None:
    s = settings()
    post = render_roundup(articles(), s.channel("fb"), s.site, at=AT)
    assert isinstance(post, FacebookPost) and post.endpoint == "feed" and post.url is None
    assert post.link == articles()[0].url  # the top story is the link card
    golden("facebook.txt", post.message + "\n")


def test_console_roundup_lists_titles_and_links() -> None:
    s = settings()
    post = render_roundup(articles(), s.channel("out"), s.site, at=AT)
    assert isinstance(post, ConsolePost)
    assert all(a.title in post.text and a.url in post.text for a in articles())


def test_english_heading_and_cta() -> None:
    s = settings("en")
    post = render_roundup(articles(), s.channel("out"), s.site, at=AT)
    assert post.text.startswith("🗞 The essentials, Tuesday 3 November\n")
    assert "Follow Sahel Actu" in post.text
    assert roundup_heading(settings().site, datetime(2026, 8, 31, 23, 30, tzinfo=UTC)) == (
        "🗞 L'essentiel du lundi 31 août"
    )


def test_thirty_long_titles_fit_in_one_telegram_message_none_dropped() -> None:
    s = settings()
    long = [
        f"Titre {i} : " + "le gouvernement de transition annonce une série de réformes " * 4
        for i in range(30)
    ]
    post = render_roundup(articles(long), s.channel("tg"), s.site, at=AT)
    text, entities = parse_html(post.text)
    assert utf16_len(text) <= 4096
    assert [e["type"] for e in entities].count("text_link") == 30
    assert all(f"Titre {i} :" in text for i in range(30))


def test_an_unsafe_link_is_refused_and_an_empty_roundup_too() -> None:
    s = settings()
    with pytest.raises(ValueError, match="not http"):
        render_roundup([article(1, url="javascript:alert(1)")], s.channel("tg"), s.site, at=AT)
    with pytest.raises(ValueError, match="at least one article"):
        render_roundup([], s.channel("tg"), s.site, at=AT)

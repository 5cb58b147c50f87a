"""The admin's /post: which channels a posted article goes to, which pages are the site's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.delivery.post_url import decisions_for, on_site
from tests.builders import article, settings

SITE = {"sahel-actu.example"}
CHANNELS = settings(
    [
        {"id": "tg-main", "type": "console"},
        {"id": "sport", "type": "console", "include": {"categories": ["Sport"]}},
        {"id": "fb-main", "type": "console"},
    ]
).channels
QUEUE, SKIP = "queue", "skip"


@pytest.mark.parametrize(
    ("has", "expected"),
    [
        (set(), [("tg-main", QUEUE), ("sport", SKIP), ("fb-main", QUEUE)]),
        ({"tg-main"}, [("sport", SKIP), ("fb-main", QUEUE)]),  # never twice to a channel
        ({"tg-main", "sport", "fb-main"}, []),
    ],
)
def test_decisions_for(has: set[str], expected: list[tuple[str, str]]) -> None:
    decisions = decisions_for(article(1, categories=("Politique",)), CHANNELS, has)
    assert [(c, QUEUE if r is None else SKIP) for c, r in decisions] == expected


@pytest.mark.parametrize(
    ("url", "canonical", "expected"),
    [
        ("https://sahel-actu.example/a/", "https://sahel-actu.example/a/", True),
        ("https://www.sahel-actu.example/a/", "https://sahel-actu.example/a/", True),
        ("https://sahel-actu.example/a/", "https://ailleurs.example/a/", False),  # og:url elsewhere
        ("https://ailleurs.example/a/", "https://sahel-actu.example/a/", False),
    ],
)
def test_on_site(url: str, canonical: str, expected: bool) -> None:
    found = replace(article(1), url=url, canonical_url=canonical)
    assert on_site(found, SITE) is expected

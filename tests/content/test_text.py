"""The one text fold that routing, cleaning, search and topics share."""

from __future__ import annotations

import pytest

from bot.content.text import fold, strip_accents, title_key


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Sécurité À Ségou", "securite a segou"),
        ("coup d’État", "coup d'etat"),
        ("coup d'État", "coup d'etat"),
        ("«\u00a0Dialogue\u00a0»  inter‑maliens", '" dialogue " inter-maliens'),
        ("Le cœur de Ségou", "le coeur de segou"),
        ("KEÏTA\u00a0: l’AES — Niamey", "keita : l'aes - niamey"),
        ("Straße", "strasse"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_strip_accents_keeps_case_and_punctuation() -> None:
    assert strip_accents("GOÏTA à Kati’s") == "GOITA a Kati’s"


@pytest.mark.parametrize(
    ("text", "bare"),
    [
        ("", ""),
        ("plain ASCII, kept as it is", "plain ASCII, kept as it is"),
        ("Ségou, KEÏTA", "Segou, KEITA"),
        ("e\u0301 and a\u0308", "e and a"),  # combining marks already apart
        ("ﬁn ² 𝐁", "fin 2 B"),  # NFKD: ligature, superscript, mathematical bold
        ("x\U0001d165y", "xy"),  # a combining mark outside the BMP
        ("Ελλάδα", "Ελλαδα"),
    ],
)
def test_strip_accents_removes_every_combining_mark(text: str, bare: str) -> None:
    assert strip_accents(text) == bare


def test_title_key_keeps_words_only() -> None:
    assert title_key("Mali : l’AES, « en marche » !") == "mali l aes en marche"


def test_every_caller_uses_the_one_fold() -> None:
    from bot.content import hashtags
    from bot.delivery import route
    from bot.telegram_bot import search

    assert route.fold is fold and search.fold is fold and hashtags.fold is fold


def test_every_uniform_character_is_still_folded_in_any_text() -> None:
    """`_uniform` skips `translate` when it finds none of the table's characters."""
    from bot.content.text import _UNIFORM, _uniform

    for code in _UNIFORM:
        for text in (f"é{chr(code)}é", f"a{chr(code)}b", chr(code)):
            assert _uniform(text) == text.translate(_UNIFORM), hex(code)

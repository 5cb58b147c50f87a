"""Hashtags from categories: accents kept, CamelCase, no duplicates or placeholders, at most 5."""

from __future__ import annotations

import pytest

from bot.content.hashtags import hashtag, hashtags


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Mali", "#Mali"),
        ("Sécurité", "#Sécurité"),
        ("Société civile", "#SociétéCivile"),
        ("  économie  ", "#Économie"),
        ("Afrique de l’Ouest", "#AfriqueDeLOuest"),
        ("COVID-19", "#COVID19"),
        ("#Bamako", "#Bamako"),
        ("Non classé", None),
        ("Uncategorized", None),
        ("À la une", None),
        ("Accueil", None),
        ("Home", None),
        ("Une", None),
        ("UNE", None),
        ("Featured", None),
        ("En vedette", None),
        ("Une journée à Ségou", "#UneJournéeÀSégou"),
        ("2027", None),
        ("", None),
        ("   -- ", None),
    ],
)
def test_hashtag(category: str, expected: str | None) -> None:
    assert hashtag(category) == expected


@pytest.mark.parametrize(
    ("categories", "extra", "expected"),
    [
        (("Politique", "Mali"), (), ["#Politique", "#Mali"]),
        (("Sport", "sport", "SPORT"), (), ["#Sport"]),
        (("Éducation", "education"), (), ["#Éducation"]),
        (("Santé", "Non classé", "Société civile"), (), ["#Santé", "#SociétéCivile"]),
        (("A", "B", "C", "D", "E", "F", "G"), (), ["#A", "#B", "#C", "#D", "#E"]),
        (("A", "B", "C", "D", "E", "F"), ("#Mali",), ["#A", "#B", "#C", "#D", "#Mali"]),
        (("Mali", "Économie"), ("mali",), ["#Économie", "#Mali"]),
        ((), ("SahelActu", "Bamako"), ["#SahelActu", "#Bamako"]),
    ],
)
def test_hashtags(categories: tuple[str, ...], extra: tuple[str, ...], expected: list[str]) -> None:
    assert hashtags(categories, extra) == expected

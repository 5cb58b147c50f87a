"""Translated RFC 822 dates that feedparser cannot read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feeds.dates import parse_localised_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mar., 13 sept. 2022 16:41:30 +0000", datetime(2022, 9, 13, 16, 41, 30, tzinfo=UTC)),
        ("sam., 04 mai 2024 10:00:00 +0000", datetime(2024, 5, 4, 10, 0, tzinfo=UTC)),
        ("mer., 22 févr. 2022 20:04:25 +0100", datetime(2022, 2, 22, 19, 4, 25, tzinfo=UTC)),
        ("lundi 3 février 2025 à 14h05", datetime(2025, 2, 3, 14, 5, tzinfo=UTC)),
        ("Jeu, 15 août 2024 08:00:00 GMT", datetime(2024, 8, 15, 8, 0, tzinfo=UTC)),
        ("ven. 12 juil. 2024 23:30 +02:00", datetime(2024, 7, 12, 21, 30, tzinfo=UTC)),
        ("12 juin 2024", datetime(2024, 6, 12, tzinfo=UTC)),
        ("13 déc. 24 10:00:00 WAT", datetime(2024, 12, 13, 9, 0, tzinfo=UTC)),
        ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
        ("31 dic 1999 23:59:60 +0000", datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_reads_translated_dates_as_utc(text: str, expected: datetime) -> None:
    assert parse_localised_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "hier", "32 janv. 2024", "1 brumaire 2024", "12 août 2023 08:00 +9999", "1518478934"],
)
def test_unreadable_dates_give_none(text: str) -> None:
    assert parse_localised_date(text) is None

"""Dates feedparser cannot read: RFC 822 dates written in French (and a few other languages)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from bot.content.text import fold

__all__ = ["parse_localised_date"]

# Some WordPress sites translate their feed dates (`mar., 13 sept. 2022 16:41:30 +0000`,
# `Seg, 24 Set 2018 19:42:40 -0300`); feedparser only knows English month names.
# Keys are the first letters of the month name, accents removed, lower-case.
_MONTHS = {
    "jan": 1, "ene": 1, "gen": 1,
    "fev": 2, "feb": 2,
    "mar": 3, "mrz": 3,
    "avr": 4, "apr": 4, "abr": 4,
    "mai": 5, "may": 5, "mag": 5, "mei": 5,
    "juin": 6, "jun": 6, "giu": 6,
    "juil": 7, "jul": 7, "lug": 7,
    "aou": 8, "aug": 8, "ago": 8,
    "sep": 9, "set": 9,
    "oct": 10, "okt": 10, "out": 10, "ott": 10,
    "nov": 11,
    "dec": 12, "dez": 12, "dic": 12,
}  # fmt: skip
_ZONES = {"gmt": 0, "utc": 0, "ut": 0, "z": 0, "wat": 60, "cet": 60, "cest": 120}
_DATE = re.compile(
    r"""(?ix)
    (?P<day>\d{1,2})\.?\s+
    (?P<month>[^\W\d_]{3,12})\.?,?\s+
    (?P<year>\d{4}|\d{2})
    (?:[,\s]+(?:[àa]\s+)?(?P<hour>\d{1,2})[:h](?P<minute>\d{2})(?::(?P<second>\d{2}))?)?
    \s*(?P<zone>[+-]\d{2}:?\d{2}|[a-z]{1,5})?
    """
)


def _month(name: str) -> int | None:
    key = fold(name)
    for length in (4, 3):
        if key[:length] in _MONTHS:
            return _MONTHS[key[:length]]
    return None


def _offset(zone: str | None) -> timedelta | None:
    if not zone:
        return timedelta(0)
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:])
        return timedelta(minutes=minutes if zone[0] == "+" else -minutes)
    known = _ZONES.get(zone.lower())
    return timedelta(minutes=known) if known is not None else None


def parse_localised_date(text: str) -> datetime | None:
    """`mar., 13 sept. 2022 16:41:30 +0000` → an aware UTC datetime; None if unreadable.

    A missing time means midnight, a missing or unknown zone means UTC; a two-digit year
    below 70 is in the 2000s.
    """
    match = _DATE.search(text)
    if match is None:
        return None
    month = _month(match["month"])
    if month is None:
        return None
    year = int(match["year"])
    if len(match["year"]) == 2:
        year += 2000 if year < 70 else 1900
    offset = _offset(match["zone"])
    try:
        zone = timezone(offset if offset is not None else timedelta(0))
        moment = datetime(
            year,
            month,
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            min(int(match["second"] or 0), 59),
            tzinfo=zone,
        )
    except ValueError:
        return None
    return moment.astimezone(UTC)

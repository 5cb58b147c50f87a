"""Pure decisions: routing, first run, pacing (gap, daily cap, quiet hours) and retry backoff."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.content.text import fold
from bot.delivery.route import decide, first_run_keep, route
from bot.delivery.schedule import next_slot, retry_at
from bot.models import SkipReason
from tests.builders import BASE, article, settings

BAMAKO = ZoneInfo("Africa/Bamako")
PARIS = ZoneInfo("Europe/Paris")


def channel(**kw: object):
    return settings([{"id": "c", "type": "console", **kw}]).channels[0]


@pytest.mark.parametrize(
    ("rules", "categories", "title", "text", "taken"),
    [
        ({}, (), "Titre", "", True),
        ({"include": {"categories": ["Sécurité"]}}, ("SECURITE",), "Titre", "", True),
        ({"include": {"categories": ["Sécurité"]}}, ("Politique",), "Titre", "", False),
        ({"include": {"keywords": ["sécurité"]}}, (), "La securite au centre", "", True),
        ({"include": {"keywords": ["Koulikoro"]}}, (), "Titre", "à koulikoro hier", True),
        ({"exclude": {"categories": ["Publicité"]}}, ("publicite",), "Titre", "", False),
        ({"exclude": {"categories": ["Publicité"]}}, ("Économie",), "Titre", "", True),
        ({"exclude": {"keywords": ["sponsorisé"]}}, (), "Article SPONSORISÉ", "", False),
        (
            {"include": {"categories": ["Sport"]}, "exclude": {"keywords": ["pari"]}},
            ("Sport",),
            "Les paris sportifs",
            "",
            False,
        ),
        ({"include": {"categories": [], "keywords": []}}, ("X",), "Titre", "", True),
        # A rule typed with a straight apostrophe matches the feed's typographic one (issue 9).
        ({"include": {"keywords": ["coup d'État"]}}, (), "Tentative de coup d’État", "", True),
        ({"exclude": {"keywords": ["l’AES"]}}, (), "Sommet de l'AES à Niamey", "", False),
    ],
)
def test_route(rules, categories, title, text, taken) -> None:
    a = article(1, title=title, categories=categories)
    assert (route(a, channel(**rules), text=text) is None) is taken


def test_fold_removes_case_and_accents() -> None:
    assert fold("Sécurité À Ségou") == "securite a segou"


def test_decide_follows_feeds_baseline_and_max_age() -> None:
    s = settings(
        [
            {"id": "all", "type": "console", "max_age": "2d"},
            {"id": "other", "type": "console", "feeds": ["elsewhere"]},
        ],
        feeds=[
            {"id": "site", "url": "https://a.example/feed"},
            {"id": "elsewhere", "url": "https://b.example/feed"},
        ],
    )
    fresh = article(1, published=BASE - timedelta(hours=1))
    old = article(2, published=BASE - timedelta(days=3))
    [d] = decide(fresh, s.channels, now=BASE, baseline=False)
    assert (d.channel_id, d.skip_reason) == ("all", None)
    [d] = decide(old, s.channels, now=BASE, baseline=False)
    assert d.skip_reason is SkipReason.TOO_OLD
    [d] = decide(fresh, s.channels, now=BASE, baseline=True)
    assert d.skip_reason is SkipReason.BASELINE


def test_first_run_keep() -> None:
    arts = [article(i, published=BASE - timedelta(hours=i)) for i in range(1, 6)]
    assert first_run_keep(arts, 0) == set()
    assert first_run_keep(arts, 2) == {arts[0].key, arts[1].key}
    assert first_run_keep(arts, None) == {a.key for a in arts}


def at(hour: int, minute: int = 0, day: int = 2, tz=UTC) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=tz)


@pytest.mark.parametrize(
    ("now", "kw", "expected"),
    [
        (at(9), {}, at(9)),
        (at(9), {"last_post": at(8, 55), "min_gap": timedelta(minutes=10)}, at(9, 5)),
        (at(9), {"last_post": at(8, 40), "min_gap": timedelta(minutes=10)}, at(9)),
        (at(9), {"posts_today": 60, "max_per_day": 60}, at(0, day=3)),
        (at(9), {"posts_today": 59, "max_per_day": 60}, at(9)),
        (at(2), {"quiet_hours": (time(0), time(6))}, at(6)),
        (at(23, 30), {"quiet_hours": (time(23), time(6))}, at(6, day=3)),
        (
            at(5, 55),
            {
                "last_post": at(5, 50),
                "min_gap": timedelta(minutes=10),
                "quiet_hours": (time(0), time(6)),
            },
            at(6),
        ),
        # the daily cap moves to midnight, which is inside the quiet hours: wait until 06:00
        (
            at(21),
            {"posts_today": 5, "max_per_day": 5, "quiet_hours": (time(0), time(6))},
            at(6, day=3),
        ),
        (at(9), {"quiet_hours": (time(6), time(6))}, at(9)),
    ],
)
def test_next_slot_in_bamako(now, kw, expected) -> None:
    args = {
        "last_post": None,
        "posts_today": 0,
        "min_gap": timedelta(0),
        "max_per_day": None,
        "quiet_hours": None,
        **kw,
    }
    assert next_slot(now, tz=BAMAKO, **args) == expected


def test_quiet_hours_follow_the_site_timezone() -> None:
    # 23:30 UTC is 00:30 in Paris (winter): inside Paris quiet hours 00:00-06:00 local.
    slot = next_slot(
        at(23, 30),
        last_post=None,
        posts_today=0,
        min_gap=timedelta(0),
        max_per_day=None,
        quiet_hours=(time(0), time(6)),
        tz=PARIS,
    )
    assert slot == at(5, day=3)  # 06:00 Paris = 05:00 UTC


def test_retry_honours_retry_after_then_backs_off() -> None:
    assert retry_at(BASE, attempts=1, retry_after=17, rand=0.5) == BASE + timedelta(seconds=18)
    delays = [retry_at(BASE, attempts=n, retry_after=None, rand=0.0) - BASE for n in (1, 2, 3, 9)]
    assert delays == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(hours=1),
    ]
    jittered = retry_at(BASE, attempts=1, retry_after=None, rand=1.0) - BASE
    assert jittered == timedelta(seconds=36)

"""The schedule keys of a channel: what they accept, and the French errors with key paths."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest

from bot.errors import ConfigError
from bot.settings import settings_from_mapping

T = time


def load(**channel: Any):
    data = {"channels": [{"id": "c", "type": "console", **channel}]}
    return settings_from_mapping(data, env={}).channels[0]


def problems(**channel: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(**channel)
    return info.value.problems


def test_defaults_change_nothing() -> None:
    c = load()
    assert c.slots is None and c.roundup is None and c.priority is None
    assert c.order == "newest" and not c.approval.enabled
    assert c.approval_timeout.after == timedelta(hours=2) and c.approval_timeout.then == "publish"
    assert c.update_window == timedelta(hours=24)


@pytest.mark.parametrize(
    ("slots", "monday", "saturday", "sunday"),
    [
        (
            {"mon-fri": ["12:30", "07:30"], "sat-sun": ["09:00"]},
            (T(7, 30), T(12, 30)),
            (T(9),),
            (T(9),),
        ),
        ({"lun-ven": ["08:00"], "sam": "10:00"}, (T(8),), (T(10),), ()),
        ({"fri-mon": ["18:00"]}, (T(18),), (T(18),), (T(18),)),
        ({"mon,wed": ["09:00", "09:00"]}, (T(9),), (), ()),
        ({"Mon - Sun": ["6:05"]}, (T(6, 5),), (T(6, 5),), (T(6, 5),)),
    ],
)
def test_slots_by_weekday(slots, monday, saturday, sunday) -> None:
    week = load(slots=slots).slots
    assert (week.on(0), week.on(5), week.on(6)) == (monday, saturday, sunday)


def test_every_key_at_once() -> None:
    data = {
        "telegram": {"token": "1:x"},
        "channels": [
            {
                "id": "c",
                "type": "telegram",
                "chat": "@sahel_actu",
                "quiet_hours": "00:00-06:00",
                "slots": {"mon-fri": ["07:30", "12:30"]},
                "order": "oldest",
                "roundup": {"at": ["07:00"], "after_quiet": True, "min_items": 3, "max_items": 10},
                "priority": {
                    "categories": ["Urgent"],
                    "keywords": ["alerte"],
                    "tags": ["Alerte"],
                    "pin": True,
                    "pin_for": "6h",
                },
                "approval": {"categories": ["Politique"]},
                "approval_timeout": {"after": "30m", "then": "skip"},
                "update_window": "12h",
            }
        ],
    }
    c = settings_from_mapping(data, env={}).channels[0]
    assert c.roundup.times == (T(7),) and c.priority.pin_for == timedelta(hours=6)
    assert c.approval.categories == ("Politique",) and not c.approval.all
    assert c.approval_timeout.then == "skip" and c.update_window == timedelta(hours=12)


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ({"slots": {"mon-fry": ["09:00"]}}, "channels[0].slots: jour inconnu 'mon-fry'"),
        ({"slots": {"mon-fri": ["9h30"]}}, "channels[0].slots: mon-fri: heure attendue"),
        ({"slots": {"mon-fri": 9}}, "channels[0].slots: mon-fri: attendu une liste d'heures"),
        ({"slots": {"mon-fri": ["09:00"], "fri": ["10:00"]}}, "le jour fri a déjà ses créneaux"),
        ({"slots": {"mon-fri": []}}, "channels[0].slots: aucun créneau"),
        ({"slots": ["09:00"]}, "channels[0].slots: attendu des créneaux par jour"),
        ({"order": "random"}, "channels[0].order:"),
        ({"roundup": {"at": []}}, "channels[0].roundup: roundup.at : donnez au moins une heure"),
        ({"roundup": {"at": ["25:00"]}}, "channels[0].roundup.at[0]: heure attendue"),
        (
            {"roundup": {"at": ["07:00"], "min_items": 5, "max_items": 4}},
            "min_items (5) dépasse max_items (4)",
        ),
        ({"roundup": {"at": ["07:00"], "max_items": 50}}, "channels[0].roundup.max_items:"),
        ({"roundup": {"at": ["07:00"], "every": "1h"}}, "channels[0].roundup.every:"),
        ({"priority": {"pin_for": "10d"}}, "pin_for doit être entre 1m et 7d"),
        ({"priority": {"pin": True}}, "priority.pin: seul Telegram sait épingler"),
        ({"approval": "yes"}, "channels[0].approval: attendu true, false ou {categories"),
        ({"approval": {"all": True}}, "écrivez approval: true"),
        (
            {"approval_timeout": {"after": "2h", "then": "wait"}},
            "channels[0].approval_timeout.then:",
        ),
        ({"approval_timeout": {"after": "0s"}}, "approval_timeout.after doit être entre 1m et 7d"),
        ({"update_window": "60d"}, "channels[0].update_window:"),
        (
            {"quiet_hours": "00:00-06:00", "slots": {"mon-sun": ["05:30", "07:30"]}},
            "slots: 05:30 tombe pendant les heures calmes (00:00-06:00)",
        ),
        (
            {"quiet_hours": "22:00-06:00", "roundup": {"at": ["23:00", "07:00"]}},
            "roundup.at: 23:00 tombe pendant les heures calmes (22:00-06:00)",
        ),
    ],
)
def test_errors_name_the_key(channel, expected) -> None:
    found = problems(**channel)
    assert any(expected in p for p in found), found


def test_the_example_config_documents_every_schedule_key() -> None:
    from bot.settings import load_settings
    from tests.test_settings import ENV, EXAMPLE

    tg = load_settings(EXAMPLE, env=ENV).channels[0]
    assert tg.slots is not None and tg.slots.on(0) == (T(7, 30), T(9), T(12, 30), T(18), T(21))
    assert tg.roundup is not None and tg.roundup.at == (T(7),)
    assert tg.priority is not None and tg.priority.pin
    assert tg.approval_timeout.then == "publish" and tg.update_window == timedelta(hours=24)
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in (
        "slots:",
        "order:",
        "roundup:",
        "priority:",
        "approval:",
        "approval_timeout:",
        "update_window:",
    ):
        assert key in text

"""The planning editor: YAML written back with its comments, validated, never over a manual edit."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import Settings, load_settings
from bot.web.planning import (
    PacingChange,
    PlanningConflict,
    apply_pacing,
    form_values,
    save_pacing,
    snapshot,
)
from tests.web.conftest import CONFIG, ENV, World, client_for


def change(channel: str = "tg-main", **values: str) -> PacingChange:
    base = {"min_gap": "10m", "max_per_day": "40", "quiet_hours": "00:00-06:00"}
    base.update(values)
    return PacingChange(channel, **base)


def test_only_the_changed_keys_change() -> None:
    edited = apply_pacing(CONFIG, change(quiet_hours="22:00-07:00", max_per_day="25"))
    before, after = CONFIG.splitlines(), edited.splitlines()
    differ = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert differ == [
        ("    max_per_day: 40", "    max_per_day: 25"),
        (
            '    quiet_hours: "00:00-06:00"       # la nuit, on attend',
            '    quiet_hours: "22:00-07:00"       # la nuit, on attend',
        ),
    ]


def test_a_flow_style_channel_gets_new_keys_in_its_own_style() -> None:
    edited = apply_pacing(CONFIG, change("fb-main", min_gap="1h", max_per_day="6", quiet_hours=""))
    line = next(x for x in edited.splitlines() if "fb-main" in x)
    assert "min_gap: 1h" in line and "max_per_day: 6" in line and "quiet_hours" not in line
    assert "# Relais, configuration de Kibaru Info" in edited


def test_empty_fields_mean_default_gap_no_cap_no_quiet_hours() -> None:
    edited = apply_pacing(CONFIG, change(min_gap="", max_per_day="", quiet_hours=""))
    assert "min_gap: 10m" not in edited
    assert re.search(r"max_per_day:\s*$", edited, re.M) or "max_per_day: null" in edited


def write(tmp_path: Path) -> Path:
    path = tmp_path / "relais.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in ENV.items()))
    return path


def test_save_validates_like_the_config(tmp_path: Path) -> None:
    path = write(tmp_path)
    fingerprint = snapshot(path).fingerprint
    with pytest.raises(ConfigError) as err:
        save_pacing(path, change(quiet_hours="25:00-07:00", max_per_day="-3"), fingerprint)
    problems = " ".join(err.value.problems)
    assert "channels[0].max_per_day" in problems and "channels[0].quiet_hours" in problems
    assert path.read_text() == CONFIG
    assert not list(tmp_path.glob(".relais.yaml*"))  # no scratch file left behind
    settings = save_pacing(path, change(quiet_hours="21:30-06:30"), fingerprint)
    assert settings.channel("tg-main").quiet_hours is not None
    assert load_settings(path).channel("tg-main") == settings.channel("tg-main")


def test_a_manual_edit_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path)
    fingerprint = snapshot(path).fingerprint
    manual = CONFIG.replace("max_per_day: 40", "max_per_day: 12")
    path.write_text(manual, encoding="utf-8")
    os.utime(path, ns=(1, 1))  # even with an old mtime, the content hash differs
    with pytest.raises(PlanningConflict):
        save_pacing(path, change(quiet_hours="22:00-07:00"), fingerprint)
    assert path.read_text() == manual


async def test_the_form_saves_applies_and_records(world: World) -> None:
    applied: list[Settings] = []
    async with client_for(world, apply_settings=applied.append) as client:
        await client.login()
        page = (await client.http.get("/planning")).text
        fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', page)
        assert fingerprint
        form = {
            "csrf": await client.csrf("/planning"),
            "fingerprint": fingerprint.group(1),
            "min_gap": "15m",
            "max_per_day": "30",
            "quiet_hours": "23:00-05:30",
        }
        post = client.http.post
        saved = await post("/planning/tg-main", data=form, follow_redirects=True)
        assert "Planning de tg-main enregistré et appliqué" in saved.text
        again = await post("/planning/tg-main", data=form, follow_redirects=True)
    assert "a été modifié entre-temps" in again.text  # the old fingerprint no longer matches
    assert "# au moins dix minutes" in world.config.read_text()
    [settings] = applied
    assert settings.channel("tg-main").max_per_day == 30


def test_slots_and_roundup_times_are_written_and_validated(tmp_path: Path) -> None:
    path = write(tmp_path)
    edit = PacingChange(
        "tg-main", slots="mon-fri: 07:30 12:30, 18:00; sat-sun: 09:00", roundup_at="07:00"
    )
    settings = save_pacing(path, edit, snapshot(path).fingerprint)
    channel = settings.channel("tg-main")
    assert channel.slots is not None and channel.roundup is not None
    assert [f"{t:%H:%M}" for t in channel.slots.on(0)] == ["07:30", "12:30", "18:00"]
    assert [f"{t:%H:%M}" for t in channel.roundup.times] == ["07:00"]
    text = path.read_text()
    assert "# la nuit, on attend" in text and "# au moins dix minutes" in text
    assert form_values(text, "tg-main")["slots"] == "mon-fri: 07:30 12:30 18:00; sat-sun: 09:00"
    # The same values again leave the file as it is, byte for byte.
    again = PacingChange(
        "tg-main", slots="mon-fri: 07:30 12:30 18:00; sat-sun: 09:00", roundup_at="07:00"
    )
    assert apply_pacing(text, again) == text
    cleared = apply_pacing(text, PacingChange("tg-main", slots="", roundup_at=""))
    assert "slots" not in cleared and "roundup" not in cleared


@pytest.mark.parametrize(
    ("slots", "said"),
    [
        ("lundi 07:30", "write days, a colon, then times"),
        ("xyz: 07:30", "channels[0].slots"),
        ("mon-fri: 25:00", "channels[0].slots"),
    ],
)
def test_bad_slots_are_refused_with_the_key(tmp_path: Path, slots: str, said: str) -> None:
    path = write(tmp_path)
    with pytest.raises(ConfigError) as err:
        save_pacing(path, PacingChange("tg-main", slots=slots), snapshot(path).fingerprint)
    assert said in " ".join(err.value.problems)
    assert path.read_text() == CONFIG


def test_fields_left_out_of_the_form_are_left_alone() -> None:
    with_slots = apply_pacing(CONFIG, PacingChange("tg-main", slots="mon-fri: 07:30"))
    assert apply_pacing(
        with_slots, PacingChange("tg-main", max_per_day="12")
    ) == with_slots.replace("max_per_day: 40", "max_per_day: 12")

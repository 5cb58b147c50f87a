"""Settings: the example config loads, every problem is listed at once, secrets come from env."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.models import ChannelType
from bot.settings import load_settings, parse_duration, settings_from_mapping

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "relais.example.yaml"
ENV = {"FACEBOOK_PAGE_TOKEN": "EAAB-page-token-123456", "TELEGRAM_BOT_TOKEN": "123456:ABC-def"}


def test_example_config_loads_with_every_key() -> None:
    settings = load_settings(EXAMPLE, env=ENV)
    assert settings.site.timezone == "Africa/Bamako"
    [feed] = settings.feeds
    assert feed.every == timedelta(minutes=5) and feed.first_run == "skip"
    tg, fb, out = settings.channels
    assert tg.type is ChannelType.TELEGRAM and tg.chat == "@bamada_net"
    assert tg.quiet_hours == (time(0, 0), time(6, 0))
    assert tg.max_age == timedelta(days=2) and tg.gap == timedelta(minutes=2)
    assert tg.buttons == (("Lire l'article", "{{ link }}"),)
    assert fb.token is not None and fb.token.get_secret_value() == ENV["FACEBOOK_PAGE_TOKEN"]
    assert fb.photo_mode == "never" and fb.gap == timedelta(minutes=10)
    assert out.type is ChannelType.CONSOLE and out.photo_mode == "auto"
    assert settings.telegram.digest_at == time(7, 0)
    assert settings.facebook.version == "v25.0"


def test_secrets_are_not_in_repr() -> None:
    settings = load_settings(EXAMPLE, env=ENV)
    assert ENV["FACEBOOK_PAGE_TOKEN"] not in repr(settings)
    assert ENV["TELEGRAM_BOT_TOKEN"] not in str(settings)


def test_missing_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(EXAMPLE, env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert info.value.problems == [
        "channels[1].token: environment variable FACEBOOK_PAGE_TOKEN is not set"
    ]
    assert str(EXAMPLE) in str(info.value)


def test_dotenv_beside_the_config_is_read(tmp_path: Path) -> None:
    config = tmp_path / "relais.yaml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / ".env").write_text(
        "FACEBOOK_PAGE_TOKEN=from-dotenv-1234\nTELEGRAM_BOT_TOKEN=9:zz\n", encoding="utf-8"
    )
    settings = load_settings(config, env={"TELEGRAM_BOT_TOKEN": "env-wins"})
    assert settings.channels[1].token.get_secret_value() == "from-dotenv-1234"
    assert settings.telegram.token.get_secret_value() == "env-wins"


def test_every_problem_is_reported_at_once() -> None:
    raw = {
        "site": {"timezone": "Mars/Olympus", "language": "de"},
        "feeds": [
            {"id": "a", "url": "https://x.example/feed", "every": "10s"},
            {"id": "a", "url": "https://y.example/feed", "first_run": "some", "strip": ["(["]},
        ],
        "channels": [
            {"id": "tg", "type": "telegram", "chat": "bamada"},
            {"id": "fb", "type": "facebook"},
            {"id": "c", "type": "console", "feeds": ["nope"], "min_gap": "3x", "colour": "red"},
            {"id": "q", "type": "console", "quiet_hours": "25:00-06:00", "max_per_day": 0},
            {"id": "w", "type": "whatsapp"},
        ],
    }
    with pytest.raises(ConfigError) as info:
        settings_from_mapping(raw, env={})
    text = "\n".join(info.value.problems)
    for expected in (
        "site.timezone: unknown time zone 'Mars/Olympus'",
        "site.language:",
        "feeds[0].every: polling more often than every 30s",
        "feeds[1].first_run:",
        "feeds[1].strip: invalid regular expression",
        "feeds: id 'a' is used more than once",
        "channels[0].chat: expected @username",
        "channels[1]: a facebook channel needs `page_id`",
        "channels[2].feeds: unknown feed 'nope'",
        "channels[2].min_gap: expected a duration",
        "channels[2].colour: Extra inputs are not permitted",
        "channels[3].quiet_hours: expected a time as HH:MM, got '25:00'",
        "channels[3].max_per_day:",
        "channels[4].type:",
        "telegram.token: telegram channels need the bot token",
    ):
        assert expected in text, expected
    assert len(info.value.problems) >= 15


def test_not_a_mapping_and_bad_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_settings(bad, env={})
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_settings(listy, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.yaml", env={})


def test_database_url_wins_and_is_normalised() -> None:
    settings = settings_from_mapping(
        {"storage": "sqlite:///data/x.db"}, env={"DATABASE_URL": "postgres://u:p@db.example/relais"}
    )
    assert settings.storage == "postgresql+psycopg://u:p@db.example/relais"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400), (" 10 m ", 600), (45, 45)],
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["5", "5 minutes", "-1m", "1w", True, None, -3])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)

"""Settings: the example config loads, every problem is listed at once, secrets come from env."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.models import ChannelType
from bot.settings import load_settings, parse_duration, settings_from_mapping

ROOT = Path(__file__).resolve().parents[1]
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
        "channels[1].token: la variable d'environnement FACEBOOK_PAGE_TOKEN n'est pas définie"
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
        "site.timezone: fuseau horaire inconnu 'Mars/Olympus'",
        "site.language: valeur 'de' inconnue : choisissez parmi 'fr' ou 'en'",
        "feeds[0].every: interroger un flux plus souvent que toutes les 30s",
        "feeds[1].first_run: attendu skip, all ou latest:N ; trouvé 'some'",
        "feeds[1].strip: expression régulière invalide '(['",
        "feeds: l'identifiant 'a' est utilisé plusieurs fois",
        "channels[0].chat: attendu @nom_de_chaine",
        "channels[1]: une page facebook a besoin de `page_id`",
        "channels[2].feeds: flux inconnu 'nope'",
        "channels[2].min_gap: durée attendue",
        "channels[2].colour: clé inconnue `colour`",
        "channels[3].quiet_hours: heure attendue au format HH:MM ; trouvé '25:00'",
        "channels[3].max_per_day: doit être plus grand que 0",
        "channels[4].type: valeur 'whatsapp' inconnue",
        "telegram.token: les chaînes telegram ont besoin du jeton du bot",
    ):
        assert expected in text, expected
    assert "Extra inputs" not in text and "Input should" not in text
    assert len(info.value.problems) >= 15


def test_not_a_mapping_and_bad_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="YAML invalide ligne 2, colonne 1") as info:
        load_settings(bad, env={})
    assert str(bad) in str(info.value) and "<unicode string>" not in str(info.value)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="une liste de clés attendue"):
        load_settings(listy, env={})
    with pytest.raises(ConfigError, match="n'existe pas"):
        load_settings(tmp_path / "missing.yaml", env={})


@pytest.mark.parametrize("text", ["", "\n# rien encore\n", "{}\n"])
def test_an_empty_file_is_refused(tmp_path: Path, text: str) -> None:
    empty = tmp_path / "relais.yaml"
    empty.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="le fichier est vide"):
        load_settings(empty, env={})


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("min_gapp", "clé inconnue `min_gapp` (vouliez-vous dire `min_gap` ?)"),
        ("quiet_hour", "clé inconnue `quiet_hour` (vouliez-vous dire `quiet_hours` ?)"),
        ("couleur", "clé inconnue `couleur`"),
    ],
)
def test_an_unknown_key_suggests_the_closest_one(key: str, message: str) -> None:
    raw = {"channels": [{"id": "out", "type": "console", key: "2m"}]}
    with pytest.raises(ConfigError) as info:
        settings_from_mapping(raw, env={})
    assert info.value.problems == [f"channels[0].{key}: {message}"]


def test_messages_follow_the_sites_language() -> None:
    raw = {"site": {"language": "en"}, "channels": [{"id": "o", "type": "console", "min_gapp": 1}]}
    with pytest.raises(ConfigError) as info:
        settings_from_mapping(raw, env={})
    assert info.value.problems == [
        "channels[0].min_gapp: unknown key `min_gapp` (did you mean `min_gap`?)"
    ]
    assert "1 problem(s) in the configuration" in str(info.value)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "bamada.net/feed",
            "adresse sans schéma 'bamada.net/feed' : écrivez https://bamada.net/feed",
        ),
        ("www.maliweb.net", "écrivez https://www.maliweb.net"),
        ("ftp://bamada.net/feed", "utilisez http(s)://"),
        ("https://bamada.net/feed", None),
        ("./feed.xml", None),
        ("feed.xml", None),
        ("data/demo_feed.xml", None),
        ("/tmp/flux.rss", None),
        ("file:///tmp/flux.rss", None),
    ],
)
def test_a_feed_address_needs_a_scheme(url: str, problem: str | None) -> None:
    raw = {"feeds": [{"id": "f", "url": url}]}
    if problem is None:
        assert settings_from_mapping(raw, env={}).feeds[0].url == url
        return
    with pytest.raises(ConfigError) as info:
        settings_from_mapping(raw, env={})
    assert problem in info.value.problems[0]


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
    with pytest.raises(ValueError, match="durée"):
        parse_duration(text)


# Documents whose tree the settings' YAML builder must give exactly as PyYAML builds it.
YAML_TREES = [
    "feeds:\n  - {id: a, url: 'https://a.example/f', every: 5m}\n  - {id: b, url: ./b.xml}\n",
    "a: 1\nb: -2.5\nc: true\nd: no\ne: ~\nf: 2026-12-01\ng: 2026-12-01 08:00:00+01:00\nh: '07'\n",
    "base: &base {every: 5m, first_run: skip}\n"
    "feeds:\n  - <<: *base\n    id: a\n  - {<<: *base, id: b}\n",
    "x: &x [1, two, {three: 3}]\ny: *x\nz: [*x, *x]\n",
    "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}]\n",
    "n: !!str 5\nm: !!int '7'\nb: !!binary aGVsbG8=\nf: !!float 1\n",
    "1: one\ntrue: yes\n~: null key\n2026-12-01: a day\n3.5: float key\n",
    "=: value key\nk: [[1, 2], [], {}]\n",
    "text: |\n  two\n  lines\nfolded: >\n  one\n  line\nplain: a b c\n",
    "",
    "just a scalar\n",
    "- a\n- [b, c]\n",
]


@pytest.mark.parametrize("text", YAML_TREES)
@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
def test_the_yaml_tree_is_what_pyyaml_builds(text: str, loader: str) -> None:
    import yaml

    from bot.settings import _compose_and_build

    if not hasattr(yaml, loader):
        pytest.skip(f"PyYAML without {loader}")
    expected = yaml.load(text, Loader=getattr(yaml, loader))  # a safe loader
    built = _compose_and_build(getattr(yaml, loader), text, "relais.yaml")
    assert built == expected
    assert repr(built) == repr(expected)  # the same types too (True is not 1, dates stay dates)


def test_the_built_tree_keeps_none_of_the_composers_texts() -> None:
    """The settings keep copies of the feed ids and URLs, not the composer's own strings, so
    that the composed tree's memory is given back whole once it is freed (docs/design.md)."""
    import yaml

    from bot.settings import _build

    loader = yaml.SafeLoader("feeds:\n  - {id: kibaru-politique, url: 'https://kibaru.ml/f'}\n")
    try:
        node = loader.get_single_node()
        built = _build(loader, node, {})
    finally:
        loader.dispose()
    ((_key, feeds),) = node.value
    composed = [text.value for pair in feeds.value[0].value for text in pair]
    kept = [text for pair in built["feeds"][0].items() for text in pair]
    assert kept == composed
    assert not any(a is b for a, b in zip(kept, composed, strict=True))


def test_an_unhashable_key_is_still_refused_as_pyyaml_refuses_it(tmp_path: Path) -> None:
    path = tmp_path / "relais.yaml"
    path.write_text("? [a, b]\n: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert "unhashable" in str(info.value)


def test_the_collector_is_paused_while_loading_and_restored_after(tmp_path: Path) -> None:
    import gc

    from bot.settings import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        gc.disable()  # someone else's pause inside: left as it was when ours began
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller that had disabled it keeps it disabled
    finally:
        gc.enable()
    path = tmp_path / "relais.yaml"
    path.write_text("feeds: [{id: a, url: './a.xml'}]\n", encoding="utf-8")
    load_settings(path, env={})
    assert gc.isenabled()
    path.write_text("feeds: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_settings(path, env={})
    assert gc.isenabled()  # a refused file too

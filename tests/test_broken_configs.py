"""`relais check` on a table of broken configurations: each one exits 2, names the key and says
what is wrong in the site's language (French by default), never with a traceback (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main

OK_FEED = "feeds: [{id: b, url: 'https://bamada.example/feed'}]\n"
TG = "telegram: {token: '123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789'}\n"

# (configuration text, key path named, French words of the message)
BROKEN: list[tuple[str, str, str]] = [
    # --- the file itself
    ("", "", "le fichier est vide"),
    ("[1, 2]\n", "(top level)", "une liste de clés attendue"),
    ("feeds: [unclosed\n", "", "YAML invalide ligne 2"),
    ("site: {name: a\n", "", "YAML invalide"),
    ("site: {name: x}\nsite: {name: y}\n", "site", "écrite deux fois"),
    (OK_FEED + "feeds: []\n", "feeds", "écrite deux fois"),
    ("site: {name: x, name: y}\n", "site.name", "écrite deux fois"),
    (
        "a: &a ['x','x','x','x','x','x','x','x','x']\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
        "",
        "trop d'alias",
    ),
    ("a: " + "[" * 3000 + "]" * 3000 + "\n", "", "YAML imbriqué trop profondément"),
    ("a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n", "", "YAML imbriqué trop profondément"),
    ("sitee: {name: x}\n", "sitee", "clé inconnue `sitee` (vouliez-vous dire `site` ?)"),
    # --- site
    ("site: {language: de}\n", "site.language", "valeur 'de' inconnue"),
    ("site: {timezone: Mars/Olympus}\n", "site.timezone", "fuseau horaire inconnu"),
    ("site: {name: [1, 2]}\n", "site.name", "texte attendu"),
    ("site: [a, b]\n", "site", "liste de clés attendue"),
    ("site: {nom: x}\n", "site.nom", "clé inconnue `nom`"),
    # --- storage
    ("storage: 'pas une url'\n", "storage", "pas une adresse de base de données"),
    ("storage: 'mysql://u@h/db'\n", "storage", "non prise en charge"),
    ("storage: 42\n", "storage", "texte attendu"),
    # --- feeds
    ("feeds: {id: b}\n", "feeds", "liste attendue"),
    ("feeds: [{url: 'https://a.example/feed'}]\n", "feeds[0].id", "clé obligatoire manquante"),
    ("feeds: [{id: b}]\n", "feeds[0].url", "clé obligatoire manquante"),
    ("feeds: [{id: 'b c', url: 'https://a.example/f'}]\n", "feeds[0].id", "identifiant attendu"),
    ("feeds: [{id: b, url: 'bamada.net/feed'}]\n", "feeds[0].url", "écrivez https://bamada"),
    ("feeds: [{id: b, url: 'ftp://a.example/f'}]\n", "feeds[0].url", "utilisez http(s)://"),
    (
        "feeds: [{id: b, url: 'https://a.example:99999/feed'}]\n",
        "feeds[0].url",
        "port 99999 invalide",
    ),
    ("feeds: [{id: b, url: 'https://a.example:0/f'}]\n", "feeds[0].url", "port 0 invalide"),
    ("feeds: [{id: b, url: 'https://a.example:http/f'}]\n", "feeds[0].url", "port http invalide"),
    ("feeds: [{id: b, url: 'https://[::1/f'}]\n", "feeds[0].url", "adresse invalide"),
    ("feeds: [{id: b, url: 'http://'}]\n", "feeds[0].url", "adresse invalide"),
    (
        "feeds: [{id: b, url: 'https://a.example/f', every: .nan}]\n",
        "feeds[0].every",
        "durée attendue",
    ),
    (
        "feeds: [{id: b, url: 'https://a.example/f', every: .inf}]\n",
        "feeds[0].every",
        "durée attendue",
    ),
    ("feeds: [{id: b, url: 'https://a.example/f', every: 10s}]\n", "feeds[0].every", "30s"),
    (
        "feeds: [{id: b, url: 'https://a.example/f', every: 5 minutes}]\n",
        "feeds[0].every",
        "durée attendue",
    ),
    ("feeds: [{id: b, url: 'https://a.example/f', every: -5}]\n", "feeds[0].every", "négative"),
    (
        "feeds: [{id: b, url: 'https://a.example/f', every: 99999999999999d}]\n",
        "feeds[0].every",
        "au plus 3650d",
    ),
    (
        "feeds: [{id: b, url: 'https://a.example/f', every: 30d}]\n",
        "feeds[0].every",
        "au plus 7d",
    ),
    (
        "feeds: [{id: b, url: 'https://a.example/f', first_run: latest}]\n",
        "feeds[0].first_run",
        "skip, all ou latest:N",
    ),
    (
        "feeds: [{id: b, url: 'https://a.example/f', first_run: 'latest:0'}]\n",
        "feeds[0].first_run",
        "skip, all ou latest:N",
    ),
    (
        "feeds: [{id: b, url: 'https://a.example/f', strip: ['(']}]\n",
        "feeds[0].strip",
        "expression régulière invalide",
    ),
    (
        "feeds: [{id: b, url: 'https://a.example/f', max_bytes: 0}]\n",
        "feeds[0].max_bytes",
        "plus grand que 0",
    ),
    (
        "feeds: [{id: b, url: 'https://a.example/f', max_bytes: beaucoup}]\n",
        "feeds[0].max_bytes",
        "nombre entier attendu",
    ),
    (
        "feeds: [{id: b, url: 'https://a.example/f', evry: 5m}]\n",
        "feeds[0].evry",
        "vouliez-vous dire `every`",
    ),
    (
        "feeds: [{id: b, url: 'https://a.example/f'}, {id: b, url: 'https://c.example/f'}]\n",
        "feeds",
        "utilisé plusieurs fois",
    ),
    # --- channels
    ("channels: [{id: c, type: fax}]\n", "channels[0].type", "valeur 'fax' inconnue"),
    ("channels: [{type: console}]\n", "channels[0].id", "clé obligatoire manquante"),
    ("channels: [{id: c, type: telegram}]\n" + TG, "channels[0]", "a besoin de `chat`"),
    (
        "channels: [{id: c, type: telegram, chat: 'bamada'}]\n" + TG,
        "channels[0].chat",
        "@nom_de_chaine",
    ),
    (
        "channels: [{id: c, type: telegram, chat: '@ba'}]\n" + TG,
        "channels[0].chat",
        "@nom_de_chaine",
    ),
    ("channels: [{id: c, type: telegram, chat: '@bamada'}]\n", "telegram.token", "jeton du bot"),
    ("channels: [{id: c, type: facebook, token: x}]\n", "channels[0]", "besoin de `page_id`"),
    ("channels: [{id: c, type: facebook, page_id: '1'}]\n", "channels[0]", "besoin de `token`"),
    (
        "channels: [{id: c, type: facebook, page_id: '1', token: '${NO_SUCH_TOKEN_XYZ}'}]\n",
        "channels[0].token",
        "NO_SUCH_TOKEN_XYZ n'est pas définie",
    ),
    (
        "channels: [{id: c, type: facebook, page_id: '1', token: '$NO_SUCH_TOKEN_XYZ'}]\n",
        "channels[0].token",
        "NO_SUCH_TOKEN_XYZ n'est pas définie",
    ),
    (
        "channels: [{id: c, type: console, feeds: [nope]}]\n" + OK_FEED,
        "channels[0].feeds",
        "flux inconnu 'nope'",
    ),
    (
        "channels: [{id: c, type: console}, {id: c, type: console}]\n",
        "channels",
        "utilisé plusieurs fois",
    ),
    ("channels: [{id: c, type: console, min_gap: 2d}]\n", "channels[0].min_gap", "au plus 1d"),
    (
        "channels: [{id: c, type: console, min_gap: 2 minutes}]\n",
        "channels[0].min_gap",
        "durée attendue",
    ),
    (
        "channels: [{id: c, type: console, min_gap: 9999999999d}]\n",
        "channels[0].min_gap",
        "au plus 3650d",
    ),
    (
        "channels: [{id: c, type: console, max_age: 99999999999999d}]\n",
        "channels[0].max_age",
        "au plus 3650d",
    ),
    ("channels: [{id: c, type: console, max_age: 400d}]\n", "channels[0].max_age", "au plus 365d"),
    (
        "channels: [{id: c, type: console, update_window: 60d}]\n",
        "channels[0].update_window",
        "au plus 30d",
    ),
    (
        "channels: [{id: c, type: console, max_per_day: 0}]\n",
        "channels[0].max_per_day",
        "plus grand que 0",
    ),
    (
        "channels: [{id: c, type: console, max_per_day: many}]\n",
        "channels[0].max_per_day",
        "nombre entier attendu",
    ),
    (
        "channels: [{id: c, type: console, quiet_hours: '22h-6h'}]\n",
        "channels[0].quiet_hours",
        "HH:MM",
    ),
    (
        "channels: [{id: c, type: console, quiet_hours: '25:00-06:00'}]\n",
        "channels[0].quiet_hours",
        "HH:MM",
    ),
    (
        "channels: [{id: c, type: console, hashtags: peut-être}]\n",
        "channels[0].hashtags",
        "true ou false attendu",
    ),
    (
        "channels: [{id: c, type: console, photo: always}]\n",
        "channels[0].photo",
        "valeur 'always' inconnue",
    ),
    (
        "channels: [{id: c, type: console, teaser_length: 5}]\n",
        "channels[0].teaser_length",
        "au moins 40",
    ),
    (
        "channels: [{id: c, type: console, teaser_length: 99999}]\n",
        "channels[0].teaser_length",
        "au plus 4000",
    ),
    (
        "channels: [{id: c, type: console, include: [Mali]}]\n",
        "channels[0].include",
        "liste de clés attendue",
    ),
    ("channels: [{id: c, type: console, template: '{{ title '}]\n", "channels[0]", "modèle"),
    ("channels: [{id: c, type: console, template: '{{ nope }}'}]\n", "channels[0]", "modèle"),
    (
        "channels: [{id: c, type: console, template: "
        "'{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}'}]\n",
        "channels[0]",
        "trop long",
    ),
    (
        "channels: [{id: c, type: console, template: \"{{ 'x' * 1000000000 }}\"}]\n",
        "channels[0]",
        "trop long",
    ),
    (
        "channels: [{id: c, type: console, template: \"{{ 'x'|center(1000000000) }}\"}]\n",
        "channels[0]",
        "trop long",
    ),
    (
        "channels: [{id: c, type: console, template: "
        "'{% for a in range(100000) %}{{ title }}{% endfor %}'}]\n",
        "channels[0]",
        "trop long",
    ),
    (
        "channels: [{id: c, type: console, template: '{{ title.__class__ }}'}]\n",
        "channels[0]",
        "modèle",
    ),
    (
        "channels: [{id: c, type: console, order: random}]\n",
        "channels[0].order",
        "valeur 'random' inconnue",
    ),
    (
        "channels: [{id: c, type: console, credit: tous}]\n",
        "channels[0].credit",
        "valeur 'tous' inconnue",
    ),
    (
        "channels: [{id: c, type: console, buttons: 'Lire'}]\n",
        "channels[0].buttons",
        "liste attendue",
    ),
    (
        "channels: [{id: c, type: console, utm: {source: a, term: b}}]\n",
        "channels[0].utm.term",
        "clé inconnue",
    ),
    (
        "channels: [{id: c, type: console, approval_timeout: {after: 2h, then: wait}}]\n",
        "channels[0].approval_timeout.then",
        "inconnue",
    ),
    ("channels: c\n", "channels", "liste attendue"),
    # --- telegram, facebook
    ("telegram: {admins: [quelqu'un]}\n", "telegram.admins[0]", "nombre entier attendu"),
    ("telegram: {digest_at: '7h'}\n", "telegram.digest_at", "HH:MM"),
    ("telegram: {commands: oui-non}\n", "telegram.commands", "true ou false attendu"),
    (
        "telegram: {webhook: {url: 'https://a.example/hook', port: 70000}}\n",
        "telegram.webhook.port",
        "doit être",
    ),
    ("telegram: {tokn: x}\n", "telegram.tokn", "vouliez-vous dire `token`"),
    ("facebook: {version: '25'}\n", "facebook.version", "forme invalide"),
    ("facebook: {timeout: 10 secondes}\n", "facebook.timeout", "durée attendue"),
    ("facebook: {timeout: 9999999999d}\n", "facebook.timeout", "au plus"),
]


@pytest.mark.parametrize(
    ("text", "key", "says"), BROKEN, ids=[f"{i:02d}" for i in range(len(BROKEN))]
)
def test_check_refuses_a_broken_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str, says: str
) -> None:
    path = tmp_path / "relais.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["--config", str(path), "check"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert says in err, err
    assert f"{key}:" in err if key else str(path) in err
    for english in ("Traceback", "Input should", "Value error", "Field required", "<unicode"):
        assert english not in err


def test_the_table_is_large_enough() -> None:
    assert len(BROKEN) >= 60


@pytest.mark.parametrize(
    "storage", ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?cache=shared"]
)
def test_run_refuses_an_in_memory_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], storage: str
) -> None:
    path = tmp_path / "relais.yaml"
    path.write_text(
        f"storage: '{storage}'\nfeeds: [{{id: b, url: ./f.xml, first_run: 'latest:2'}}]\n"
        "channels: [{id: o, type: console}]\n",
        encoding="utf-8",
    )
    assert main(["--config", str(path), "run", "--once"]) == 2
    assert "storage: une base en mémoire oublie tout" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("chat: -1001234567890", lambda c: c.chat == "-1001234567890"),
        ("chat: '@bamada_net'\n    page_id: 1234567890", lambda c: c.page_id == "1234567890"),
    ],
)
def test_numbers_where_ids_are_expected_are_read_as_ids(text: str, check: object) -> None:
    import yaml

    from bot.settings import settings_from_mapping

    raw = yaml.safe_load(
        f"channels:\n  - id: t\n    type: telegram\n    {text}\ntelegram: {{token: x}}\n"
    )
    channel = settings_from_mapping(raw, env={}).channels[0]
    assert callable(check) and check(channel)


def test_a_bare_dollar_variable_is_read_from_the_environment() -> None:
    import yaml

    from bot.settings import settings_from_mapping

    raw = yaml.safe_load(
        "telegram: {token: $RELAIS_T}\nchannels: [{id: c, type: console, cta: 'Prix : 5$'}]\n"
    )
    settings = settings_from_mapping(raw, env={"RELAIS_T": "123:abc"})
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123:abc"
    assert settings.channels[0].cta == "Prix : 5$"

"""Pure parts of the reader bot: catalogues, search text and terms, the command limit, views."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.content.telegram_html import telegram_length, validate_telegram_html
from bot.errors import (
    CredentialsError,
    PermanentError,
    RecipientGoneError,
    TransientError,
    UnknownOutcomeError,
)
from bot.telegram_bot.admin import allowed_hosts, check_url
from bot.telegram_bot.broadcast import classify
from bot.telegram_bot.command_limit import CommandLimiter, Verdict
from bot.telegram_bot.context import clean_input, topic_token
from bot.telegram_bot.messages import (
    CATALOGUES,
    EN,
    FR,
    Html,
    as_lang,
    pick_lang,
    placeholders,
    text,
)
from bot.telegram_bot.search import query_terms, search_text, suggest, topic_key, words
from bot.telegram_bot.service import ADMIN_COMMANDS, READER_COMMANDS, commands_for
from bot.telegram_bot.views import broadcast_text, digest_text, fit, when
from tests.builders import BAMADA

HOSTILE = '<script>alert("x")</script> & </b> &nbsp; <a href="javascript:x">'


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    assert FR.keys() == EN.keys()
    for key in FR:
        assert placeholders(FR[key]) == placeholders(EN[key]), key


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_entry_is_valid_telegram_html_even_with_hostile_values(lang: str) -> None:
    for key, template in CATALOGUES[lang].items():  # type: ignore[index]
        values = {name: HOSTILE for name in placeholders(template)}
        filled = text(lang, key, **values)  # type: ignore[arg-type]
        validate_telegram_html(filled)
        assert "<script>" not in filled


def test_html_values_are_inserted_as_they_are() -> None:
    assert text("fr", "broadcast_head", topic=Html("<i>x</i>")) == "🔔 <b><i>x</i></b>"
    assert text("fr", "broadcast_head", topic="<i>x</i>") == "🔔 <b>&lt;i&gt;x&lt;/i&gt;</b>"


def test_command_descriptions_fit_telegram() -> None:
    for lang in ("fr", "en"):
        commands = commands_for(lang, admin=True)  # type: ignore[arg-type]
        assert [c.command for c in commands] == [*READER_COMMANDS, *ADMIN_COMMANDS]
        for command in commands:
            assert 3 <= len(command.description) <= 256


@pytest.mark.parametrize(
    ("chosen", "telegram", "site", "expected"),
    [
        (None, "fr", "en", "fr"),
        (None, "en-US", "fr", "en"),
        (None, "bm", "fr", "fr"),  # Bambara: no catalogue, the site's language
        (None, None, "en", "en"),
        ("en", "fr", "fr", "en"),  # /lang wins over Telegram's
        ("de", "pt-BR", "fr", "fr"),
    ],
)
def test_pick_lang(chosen: str | None, telegram: str | None, site: str, expected: str) -> None:
    assert pick_lang(chosen, telegram, site) == expected


def test_as_lang() -> None:
    assert as_lang("EN_us") == "en"
    assert as_lang("français") is None
    assert as_lang("") is None


# ---- search ---------------------------------------------------------------------------------


def test_words_and_topic_keys_fold_case_accents_and_apostrophes() -> None:
    assert words("L’Armée  À BAMAKO") == ["l", "armee", "a", "bamako"]
    assert topic_key(" Sécurité ") == "securite"
    assert topic_key("Société civile") == topic_key("SOCIETE   CIVILE") == "societe civile"
    assert topic_key("!!!") == ""


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("securite", ["securite"]),
        ("SÉCURITÉ à Bamako", ["securite", "bamako"]),
        ("élections", ["election"]),  # plural: finds the singular too
        ("virus", ["virus"]),  # -us is not a plural
        ("le la les", ["le", "la", "les"]),  # only stop words: keep them
        ("l'armée", ["armee"]),
        ("a b c", []),
        ("", []),
        ("2026", ["2026"]),
        ("% _ \\", []),
        (
            "zz " * 3 + "un deux trois quatre cinq six sept huit neuf",
            ["zz", "deux", "trois", "quatre", "cinq", "six", "sept", "huit"],
        ),
    ],
)
def test_query_terms(query: str, terms: list[str]) -> None:
    assert query_terms(query) == terms


def test_query_terms_are_stable_when_parsed_again() -> None:
    for query in ("élections législatives", "les forces armées", "bus ss sss"):
        terms = query_terms(query)
        assert query_terms(" ".join(terms)) == terms


def test_search_text_has_title_categories_and_lead_without_boilerplate() -> None:
    item = BAMADA.article(
        1,
        title="Sécurité : l'armée à Mopti",
        categories=("Défense",),
        content="<p>Les FAMa ont sécurisé la route de Sévaré.</p>"
        "<p>Suivez-nous sur Facebook pour ne rien rater de l'actualité.</p>",
    )
    found = search_text(item)
    assert found.startswith(" ") and found.endswith(" ")
    for word in ("securite", "armee", "mopti", "defense", "fama", "sevare"):
        assert f" {word} " in found
    assert "facebook" not in found


def test_search_text_is_bounded() -> None:
    long = "<p>" + "mot " * 5000 + "</p>"
    assert len(search_text(BAMADA.article(1, content=long))) < 4000


def test_suggestions() -> None:
    known = {"securite": "Sécurité", "politique": "Politique", "societe": "Société"}
    assert suggest("secu", known) == ["Sécurité"]
    assert suggest("politik", known) == ["Politique"]
    assert suggest("zzz", known) == []
    assert suggest("", known) == []


def test_clean_input_removes_what_could_break_a_handler() -> None:
    assert clean_input("a\x00b\u200bc\nd\te") == "a bc d e"
    assert len(clean_input("x" * 10_000)) == 300
    assert clean_input("\ud800 ok") == "ok"


def test_topic_tokens_are_short_and_stable() -> None:
    token = topic_key("Société civile")
    assert topic_token(token) == topic_token("societe civile")
    assert len(topic_token("x" * 255)) == 12


# ---- the command limit ----------------------------------------------------------------------


def test_command_limit_warns_once_then_drops_until_the_window_frees() -> None:
    limiter = CommandLimiter(limit=3, period=timedelta(minutes=1))
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert [limiter.check(1, t0) for _ in range(3)] == [Verdict.ALLOW] * 3
    assert limiter.check(1, t0) is Verdict.WARN
    assert limiter.check(1, t0 + timedelta(seconds=30)) is Verdict.DROP
    assert limiter.check(2, t0) is Verdict.ALLOW  # others are not affected
    assert limiter.check(1, t0 + timedelta(seconds=61)) is Verdict.ALLOW
    assert [limiter.check(1, t0 + timedelta(seconds=62)) for _ in range(2)] == [Verdict.ALLOW] * 2
    assert limiter.check(1, t0 + timedelta(seconds=62)) is Verdict.WARN


def test_command_limit_memory_is_bounded() -> None:
    limiter = CommandLimiter(limit=2, max_users=100)
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for user in range(1000):
        limiter.check(user, t0 + timedelta(milliseconds=user))
    assert len(limiter) <= 100
    with pytest.raises(ValueError, match="at least 1"):
        CommandLimiter(limit=0)


# ---- views ----------------------------------------------------------------------------------


def test_dates_in_the_site_time_zone() -> None:
    moment = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    assert when(moment, "fr", ZoneInfo("Africa/Bamako")) == "2 nov. 23:30"
    assert when(moment, "en", ZoneInfo("Europe/Paris")) == "Nov 3, 00:30"
    assert when(None, "fr", ZoneInfo("UTC")) == "—"


def test_broadcast_text_escapes_a_hostile_title() -> None:
    item = BAMADA.article(1, title=HOSTILE)
    message = broadcast_text(item, "Sécurité & Défense", "Un <b>teaser</b> & plus.", "fr")
    validate_telegram_html(message)
    assert "&lt;script&gt;" in message
    assert message.startswith("🔔 <b>Sécurité &amp; Défense</b>")


def test_digest_text_stays_within_telegram_limits() -> None:
    items = [BAMADA.article(n, title=("Très long titre " * 30) + HOSTILE) for n in range(1, 30)]
    message = digest_text(items, "en", ZoneInfo("UTC"), site="Bamada.net", day=date(2026, 11, 2))
    validate_telegram_html(message)
    assert telegram_length(message) <= 4096
    assert "Nov 2, 2026" in message and message.endswith("/digest off to stop this summary.")


def test_fit_drops_whole_lines() -> None:
    lines = [f"<b>{i}</b> " + "x" * 100 for i in range(100)]
    message = fit(lines)
    validate_telegram_html(message)
    assert telegram_length(message) <= 4096 and message.endswith("…")


# ---- admin URLs -----------------------------------------------------------------------------


def test_only_urls_of_configured_hosts_are_accepted() -> None:
    hosts = allowed_hosts("https://bamada.net", ["https://www.journal.example/feed", ""])
    assert hosts == {"bamada.net", "journal.example"}
    assert check_url("https://bamada.net/2026/11/x/", hosts) is None
    assert check_url("http://WWW.Bamada.net/x", hosts) is None
    assert check_url("https://journal.example/a", hosts) is None
    assert check_url("https://evil.example/bamada.net", hosts) == "url_refused"
    assert check_url("https://bamada.net.evil.example/", hosts) == "url_refused"
    assert check_url("https://user:pw@bamada.net/", hosts) == "url_invalid"
    assert check_url("javascript:alert(1)", hosts) == "url_invalid"
    assert check_url("ftp://bamada.net/x", hosts) == "url_invalid"
    assert check_url("https://bamada.net:99999/", hosts) == "url_invalid"
    assert check_url("https://[::1/", hosts) == "url_invalid"


@pytest.mark.parametrize(
    ("error", "expected", "message"),
    [
        (
            Forbidden("Forbidden: bot was blocked by the user"),
            RecipientGoneError,
            "blocked or gone",
        ),
        (BadRequest("Chat not found"), RecipientGoneError, "gone: Chat not found"),
        (BadRequest("Bad Request: PEER_ID_INVALID"), RecipientGoneError, "gone:"),
        (InvalidToken(), CredentialsError, "refused the bot token"),
        (RetryAfter(timedelta(seconds=7)), TransientError, "retry in 7 s"),
        (BadRequest("Bad Request: can't parse entities"), PermanentError, "refuse la publication"),
        (TimedOut(), UnknownOutcomeError, "peut-être été publié"),
        (NetworkError("connection refused"), TransientError, "injoignable"),
    ],
)
def test_classify_translates_a_private_message_error(
    error: TelegramError, expected: type, message: str
) -> None:
    """A reader's chat first (gone), then the channels' table; the policy decides the rest."""
    token = "123456:SECRET-token-value"
    got = classify(error, token)
    assert type(got) is expected and message in str(got) and token not in str(got)
    if isinstance(error, RetryAfter):
        assert got.retry_after == 7

"""Canonical URLs, safe links, article keys and normalised titles, as tables of cases."""

from __future__ import annotations

import re

import pytest

from bot.feeds.identity import (
    article_key,
    canonical_url,
    link_problem,
    normalise_title,
    redact_url,
    safe_link,
)

SITE = "https://www.journaldudjoliba.example"

CANONICAL_CASES = [
    # scheme and host lower-cased, path case kept
    ("HTTPS://WWW.JournalDuDjoliba.EXAMPLE/Politique/Article", f"{SITE}/Politique/Article"),
    # default ports dropped, others kept
    ("https://www.journaldudjoliba.example:443/a", f"{SITE}/a"),
    ("http://www.journaldudjoliba.example:80/a", "http://www.journaldudjoliba.example/a"),
    ("http://localhost:8080/a", "http://localhost:8080/a"),
    # no fragment
    (f"{SITE}/2024/05/article/#commentaires", f"{SITE}/2024/05/article"),
    # tracking parameters dropped, the others kept in order
    (f"{SITE}/a/?utm_source=rss&utm_medium=rss&utm_campaign=x", f"{SITE}/a"),
    (f"{SITE}/a?id=3&utm_campaign=x&page=2", f"{SITE}/a?id=3&page=2"),
    (f"{SITE}/a?fbclid=IwAR0&gclid=Cj0&mc_cid=1a&mc_eid=2b", f"{SITE}/a"),
    (f"{SITE}/a?UTM_Source=facebook&b=1", f"{SITE}/a?b=1"),
    (f"{SITE}/a?utm%5Fsource=x", f"{SITE}/a"),
    (f"{SITE}/?p=1201", f"{SITE}/?p=1201"),
    (f"{SITE}/a?", f"{SITE}/a"),
    (f"{SITE}/a?x=1&&y=2", f"{SITE}/a?x=1&y=2"),
    # trailing slash: no difference, but the root stays "/"
    (f"{SITE}/a/b/", f"{SITE}/a/b"),
    (f"{SITE}/", f"{SITE}/"),
    (SITE, f"{SITE}/"),
    # internationalised host names in punycode
    ("https://bamakö.ml/actualité", "https://xn--bamak-nua.ml/actualit%C3%A9"),
    ("https://BAMAKÖ.ml/", "https://xn--bamak-nua.ml/"),
    # percent-encoding: hex upper-cased, unreserved characters decoded, the rest encoded
    (f"{SITE}/actualit%c3%a9", f"{SITE}/actualit%C3%A9"),
    (f"{SITE}/%7Eredaction/%41rticle", f"{SITE}/~redaction/Article"),
    (f"{SITE}/a b", f"{SITE}/a%20b"),
    (f"{SITE}/100%", f"{SITE}/100%25"),
    (f"{SITE}/a?b=%2f&c=1", f"{SITE}/a?b=%2F&c=1"),
    (f"{SITE}/recherche?q=café", f"{SITE}/recherche?q=caf%C3%A9"),
    (f"{SITE}/recherche?q=caf%C3%A9+au+lait", f"{SITE}/recherche?q=caf%C3%A9+au+lait"),
    # dot segments
    (f"{SITE}/a/./b/../c", f"{SITE}/a/c"),
    # surrounding whitespace, a trailing dot on the host
    (f"  {SITE}/a\n", f"{SITE}/a"),
    ("https://www.journaldudjoliba.example./a", f"{SITE}/a"),
    # IPv6 and user info
    ("https://[2001:DB8::1]:443/a", "https://[2001:db8::1]/a"),
    ("https://redac:motdepasse@Example.com/a", "https://redac:motdepasse@example.com/a"),
]


@pytest.mark.parametrize(("url", "expected"), CANONICAL_CASES)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(("url", "_expected"), CANONICAL_CASES)
def test_canonical_url_is_idempotent(url: str, _expected: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            f"{SITE}/2024/05/06/sikasso-campagne-cotonniere/",
            "https://WWW.JournalDuDjoliba.example:443/2024/05/06/sikasso-campagne-cotonniere"
            "?fbclid=IwAR0abc#commentaires",
        ),
        (f"{SITE}/a?utm_source=telegram", f"{SITE}/a/#top"),
    ],
)
def test_same_article_same_canonical_url(first: str, second: str) -> None:
    assert canonical_url(first) == canonical_url(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (f"{SITE}/a", f"{SITE}/A"),  # paths are case-sensitive
        (f"{SITE}/?p=1", f"{SITE}/?p=2"),
        (f"{SITE}/a?x=1&y=2", f"{SITE}/a?y=2&x=1"),  # order of real parameters kept
        ("http://example.com/a", "https://example.com/a"),
    ],
)
def test_different_articles_keep_different_canonical_urls(first: str, second: str) -> None:
    assert canonical_url(first) != canonical_url(second)


BASE = f"{SITE}/feed/"


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (f"{SITE}/a", None, f"{SITE}/a"),
        (f"  {SITE}/a \n", None, f"{SITE}/a"),
        ("/2024/05/a/", BASE, f"{SITE}/2024/05/a/"),
        ("article.html", f"{SITE}/rubrique/feed", f"{SITE}/rubrique/article.html"),
        ("//cdn.example.com/i.jpg", "http://example.com/", "http://cdn.example.com/i.jpg"),
        ("//cdn.example.com/i.jpg", None, "https://cdn.example.com/i.jpg"),
        (f'{SITE}/a b"c', None, f"{SITE}/a%20b%22c"),
        (f"{SITE}/actualité", None, f"{SITE}/actualité"),
        ("HTTP://example.com/a", None, "HTTP://example.com/a"),
        ("javascript:alert(1)", BASE, None),
        ("JaVaScRiPt:alert(1)", BASE, None),
        (" java\tscript:alert(1)", BASE, None),
        ("java\nscript:alert(1)", BASE, None),
        ("data:text/html;base64,PHNjcmlwdD4=", BASE, None),
        ("mailto:redaction@example.com", BASE, None),
        ("ftp://example.com/f.xml", BASE, None),
        ("vbscript:msgbox(1)", BASE, None),
        ("file:///etc/passwd", BASE, None),
        ("/relatif", None, None),
        ("relatif", "javascript:x", None),
        ("https://", None, None),
        ("http:example.com", None, None),
        ("http://[::1", None, None),
        ("", BASE, None),
        ("   ", BASE, None),
        (None, BASE, None),
    ],
)
def test_safe_link(url: str | None, base: str | None, expected: str | None) -> None:
    assert safe_link(url, base) == expected


@pytest.mark.parametrize(
    ("url", "base", "reason"),
    [
        (None, None, "no link"),
        ("  ", BASE, "no link"),
        ("javascript:alert(document.cookie)", BASE, "link is not http(s): javascript:…"),
        ("data:text/html,x", None, "link is not http(s): data:…"),
        ("/2024/a", None, "relative link and no base URL to resolve it"),
        ("/2024/a", "file:///home/redac/feed.xml", "relative link and no base URL to resolve it"),
        ("https://", None, "link has no host"),
        ("http://[::1", None, "link is not a valid URL"),
        (f"{SITE}/a", None, None),
    ],
)
def test_link_problem_says_why(url: str | None, base: str | None, reason: str | None) -> None:
    assert link_problem(url, base) == reason


def test_article_key_is_short_stable_and_distinct() -> None:
    key = article_key(f"{SITE}/a")
    assert re.fullmatch(r"[0-9a-f]{16}", key)
    assert article_key(f"{SITE}/a") == key
    assert article_key(f"{SITE}/b") != key
    # the key of a canonical URL: two spellings of one link give one key
    assert article_key(canonical_url(f"{SITE}/a/?utm_source=x")) == article_key(
        canonical_url("HTTPS://www.journaldudjoliba.example/a#haut")
    )


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("« L’Armée malienne » : bilan…", "l armee malienne bilan"),
        ("l'armee malienne - bilan", "l armee malienne bilan"),
        ("  Sikasso\u00a0:  COTON  ", "sikasso coton"),
        ("Œuvre d’art à Ségou", "oeuvre d art a segou"),
        ("Straße", "strasse"),
        ("2024 : hausse de 15\u202f% !", "2024 hausse de 15"),
        ("Kayes\n\tpluies", "kayes pluies"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_normalise_title(title: str, expected: str) -> None:
    assert normalise_title(title) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://redac:secret@example.com/feed?token=abc123&p=1",
            "https://example.com/feed?token=***&p=1",
        ),
        (
            "https://example.com/feed?api_key=zz&access_token=yy",
            "https://example.com/feed?api_key=***&access_token=***",
        ),
        ("https://example.com/?feed=rss2", "https://example.com/?feed=rss2"),
        ("https://example.com/feed#x", "https://example.com/feed"),
        ("http://redac:pw@[::1/feed?token=abc", "http://[::1/feed"),  # unparseable
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected

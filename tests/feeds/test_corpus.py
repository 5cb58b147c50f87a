"""Every feed of the shared corpus either parses into clean articles or fails with one line."""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.errors import FeedError, NotAFeedError
from bot.feeds.fetch import Fetcher
from bot.feeds.identity import article_key, canonical_url
from bot.feeds.parse import ParsedFeed, parse_feed

pytestmark = pytest.mark.corpus

CORPUS = Path(
    os.environ.get("RELAIS_CORPUS") or Path(__file__).resolve().parents[3] / "shared" / "corpus"
)
FEEDS = CORPUS / "feeds"
TAG = re.compile(r"<[a-zA-Z/!][^<>]*>")
FILES = sorted(p.name for p in FEEDS.iterdir()) if FEEDS.is_dir() else []

# What each file gives today: (articles, skipped entries), or the error it raises.
# A change here is a change of behaviour: look at it before updating the table.
EXPECTED: dict[str, tuple[int, int] | type[FeedError]] = {
    "atom_blogger_4fsodonline.xml": (25, 0),
    "atom_feedburner_typepad_xhtml_content.xml": (10, 0),
    "atom_feedburner_xsl_stylesheet.xml": (25, 0),
    "atom_french_carnet_de_flus.xml": (10, 0),
    "atom_movabletype_russian_157KB_css_heavy.xml": (15, 0),
    "atom_with_xhtml_doctype_prolog.xml": (10, 0),
    "atom_wordpress_4.3_onefoottsunami.xml": (25, 0),
    "atom_wordpress_5.8.3_wiganwarriors_appeared_first_on.xml": (10, 0),
    "illformed_double_xmldecl_namespaced_rss.xml": NotAFeedError,
    "illformed_empty_document.xml": NotAFeedError,
    "illformed_rss_incomplete_cdata.xml": (0, 1),
    "illformed_unclosed_root.xml": NotAFeedError,
    "illformed_undeclared_namespace_prefix.xml": NotAFeedError,
    "illformed_whitespace_before_xml_declaration.xml": (0, 0),
    "illformed_windows-1255_no_declaration.xml": (0, 1),
    "jsonfeed_v1_inessential.json": (20, 0),
    "not_a_feed_html5_page.html": NotAFeedError,
    "not_a_feed_html_document_moved.xml": NotAFeedError,
    "rss0.91_iso-8859-1_tjrs_portuguese_comment_prolog.xml": (1, 0),
    "rss1.0_iso-8859-1_golem_german.xml": (1, 0),
    "rss1.0_rdf_content_encoded.xml": (69, 0),
    "rss1.0_rdf_craigslist.xml": (25, 0),
    "rss2_dailymail_no_xmldecl_zero_items.xml": (0, 0),
    "rss2_feedburner_duplicate_guids.xml": (1, 0),
    "rss2_feedburner_illegally_nested.xml": (10, 10),
    "rss2_french_lefigaro_culture_MOJIBAKE_double_utf8.xml": (49, 0),
    "rss2_french_lemonde_une_MOJIBAKE_double_utf8.xml": (18, 0),
    "rss2_french_leparisien_MOJIBAKE_double_utf8.xml": (30, 0),
    "rss2_gb2312_chinese_dvbbs.xml": (20, 0),
    "rss2_ghost_cms.xml": (1, 0),
    "rss2_guardian_media_content.xml": (55, 0),
    "rss2_hackernews_no_xmldecl.xml": (30, 0),
    "rss2_huffpost_canada_contenthub.xml": (2, 0),
    "rss2_huge_1.6MB_giantbomb_podcast.xml": (730, 0),
    "rss2_huge_697KB_gamersnexus.xml": (10, 0),
    "rss2_invalid_pubdate.xml": (2, 0),
    "rss2_iso-8859-1_jn.pt_portuguese_feedburner.xml": (40, 0),
    "rss2_iso-8859-1_media_content_dupes.xml": (1, 0),
    "rss2_italian_romatoday_html_named_entities.xml": (25, 0),
    "rss2_malformed_saxerror.xml": (3, 0),
    "rss2_podlove_wordpress_cre_614KB_german.xml": (30, 0),
    "rss2_pubdate_two_digit_years.xml": (1, 0),
    "rss2_relative_urls_xml_base.xml": (0, 2),
    "rss2_spip_french_empty_description.xml": (3, 0),
    "rss2_truncated_reuters_server_exception.xml": (0, 0),
    "rss2_utf8_bom_a10_atom_prefix.xml": (5, 0),
    "rss2_windows-1251_yandex_russian.xml": (10, 0),
    "rss2_wordpress.com_techcrunch_2011_feedburner.xml": (20, 0),
    "rss2_wordpress.com_vip_indianexpress_200_items.xml": (200, 0),
    "rss2_wordpress.org_2.7_tenderlovemaking.xml": (10, 0),
    "rss2_wordpress_2.8_norm2782_bracket_ellipsis.xml": (10, 0),
    "rss2_wordpress_4.7.5_dcrainmaker_392KB.xml": (8, 0),
    "rss2_wordpress_4.7_codehollow_appeared_first_on_bom.xml": (10, 0),
    "rss2_wordpress_5.7_FRENCH_framablog_lire_la_suite.xml": (10, 0),
    "rss2_wordpress_6.1.1_rsscom_100items_ellipsis_appeared_first_on.xml": (100, 0),
    "rss2_wordpress_6.6.2_foolcontrol.xml": (10, 0),
    "rss2_wordpress_african_afrikaans_koerant_bom.xml": (5, 0),
    "rss2_wordpress_commitstrip_bom_tab_before_root.xml": (3, 0),
    "rss_double_encoded_utf8_mojibake_entities.xml": (0, 1),
    "rss_gzipped_invalid_characters.xml.gz": (25, 0),
    "rss_invalid_byte_in_cdata_link.xml": (0, 1),
    "rss_no_xmldecl_latin1_bytes_uol.xml": (15, 0),
    "rss_undeclared_html_entity_eacute.xml": (0, 0),
    "rss_utf-16_declared.xml": (1, 0),
    "rss_utf-16le_bom.xml": (0, 0),
    "rss_utf8_declared_linenoise_cdata.xml": (0, 1),
}


async def read(name: str) -> ParsedFeed:
    """The way `relais preview ./file` does it: the fetcher's local path, then the parser."""
    async with Fetcher() as fetcher:
        result = await fetcher.fetch(str(FEEDS / name))
    return parse_feed(
        result.body, feed_id="corpus", content_type=result.content_type, base_url=result.final_url
    )


def one_line(text: str) -> bool:
    return bool(text.strip()) and "\n" not in text and "\r" not in text and len(text) < 300


@pytest.fixture(autouse=True)
def _needs_corpus() -> None:
    if not FEEDS.is_dir():
        pytest.skip(f"corpus not found at {FEEDS} (set RELAIS_CORPUS)")


def test_corpus_is_the_one_the_table_describes() -> None:
    assert set(FILES) == set(EXPECTED)
    assert len(FILES) == 66


@pytest.mark.parametrize("name", FILES)
async def test_corpus_feed(name: str) -> None:
    expected = EXPECTED[name]
    if not isinstance(expected, tuple):
        with pytest.raises(FeedError) as caught:
            await read(name)
        assert type(caught.value) is expected
        assert one_line(str(caught.value)), repr(str(caught.value))
        return
    feed = await read(name)  # anything but a ParsedFeed fails the test
    assert (len(feed.articles), len(feed.skipped)) == expected, feed.warning
    assert feed.warning is None or one_line(feed.warning)
    keys = set()
    for article in feed.articles:
        parts = urlsplit(article.url)
        assert parts.scheme in ("http", "https")
        assert parts.hostname
        assert article.title.strip()
        assert article.title == article.title.strip()
        assert not TAG.search(article.title), article.title
        assert article.published is None or article.published.utcoffset() == timedelta(0)
        assert article.canonical_url == canonical_url(article.url)
        assert article.key == article_key(article.canonical_url)
        assert article.image is None or urlsplit(article.image).scheme in ("http", "https")
        keys.add(article.key)
    assert len(keys) == len(feed.articles)
    for skipped in feed.skipped:
        assert one_line(skipped.reason)
        assert skipped.title.strip()


@pytest.mark.parametrize(
    ("name", "title", "first", "image"),
    [
        (
            "rss2_wordpress_5.7_FRENCH_framablog_lire_la_suite.xml",
            "Framablog",
            "Khrys’presso du lundi 15 mars 2021",
            "https://framablog.org/wp-content/uploads/2021/03/Boycott.jpg",
        ),
        (
            "rss2_wordpress.com_vip_indianexpress_200_items.xml",
            "World – The Indian Express",
            "China takes global lead in clean energy: Report",
            "http://images.indianexpress.com/2016/12/china4.jpg",
        ),
        (
            "rss2_wordpress_commitstrip_bom_tab_before_root.xml",
            "CommitStrip",
            "C’est l’histoire d’une conf-call Teams",
            None,
        ),
    ],
)
async def test_known_wordpress_feeds(name: str, title: str, first: str, image: str | None) -> None:
    feed = await read(name)
    assert feed.title == title
    assert feed.articles[0].title == first
    assert feed.articles[0].image == image
    assert all(a.published is not None for a in feed.articles)  # French dates included


async def test_gzipped_corpus_file_is_decompressed_like_a_download() -> None:
    feed = await read("rss_gzipped_invalid_characters.xml.gz")
    assert feed.title == "NSHipster"
    assert len(feed.articles) == 25


def test_sweep_summary() -> None:
    """What the corpus holds, by outcome (each file is checked by `test_corpus_feed`)."""
    outcomes = Counter(
        ("articles" if outcome[0] else "no articles")
        if isinstance(outcome, tuple)
        else outcome.__name__
        for outcome in EXPECTED.values()
    )
    assert outcomes == Counter({"articles": 49, "no articles": 11, "NotAFeedError": 6})


def test_relative_links_resolve_against_the_url_the_feed_came_from() -> None:
    body = (FEEDS / "rss2_relative_urls_xml_base.xml").read_bytes()
    feed = parse_feed(
        body, feed_id="corpus", base_url="https://www.arcgames.com/en/games/neverwinter/news/rss"
    )
    assert [a.url for a in feed.articles] == [
        "https://www.arcgames.com/en/games/neverwinter/news/detail/"
        "10743874-neverwinter-%26-jingle-jam-humble-bundle%21",
        "https://www.arcgames.com/en/games/neverwinter/news/detail/"
        "10738994-2x-underdark-currency-%26-15%25-off-bags%21",
    ]

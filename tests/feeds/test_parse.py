"""Feed bytes → ParsedFeed, on small feeds in the style of a francophone news site."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import FeedError, NotAFeedError
from bot.feeds.parse import UNTITLED, ParsedFeed, parse_feed
from bot.models import Article

DATA = Path(__file__).parent / "data"
SITE = "https://www.journaldudjoliba.example"
FEED_URL = f"{SITE}/feed/"


def rss(items: str, *, channel: str = "", declaration: str = "") -> bytes:
    """A small RSS 2.0 document around `items`."""
    head = declaration or '<?xml version="1.0" encoding="UTF-8"?>'
    return (
        f'{head}<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>Le Journal du Djoliba</title><link>{SITE}</link>{channel}{items}"
        "</channel></rss>"
    ).encode()


def item(body: str, *, link: str | None = f"{SITE}/2024/05/06/article/") -> str:
    link_xml = f"<link>{link}</link>" if link is not None else ""
    return f"<item>{link_xml}{body}</item>"


def parse(body: bytes, **kwargs: str | None) -> ParsedFeed:
    return parse_feed(body, feed_id="djoliba", **kwargs)  # type: ignore[arg-type]


def only(feed: ParsedFeed) -> Article:
    assert len(feed.articles) == 1, feed
    return feed.articles[0]


# --- A WordPress feed, end to end -----------------------------------------------------------


@pytest.fixture(scope="module")
def wordpress() -> ParsedFeed:
    body = (DATA / "djoliba_wordpress.xml").read_bytes()
    return parse_feed(
        body,
        feed_id="djoliba",
        content_type="application/rss+xml; charset=UTF-8",
        base_url=FEED_URL,
    )


def test_wordpress_feed_header(wordpress: ParsedFeed) -> None:
    assert wordpress.title == "Le Journal du Djoliba – L’actualité malienne au quotidien"
    assert wordpress.link == SITE
    assert wordpress.version == "rss20"
    assert wordpress.warning is None


def test_wordpress_feed_keeps_usable_entries_in_order(wordpress: ParsedFeed) -> None:
    assert [a.title for a in wordpress.articles] == [
        "Bamako : la Transition annonce un nouveau calendrier électoral",
        "Sikasso\u00a0: la campagne cotonnière s’annonce prometteuse",
        "Football : les Aigles qualifiés pour la CAN",
        "Kayes\u00a0: de fortes pluies ont provoqué l’effondrement de plusieurs habitations"
        " dans le…",
        "Coupures d’électricité\u00a0: EDM-SA & le gouvernement s’expliquent & rassurent",
        "Ségou : ouverture du festival sur le Niger",
    ]
    assert all(a.feed_id == "djoliba" for a in wordpress.articles)


def test_wordpress_full_article(wordpress: ParsedFeed) -> None:
    first = wordpress.articles[0]
    assert first.guid == f"{SITE}/?p=1201"
    assert first.url == (
        f"{SITE}/2024/05/06/bamako-la-transition-annonce-un-nouveau-calendrier-electoral/"
        "?utm_source=rss&utm_medium=rss&utm_campaign=bamako-calendrier"
    )
    assert first.canonical_url == (
        f"{SITE}/2024/05/06/bamako-la-transition-annonce-un-nouveau-calendrier-electoral"
    )
    assert len(first.key) == 16
    assert first.published == datetime(2024, 5, 6, 9, 5, 12, tzinfo=UTC)
    assert first.author == "Aminata Traoré"
    assert first.categories == ("Politique", "Bamako", "Transition")
    # media:content wins over the <img> of the content
    assert first.image == f"{SITE}/wp-content/uploads/2024/05/calendrier-electoral-une.jpg"
    assert first.content_html.startswith('<figure class="wp-block-image">')
    assert "Suivez-nous sur Facebook" in first.content_html
    assert "est apparu en premier sur" in first.summary_html


def test_wordpress_enclosure_image_and_time_zone(wordpress: ParsedFeed) -> None:
    sikasso = wordpress.articles[1]
    assert sikasso.image == "https://cdn.journaldudjoliba.example/2024/05/champ-de-coton.jpg"
    assert sikasso.published == datetime(2024, 5, 6, 7, 30, tzinfo=UTC)  # +0100
    assert sikasso.author == "La Rédaction"
    assert sikasso.categories == ("Économie",)


def test_wordpress_permalink_guid_stands_in_for_a_missing_link(wordpress: ParsedFeed) -> None:
    football = wordpress.articles[2]
    assert football.url == f"{SITE}/2024/05/05/football-les-aigles-qualifies/"
    assert football.guid == football.url


def test_wordpress_missing_title_comes_from_the_content(wordpress: ParsedFeed) -> None:
    kayes = wordpress.articles[3]
    assert kayes.title.startswith("Kayes\u00a0: de fortes pluies")
    assert kayes.title.endswith("…")
    assert kayes.image is None


def test_wordpress_hostile_title_is_plain_text(wordpress: ParsedFeed) -> None:
    hostile = wordpress.articles[4]
    assert "<" not in hostile.title
    assert "alert" not in hostile.title
    assert hostile.url == f"{SITE}/2024/05/05/coupures-electricite-edm/"  # whitespace stripped
    assert hostile.image is None  # the 1×1 tracking pixel is not a picture


def test_wordpress_relative_link_image_and_french_date(wordpress: ParsedFeed) -> None:
    segou = wordpress.articles[5]
    assert segou.url == f"{SITE}/2024/05/04/segou-festival-sur-le-niger/"
    # the emoji and the data: placeholder are passed over; the relative src is resolved
    assert segou.image == f"{SITE}/wp-content/uploads/2024/05/festival-segou.jpg"
    assert segou.published == datetime(2024, 5, 4, 10, 0, tzinfo=UTC)  # "sam., 04 mai 2024"


def test_wordpress_unusable_entries_are_skipped_with_a_reason(wordpress: ParsedFeed) -> None:
    assert [(s.title, s.reason) for s in wordpress.skipped] == [
        ("Cliquez ici pour gagner un smartphone", "link is not http(s): javascript:…"),
        ("Communiqué du ministère de la Santé", "no link"),
    ]


def test_wordpress_duplicates_keep_the_first(wordpress: ParsedFeed) -> None:
    # same guid as the first article; same canonical link as the second
    assert wordpress.duplicates == 2
    assert len({a.guid for a in wordpress.articles}) == len(wordpress.articles)
    assert len({a.key for a in wordpress.articles}) == len(wordpress.articles)
    assert not any("mise à jour" in a.title for a in wordpress.articles)


def test_relative_link_without_base_is_skipped() -> None:
    feed = parse((DATA / "djoliba_wordpress.xml").read_bytes(), base_url=None)
    reasons = {s.title: s.reason for s in feed.skipped}
    assert reasons["Ségou : ouverture du festival sur le Niger"] == (
        "relative link and no base URL to resolve it"
    )


# --- Atom and JSON Feed ----------------------------------------------------------------------

ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr" xml:base="{SITE}/feed/atom/">
  <title type="html">Djoliba &lt;em&gt;Info&lt;/em&gt;</title>
  <link rel="alternate" href="{SITE}/"/>
  <link rel="self" href="{SITE}/feed/atom/"/>
  <id>tag:journaldudjoliba.example,2024:feed</id>
  <updated>2024-05-06T10:00:00+02:00</updated>
  <entry>
    <title type="html">Mopti&amp;nbsp;: le &lt;b&gt;port&lt;/b&gt; rouvre</title>
    <link rel="alternate" type="text/html" href="{SITE}/2024/05/06/mopti-port/"/>
    <link rel="enclosure" type="image/jpeg" href="{SITE}/img/mopti.jpg"/>
    <id>tag:journaldudjoliba.example,2024:1210</id>
    <updated>2024-05-06T10:00:00+02:00</updated>
    <author><name>Oumar Diallo</name></author>
    <category term="Régions"/>
    <summary type="text">Le port de Mopti &lt; rouvre &gt; enfin</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Après trois mois.</p>
    </div></content>
  </entry>
  <entry>
    <title>Sans lien</title>
    <link rel="alternate" type="text/html" href=""/>
    <id>tag:journaldudjoliba.example,2024:1211</id>
    <updated>2024-05-06T08:00:00Z</updated>
  </entry>
</feed>
""".encode()


def test_atom_feed() -> None:
    feed = parse(ATOM, base_url=f"{SITE}/feed/atom/")
    assert feed.version == "atom10"
    assert feed.title == "Djoliba Info"
    article = only(feed)
    assert article.title == "Mopti\u00a0: le port rouvre"
    assert article.guid == "tag:journaldudjoliba.example,2024:1210"
    assert article.published == datetime(2024, 5, 6, 8, 0, tzinfo=UTC)  # from <updated>
    assert article.author == "Oumar Diallo"
    assert article.categories == ("Régions",)
    assert article.image == f"{SITE}/img/mopti.jpg"
    assert "<p>Après trois mois.</p>" in article.content_html
    assert article.summary_html == "Le port de Mopti &lt; rouvre &gt; enfin"  # text → HTML


def test_entry_whose_empty_href_resolves_to_the_feed_is_skipped() -> None:
    feed = parse(ATOM, base_url=f"{SITE}/feed/atom/")
    assert [(s.title, s.reason) for s in feed.skipped] == [
        ("Sans lien", "link points to the feed itself or to the home page, not to an article")
    ]


JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Le Journal du Djoliba",
        "home_page_url": f"{SITE}/",
        "feed_url": f"{SITE}/feed.json",
        "authors": [{"name": "La Rédaction"}],
        "items": [
            {
                "id": "1301",
                "url": f"{SITE}/2024/05/07/tombouctou/",
                "title": "Tombouctou : les manuscrits <restaurés>",
                "content_html": '<p>Les manuscrits <img data-src="/img/manuscrits.jpg"'
                ' src="data:,"> sont sauvés.</p>',
                "date_published": "2024-05-07T09:30:00+00:00",
                "tags": ["Culture", "culture", "Patrimoine"],
            },
            {"id": "1302", "url": "javascript:void(0)", "title": "Piège"},
            {
                "id": f"{SITE}/2024/05/07/gao/",
                "content_text": "Gao. Un marché rouvre.\n\nSuite.",
                "date_modified": "2024-05-07T08:00:00Z",
                "image": f"{SITE}/img/gao.jpg",
                "authors": [{"name": "Fatoumata Keita"}],
            },
            {"id": "1301", "url": f"{SITE}/autre", "title": "Doublon"},
            "not an item",
        ],
    },
    indent=2,
).encode()


def test_json_feed_is_supported() -> None:
    feed = parse(JSON_FEED, base_url=f"{SITE}/feed.json")
    assert feed.version == "json"
    assert feed.title == "Le Journal du Djoliba"
    assert feed.link == f"{SITE}/"
    first, second = feed.articles
    assert first.guid == "1301"
    assert first.title == "Tombouctou : les manuscrits <restaurés>"
    assert first.published == datetime(2024, 5, 7, 9, 30, tzinfo=UTC)
    assert first.categories == ("Culture", "Patrimoine")
    assert first.author == "La Rédaction"  # the feed's author
    assert first.image == f"{SITE}/img/manuscrits.jpg"  # lazy-loading source, resolved
    assert second.url == f"{SITE}/2024/05/07/gao/"  # the id is a permalink
    assert second.title == "Gao. Un marché rouvre. Suite."
    assert second.content_html == "<p>Gao. Un marché rouvre.</p><p>Suite.</p>"
    assert second.published == datetime(2024, 5, 7, 8, 0, tzinfo=UTC)
    assert second.author == "Fatoumata Keita"
    assert second.image == f"{SITE}/img/gao.jpg"
    assert [(s.title, s.reason) for s in feed.skipped] == [
        ("Piège", "link is not http(s): javascript:…")
    ]
    assert feed.duplicates == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"items": []}', "this is JSON but not a JSON Feed, nor an RSS or Atom feed"),
        (b"[1, 2, 3]", "this is JSON but not a JSON Feed, nor an RSS or Atom feed"),
        (
            b'{"version": "https://jsonfeed.org/version/1", "items": 3}',
            "this JSON Feed has no `items` list",
        ),
        (b'{"version": ', "this is not a feed: it starts like JSON but is not valid JSON (line 1)"),
        (b'{"title": "\xff\xfe"}', "this is not a feed: it starts like JSON but is not UTF-8"),
    ],
)
def test_other_json_is_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(NotAFeedError) as caught:
        parse(body)
    assert str(caught.value) == message


# --- Bodies that are not feeds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the document is empty: there is no feed in it"),
        (b" \r\n\t ", "the document is empty: there is no feed in it"),
        (b"\xef\xbb\xbf\n", "the document is empty: there is no feed in it"),
        (
            b"<!DOCTYPE html><html lang='fr'><head><title>Le Journal du Djoliba &#8211; Accueil"
            b"</title></head><body><p>Bienvenue</p></body></html>",
            "this is an HTML page, not an RSS or Atom feed (page title: “Le Journal du Djoliba – "
            "Accueil”)",
        ),
        (
            b"<html><head><title>Just a moment...</title></head><body>Checking your browser"
            b"</body></html>",
            "this is an HTML page, not an RSS or Atom feed (page title: “Just a moment...”)",
        ),
        (b"<html><body>Erreur</body></html>", "this is an HTML page, not an RSS or Atom feed"),
        (
            b"Service Unavailable - Zero size object",
            "this is not XML, not an RSS or Atom feed: it starts with “Service Unavailable - Zero "
            "size object”",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
            "this is not XML, not an RSS or Atom feed: it starts with binary data",
        ),
        (
            b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            b"<url><loc>https://www.journaldudjoliba.example/</loc></url></urlset>",
            "this XML document is not an RSS or Atom feed (its root element is <urlset>)",
        ),
        (b"<!-- rien -->", "the document holds no XML element: there is no feed in it"),
        (
            b'<?xml version="1.0"?><rss version="2.0"><chan',
            "not a readable feed: malformed XML (line 1: unclosed token) and no entry or title "
            "could be recovered",
        ),
        # A path or a URL is just bytes: feedparser must never open or fetch it.
        (
            b"https://127.0.0.1:9/feed",
            "this is not XML, not an RSS or Atom feed: it starts with “https://127.0.0.1:9/feed”",
        ),
        (b"/etc/passwd", "this is not XML, not an RSS or Atom feed: it starts with “/etc/passwd”"),
    ],
)
def test_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(NotAFeedError) as caught:
        parse(body, content_type="text/html; charset=utf-8")
    assert str(caught.value) == message
    assert isinstance(caught.value, FeedError)


def test_valid_feed_with_zero_items_is_not_an_error() -> None:
    feed = parse(rss(""))
    assert feed == ParsedFeed(
        title="Le Journal du Djoliba", link=SITE, articles=(), skipped=(), version="rss20"
    )


# --- Malformed and truncated XML ---------------------------------------------------------------


def two_items() -> bytes:
    return rss(
        item("<title>Premier</title><guid>1</guid>", link=f"{SITE}/premier/")
        + item("<title>Second</title><guid>2</guid>", link=f"{SITE}/second/")
    )


def test_truncated_inside_an_entry_drops_the_incomplete_entry() -> None:
    body = two_items()
    cut = body[: body.index(b"/second/")]  # the download stopped in the middle of a link
    feed = parse(cut)
    assert [a.title for a in feed.articles] == ["Premier"]
    assert [s.reason for s in feed.skipped] == [
        "the feed is truncated and this last entry may be incomplete"
    ]
    assert feed.warning is not None
    assert feed.warning.startswith("malformed XML at line 1")
    assert "\n" not in feed.warning


def test_truncated_after_the_last_entry_keeps_every_entry() -> None:
    body = two_items()
    feed = parse(body[: body.index(b"</channel>")])
    assert [a.title for a in feed.articles] == ["Premier", "Second"]
    assert feed.skipped == ()
    assert feed.warning is not None


def test_truncated_before_any_entry_but_with_a_title_is_an_empty_feed() -> None:
    body = rss(item("<title>Premier</title>"))
    feed = parse(body[: body.index(b"<item>")])
    assert feed.articles == ()
    assert feed.title == "Le Journal du Djoliba"
    assert feed.warning is not None


def test_malformed_entry_in_the_middle_is_recovered_with_a_warning() -> None:
    body = rss(
        item("<title>Avant</title>", link=f"{SITE}/avant/")
        + item("<title>Au milieu</title>", link=f"{SITE}/milieu?a=1&b=2")  # raw &
        + item("<title>Après</title>", link=f"{SITE}/apres/")
    )
    feed = parse(body)
    assert [a.title for a in feed.articles] == ["Avant", "Au milieu", "Après"]
    assert feed.warning is not None
    assert "malformed XML" in feed.warning
    assert "3 entries recovered by the lenient parser" in feed.warning


def test_undeclared_html_entity_in_a_french_title() -> None:
    body = rss(item("<title>R&eacute;sultats du bac &agrave; Bamako</title>"))
    feed = parse(body)
    assert only(feed).title == "Résultats du bac à Bamako"


# --- Encodings --------------------------------------------------------------------------------


def test_latin1_feed_declared_in_the_xml() -> None:
    body = (
        rss(
            item("<title>Économie : la filière coton à Koutiala</title>"),
            declaration='<?xml version="1.0" encoding="ISO-8859-1"?>',
        )
        .decode()
        .encode("latin-1")
    )
    feed = parse(body, content_type="text/xml")
    assert only(feed).title == "Économie : la filière coton à Koutiala"
    assert feed.warning is None  # text/xml without a charset does not mean us-ascii


def test_charset_from_the_http_header() -> None:
    body = rss(item("<title>Élections à Kidal</title>"), declaration="").decode().encode("cp1252")
    feed = parse(body, content_type="application/rss+xml; charset=windows-1252")
    assert only(feed).title == "Élections à Kidal"


def test_utf8_feed_served_as_text_html_is_still_read() -> None:
    feed = parse(rss(item("<title>Ségou</title>")), content_type="text/html")
    assert only(feed).title == "Ségou"
    assert feed.warning is None


# --- Field by field ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_xml", "expected"),
    [
        ("<pubDate>Mon, 06 May 2024 09:05:12 +0000</pubDate>", datetime(2024, 5, 6, 9, 5, 12)),
        ("<pubDate>Mon, 06 May 2024 09:05:12 GMT</pubDate>", datetime(2024, 5, 6, 9, 5, 12)),
        ("<pubDate>Mon, 06 May 2024 11:05:12 +0200</pubDate>", datetime(2024, 5, 6, 9, 5, 12)),
        ("<pubDate>Mon, 06 May 2024 04:05:12 -0500</pubDate>", datetime(2024, 5, 6, 9, 5, 12)),
        ("<pubDate>Mon, 06 May 2024 05:05:12 EDT</pubDate>", datetime(2024, 5, 6, 9, 5, 12)),
        ("<pubDate>Mon, 06 May 24 09:05:12 +0000</pubDate>", datetime(2024, 5, 6, 9, 5, 12)),
        ("<pubDate>  Mon, 06 May 2024 09:05:12 +0000 </pubDate>", datetime(2024, 5, 6, 9, 5, 12)),
        ("<dc:date>2024-05-06T11:05:12+02:00</dc:date>", datetime(2024, 5, 6, 9, 5, 12)),
        ("<dc:date>2024-05-06T09:05:12Z</dc:date>", datetime(2024, 5, 6, 9, 5, 12)),
        ("<pubDate>lun., 06 mai 2024 09:05:12 +0000</pubDate>", datetime(2024, 5, 6, 9, 5, 12)),
        ("<pubDate>6 mai 2024 à 11h05 +0200</pubDate>", datetime(2024, 5, 6, 9, 5)),
        ("<pubDate>hier soir</pubDate>", None),
        ("<pubDate></pubDate>", None),
        ("", None),
    ],
)
def test_dates_become_aware_utc_or_none(date_xml: str, expected: datetime | None) -> None:
    article = only(parse(rss(item(f"<title>Date</title>{date_xml}"))))
    if expected is None:
        assert article.published is None
    else:
        assert article.published == expected.replace(tzinfo=UTC)
        assert article.published is not None
        assert article.published.tzinfo is UTC


def test_missing_title_and_content_gives_sans_titre() -> None:
    assert only(parse(rss(item("<title>   </title>")))).title == UNTITLED


def test_very_long_title_is_cut_at_a_word() -> None:
    title = "Bamako " * 100
    article = only(parse(rss(item(f"<title>{title}</title>"))))
    assert len(article.title) <= 300
    assert article.title.endswith("Bamako…")


def test_author_name_from_an_email_form() -> None:
    article = only(
        parse(rss(item("<title>T</title><author>redaction@example.ml (La Rédaction)</author>")))
    )
    assert article.author == "La Rédaction"


@pytest.mark.parametrize(
    ("guid_xml", "expected"),
    [
        ("<guid isPermaLink='false'>  abc-123  </guid>", "abc-123"),
        ("<guid isPermaLink='false'>   </guid>", None),
        ("<guid isPermaLink='false'>" + "x" * 1001 + "</guid>", None),
        ("", None),
    ],
)
def test_guid_only_when_usable(guid_xml: str, expected: str | None) -> None:
    assert only(parse(rss(item(f"<title>T</title>{guid_xml}")))).guid == expected


@pytest.mark.parametrize(
    ("media_xml", "expected"),
    [
        # media:content with medium=image, then type image/*, then an image extension
        (
            f'<media:content url="{SITE}/v.mp4" medium="video"/>'
            f'<media:content url="{SITE}/a.jpg" medium="image"/>',
            f"{SITE}/a.jpg",
        ),
        (f'<media:content url="{SITE}/b" type="image/webp"/>', f"{SITE}/b"),
        (f'<media:content url="{SITE}/c.PNG"/>', f"{SITE}/c.PNG"),
        (f'<media:content url="{SITE}/d.mp3" type="audio/mpeg"/>', None),
        # an author's avatar is not the article's picture
        (
            '<media:content url="https://0.gravatar.com/avatar/abc?s=96" medium="image"/>'
            f'<media:thumbnail url="{SITE}/thumb.jpg"/>',
            f"{SITE}/thumb.jpg",
        ),
        # thumbnail before enclosure, enclosure before the content's <img>
        (
            f'<enclosure url="{SITE}/enc.jpg" type="image/jpeg" length="1"/>'
            f'<media:thumbnail url="{SITE}/thumb.jpg"/>',
            f"{SITE}/thumb.jpg",
        ),
        (
            f'<enclosure url="{SITE}/podcast.mp3" type="audio/mpeg" length="1"/>'
            f'<content:encoded><![CDATA[<p><img src="/img/une.jpg"/></p>]]></content:encoded>',
            f"{SITE}/img/une.jpg",
        ),
        # the first image that is not junk, however far into the content
        (
            "<content:encoded><![CDATA["
            '<img src="https://s.w.org/images/core/emoji/14.0.0/72x72/1f4f0.png">'
            f'{"<p>texte</p>" * 500}<img src="/img/deux.jpg"><img src="/img/trois.jpg">'
            "]]></content:encoded>",
            f"{SITE}/img/deux.jpg",
        ),
        # markup html.parser rejects: the images before it count, those after it are not read
        (
            '<content:encoded><![CDATA[<img src="/img/une.jpg"><![foo bar]>'
            '<img src="/img/deux.jpg">]]></content:encoded>',
            f"{SITE}/img/une.jpg",
        ),
        (
            '<content:encoded><![CDATA[<p>a</p><![foo bar]><img src="/img/deux.jpg">'
            "]]></content:encoded>",
            None,
        ),
        # only http(s): a javascript: or data: image is never used
        ('<media:thumbnail url="javascript:alert(1)"/>', None),
        (
            '<description><![CDATA[<img src="data:image/png;base64,AAAA">]]></description>',
            None,
        ),
    ],
)
def test_image_choice(media_xml: str, expected: str | None) -> None:
    article = only(parse(rss(item(f"<title>Image</title>{media_xml}", link=f"{SITE}/a/"))))
    assert article.image == expected


def test_categories_are_cleaned_and_deduplicated() -> None:
    tags = "".join(
        f"<category>{term}</category>"
        for term in ["Politique", " politique ", "", "Sécurité &amp; Défense", "POLITIQUE"]
    )
    article = only(parse(rss(item(f"<title>T</title>{tags}"))))
    assert article.categories == ("Politique", "Sécurité & Défense")


def test_entry_linking_to_the_home_page_falls_back_to_its_permalink_guid() -> None:
    body = rss(item(f"<title>T</title><guid>{SITE}/2024/05/06/vrai-article/</guid>", link=SITE))
    article = only(parse(body, base_url=FEED_URL))
    assert article.url == f"{SITE}/2024/05/06/vrai-article/"


def test_unsafe_link_is_never_replaced_by_a_guess() -> None:
    body = rss(item(f"<title>T</title><guid>{SITE}/ok/</guid>", link="javascript:alert(1)"))
    feed = parse(body)
    assert feed.articles == ()
    assert feed.skipped[0].reason == "link is not http(s): javascript:…"


def test_non_url_guid_is_not_used_as_a_link() -> None:
    feed = parse(
        rss(item("<title>T</title><guid>article-1201</guid>", link=None)), base_url=FEED_URL
    )
    assert feed.articles == ()
    assert feed.skipped[0].reason == "no link"


# --- Hostile and broken input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_title", "expected"),
    [
        ("<![CDATA[<![foo[bar]]>]]>Mali", "Mali"),
        ("&lt;![x Bamako", "<![x Bamako"),
        ("&lt;![foo[bar]]&gt;Gao", "Gao"),
        ("&lt;img src=x onerror=alert(1)&gt;Kidal", "Kidal"),
        ("Tom &amp;amp; Jerry &lt;3", "Tom & Jerry <3"),
        ("AT&amp;T rachète R&amp;D", "AT&T rachète R&D"),
        ("&lt;/b&gt;&lt;/i&gt;Ménaka", "Ménaka"),
        ("Z\u00adone\u200b de\ufeff crise", "Zone de crise"),
    ],
)
def test_hostile_titles_become_plain_text(raw_title: str, expected: str) -> None:
    assert only(parse(rss(item(f"<title>{raw_title}</title>")))).title == expected


def test_mangled_feeds_only_ever_raise_feed_errors() -> None:
    """Truncations and random damage: a ParsedFeed or a FeedError, never anything else."""
    base = (DATA / "djoliba_wordpress.xml").read_bytes()
    rng = random.Random(20240506)
    bodies = [base[:cut] for cut in range(0, len(base), 211)]
    for _ in range(120):
        body = bytearray(base)
        for _ in range(rng.randint(1, 25)):
            position = rng.randrange(len(body))
            roll = rng.random()
            if roll < 0.4:
                body[position] = rng.randrange(256)
            elif roll < 0.7:
                body.insert(position, rng.choice(b"<>&[]!\"'/;#x\x00\xff"))
            else:
                del body[position : position + rng.randint(1, 40)]
        bodies.append(bytes(body))
    parsed: list[ParsedFeed] = []
    errors: list[str] = []
    for body in bodies:
        try:
            parsed.append(
                parse(body, base_url=FEED_URL, content_type=rng.choice([None, "text/html"]))
            )
        except FeedError as err:
            errors.append(str(err))
    assert len(parsed) > 50
    assert errors
    assert all("\n" not in message for message in errors)
    assert all(a.url.startswith("https://") for feed in parsed for a in feed.articles)


@pytest.mark.parametrize(
    ("link_tag", "announced"),
    [
        (
            '<link rel="alternate" type="application/rss+xml" title="Le Journal du Djoliba &raquo;'
            f' Flux" href="{SITE}/feed/" />',
            f"{SITE}/feed/",
        ),
        (
            "<link rel='alternate' type='application/atom+xml' href='/feed/atom/'>",
            f"{SITE}/feed/atom/",
        ),
        ('<link rel="stylesheet" type="text/css" href="/style.css">', None),
        ('<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">', None),
    ],
)
def test_html_page_that_announces_its_feed(link_tag: str, announced: str | None) -> None:
    page = f"<!DOCTYPE html><html><head>{link_tag}<title>Accueil</title></head></html>".encode()
    with pytest.raises(NotAFeedError) as caught:
        parse(page, base_url=f"{SITE}/")
    expected = "this is an HTML page, not an RSS or Atom feed (page title: “Accueil”)"
    if announced:
        expected += f"; the page announces a feed at {announced}"
    assert str(caught.value) == expected


def test_unsanitised_content_still_loses_its_scripts_and_resolves_its_images() -> None:
    """feedparser runs without its sanitizer and URI resolution (issue 12): the cleaner drops a
    <script>, and a relative image is resolved against the article's address."""
    from bot.content.render import render
    from bot.preview import default_preview_settings

    content = (
        '<script>document.location="https://pub.example/"</script>'
        '<p><img src="/wp-content/uploads/2024/05/marche-rose.jpg" onerror="alert(1)"/>'
        "Les commerçantes du Marché Rose de Bamako ont repris leurs activités ce lundi, une "
        "semaine après l'incendie qui avait détruit une partie des étals.</p>"
    )
    article = only(
        parse(
            rss(
                item(
                    f"<title>Marché Rose</title><content:encoded><![CDATA[{content}]]>"
                    "</content:encoded>"
                )
            )
        )
    )
    assert article.image == f"{SITE}/wp-content/uploads/2024/05/marche-rose.jpg"
    settings = default_preview_settings()
    for channel in settings.channels:
        rendered = render(article, channel, settings.site)
        assert rendered.teaser.startswith("Les commerçantes du Marché Rose")
        post = str(rendered.post)
        assert "script" not in post and "document.location" not in post and "alert" not in post

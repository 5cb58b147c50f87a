"""Feed bytes → ParsedFeed: articles with their identity, unusable entries, recovery notes."""

from __future__ import annotations

import html
import io
import json
import re
import time
import xml.sax
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import feedparser

from bot.errors import FeedError, NotAFeedError
from bot.feeds.dates import parse_localised_date
from bot.feeds.htmltext import first_image, first_words, inline_text, is_junk_image
from bot.feeds.identity import article_key, canonical_url, link_problem, safe_link
from bot.models import Article, SkippedEntry

__all__ = ["UNTITLED", "ParsedFeed", "parse_feed"]

UNTITLED = "(sans titre)"
MAX_TITLE = 300
MAX_AUTHOR = 120
MAX_GUID = 1000
JSON_FEED_VERSION = "json"
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
_LEADING_JUNK = b" \t\r\n\x00\xef\xbb\xbf\xfe\xff"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EOF_ERRORS = ("no element found", "unclosed token", "unclosed cdata")
_ITEM_OPEN = re.compile(rb"<(?:item|entry)[\s>/]")
_ITEM_CLOSE = re.compile(rb"</(?:item|entry)\s*>")
_HTML_MARKERS = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_ROOT_ELEMENT = re.compile(r"<([A-Za-z_][\w.:-]*)")
_LINK_TAG = re.compile(r"<link\s[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(["'])(.*?)\2""", re.DOTALL)
_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/json"}
)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What one feed document holds, ready for deduplication and recording."""

    title: str
    link: str | None
    articles: tuple[Article, ...]
    skipped: tuple[SkippedEntry, ...] = ()
    warning: str | None = None
    """One line when the document was malformed and had to be recovered, else None."""
    version: str = ""
    """The format: feedparser's name (`rss20`, `atom10`, `rss10`...) or `json` for JSON Feed."""
    duplicates: int = 0
    """Entries left out because an earlier entry had the same guid or canonical link."""


@dataclass(frozen=True, slots=True)
class _Entry:
    """One entry as a format gives it, before identity is worked out and text is cleaned."""

    guid: str | None
    link: str | None
    fallback_links: tuple[str, ...]
    title: str
    published: datetime | None
    author: str | None
    categories: tuple[str, ...]
    images: tuple[str, ...]
    content_html: str
    summary_html: str


def parse_feed(
    body: bytes,
    *,
    feed_id: str,
    content_type: str | None = None,
    base_url: str | None = None,
) -> ParsedFeed:
    """Read RSS, Atom or JSON Feed bytes. Raise NotAFeedError when the body is not a feed.

    `content_type` is the HTTP header (only its charset matters); `base_url` is the URL the
    body came from, against which relative links are resolved. CPU-bound: run it in a thread.
    """
    start = body.lstrip(_LEADING_JUNK)
    if not start:
        raise NotAFeedError("the document is empty: there is no feed in it")
    if start[:1] in (b"{", b"["):
        return _parse_json_feed(body, feed_id=feed_id, base_url=base_url)
    return _parse_xml_feed(body, feed_id=feed_id, content_type=content_type, base_url=base_url)


# --- RSS and Atom, through feedparser ------------------------------------------------------


def _xml_content_type(content_type: str | None) -> str:
    """Only the charset of the server's Content-Type is worth passing on to feedparser.

    Servers send feeds as text/xml, text/html or application/octet-stream; feedparser would
    then assume us-ascii or flag a non-XML type. As `application/xml` the XML declaration
    decides (RFC 7303), unless the server named a charset.
    """
    if content_type:
        message = Message()
        message["content-type"] = content_type
        charset = message.get_param("charset")
        if isinstance(charset, str) and re.fullmatch(r"[A-Za-z0-9._:-]{1,40}", charset):
            return f"application/xml; charset={charset}"
    return "application/xml"


def _parse_xml_feed(
    body: bytes, *, feed_id: str, content_type: str | None, base_url: str | None
) -> ParsedFeed:
    try:
        result: Mapping[str, Any] = feedparser.parse(
            io.BytesIO(body),
            response_headers={"content-type": _xml_content_type(content_type)},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as err:  # a library bug must not take the poller down with it
        detail = _one_line(f"{type(err).__name__}: {err}", 120)
        raise FeedError(f"the feed could not be read: the XML parser failed ({detail})") from err

    raw_entries = _maps(result.get("entries"))
    feed = _map(result.get("feed"))
    version = _str(result.get("version")) or ""
    title = _clip(inline_text(_str(feed.get("title")) or ""), MAX_TITLE)
    problem = result.get("bozo_exception") if result.get("bozo") else None
    if not raw_entries and (not version or (problem is not None and not title)):
        raise _not_a_feed(body, problem, base_url)

    entries = [_from_feedparser(entry) for entry in raw_entries]
    truncated_entry: _Entry | None = None
    if problem is not None and entries and _cut_inside_entry(body, problem):
        truncated_entry = entries.pop()
    parsed = _build(
        entries, feed_id=feed_id, base_url=base_url, feed_urls=_feed_urls(feed, base_url)
    )
    skipped = parsed.skipped
    if truncated_entry is not None:
        reason = "the feed is truncated and this last entry may be incomplete"
        skipped += (SkippedEntry(feed_id, _entry_title(truncated_entry), reason),)
    return ParsedFeed(
        title=title,
        link=safe_link(_str(feed.get("link")), base_url),
        articles=parsed.articles,
        skipped=skipped,
        warning=_warning(problem, len(raw_entries)) if problem is not None else None,
        version=version,
        duplicates=parsed.duplicates,
    )


def _feed_urls(feed: Mapping[str, Any], base_url: str | None) -> list[str | None]:
    urls: list[str | None] = [base_url, _str(feed.get("link"))]
    urls += [
        _str(link.get("href")) for link in _maps(feed.get("links")) if link.get("rel") == "self"
    ]
    for key in ("title_detail", "subtitle_detail"):
        urls.append(_str(_map(feed.get(key)).get("base")))
    return urls


def _cut_inside_entry(body: bytes, problem: object) -> bool:
    """True when the document ends inside an entry (a truncated download or render)."""
    if not isinstance(problem, xml.sax.SAXParseException):
        return False
    if not any(marker in problem.getMessage().lower() for marker in _EOF_ERRORS):
        return False
    opened = [m.start() for m in _ITEM_OPEN.finditer(body)]
    closed = [m.start() for m in _ITEM_CLOSE.finditer(body)]
    return bool(opened) and (not closed or opened[-1] > closed[-1])


def _warning(problem: object, recovered: int) -> str:
    if isinstance(problem, xml.sax.SAXParseException):
        where = f"line {problem.getLineNumber()}"
        note = f"malformed XML at {where} ({problem.getMessage()})"
        count = "1 entry" if recovered == 1 else f"{recovered} entries"
        return _one_line(f"{note}; {count} recovered by the lenient parser")
    if isinstance(problem, feedparser.CharacterEncodingOverride):
        return _one_line(f"character encoding: {problem}")
    if isinstance(problem, feedparser.CharacterEncodingUnknown):
        return _one_line(f"character encoding unknown: {problem}")
    return _one_line(f"{type(problem).__name__}: {problem}")


def _not_a_feed(body: bytes, problem: object, base_url: str | None) -> NotAFeedError:
    head = body[:65536].decode("utf-8", "replace").lstrip("\ufeff \t\r\n\x00")
    lowered = head[:4096].lower()
    if _HTML_MARKERS.search(lowered):
        message = "this is an HTML page, not an RSS or Atom feed"
        match = _HTML_TITLE.search(head)
        page_title = _clip(inline_text(match.group(1)), 80) if match else ""
        if page_title:
            message += f" (page title: “{page_title}”)"
        announced = _announced_feed(head, base_url)
        if announced:
            message += f"; the page announces a feed at {announced}"
        return NotAFeedError(message)
    if not head.startswith("<"):
        return NotAFeedError(
            f"this is not XML, not an RSS or Atom feed: it starts with {_preview(head)}"
        )
    root = _root_element(head)
    if root is None:
        return NotAFeedError("the document holds no XML element: there is no feed in it")
    if isinstance(problem, xml.sax.SAXParseException):
        return NotAFeedError(
            _one_line(
                f"not a readable feed: malformed XML (line {problem.getLineNumber()}: "
                f"{problem.getMessage()}) and no entry or title could be recovered"
            )
        )
    where = f" (its root element is <{root}>)" if root else ""
    return NotAFeedError(f"this XML document is not an RSS or Atom feed{where}")


def _announced_feed(page: str, base_url: str | None) -> str | None:
    """The feed a page links to (`<link rel="alternate" type="application/rss+xml">`)."""
    for tag in _LINK_TAG.findall(page):
        attributes = {name.lower(): value for name, _, value in _ATTRIBUTE.findall(tag)}
        rel = attributes.get("rel", "").lower().split()
        kind = attributes.get("type", "").lower()
        if "alternate" in rel and kind in _FEED_TYPES:
            url = safe_link(html.unescape(attributes.get("href", "")), base_url)
            if url:
                return _clip(url, 200)
    return None


def _root_element(head: str) -> str | None:
    text = re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "", head, flags=re.DOTALL)
    match = _ROOT_ELEMENT.search(text)
    return match.group(1)[:40] if match else None


def _preview(text: str) -> str:
    sample = text[:40]
    printable = sum(char.isprintable() or char.isspace() for char in sample)
    if printable < len(sample) * 0.9:
        return "binary data"
    shown = _one_line(_CONTROL.sub("", sample))
    return f"“{shown}…”" if len(text) > 40 else f"“{shown}”"


def _from_feedparser(entry: Mapping[str, Any]) -> _Entry:
    raw_id = _str(entry.get("id"))
    guid = _guid(raw_id)
    links = _maps(entry.get("links"))
    hrefs = [href for link in links if (href := _str(link.get("href")))]
    link = _str(entry.get("link"))
    if link is not None and link == raw_id and link not in hrefs:
        link = None  # feedparser copied a permalink guid into `link`: handled as a fallback
    fallbacks: list[str] = []
    # A guid that is an absolute URL stands in for a missing link when it is a permalink, and
    # for a link that only points back at the feed or the home page in any case.
    if guid and safe_link(guid, None) and (entry.get("guidislink") or link is not None):
        fallbacks.append(guid)
    fallbacks += [
        href
        for item in links
        if _str(item.get("rel")) in (None, "alternate") and (href := _str(item.get("href")))
    ]
    return _Entry(
        guid=guid,
        link=link,
        fallback_links=tuple(fallbacks),
        title=_str(entry.get("title")) or "",
        published=_entry_date(entry),
        author=_author(entry),
        categories=tuple(
            term for tag in _maps(entry.get("tags")) if (term := _str(tag.get("term")))
        ),
        images=tuple(_media_images(entry)),
        content_html=_content(entry),
        summary_html=_as_html(_str(entry.get("summary")), _map(entry.get("summary_detail"))),
    )


def _author(entry: Mapping[str, Any]) -> str | None:
    name = _str(_map(entry.get("author_detail")).get("name"))
    return name or _str(entry.get("author"))


def _content(entry: Mapping[str, Any]) -> str:
    for content in _maps(entry.get("content")):
        value = _str(content.get("value"))
        if value and value.strip():
            return _as_html(value, content)
    return ""


def _as_html(value: str | None, detail: Mapping[str, Any]) -> str:
    if not value:
        return ""
    if _str(detail.get("type")) == "text/plain":
        return html.escape(value, quote=False)
    return value


def _media_images(entry: Mapping[str, Any]) -> Iterable[str]:
    for media in _maps(entry.get("media_content")):
        url = _str(media.get("url"))
        medium = (_str(media.get("medium")) or "").lower()
        kind = (_str(media.get("type")) or "").lower()
        if medium:
            is_image = medium == "image"
        else:
            is_image = kind.startswith("image/") if kind else _image_path(url or "")
        if url and is_image:
            yield url
    for thumbnail in _maps(entry.get("media_thumbnail")):
        if url := _str(thumbnail.get("url")):
            yield url
    for enclosure in _maps(entry.get("enclosures")):
        href = _str(enclosure.get("href"))
        kind = (_str(enclosure.get("type")) or "").lower()
        if href and (kind.startswith("image/") or (not kind and _image_path(href))):
            yield href


def _image_path(url: str) -> bool:
    try:
        path = urlsplit(url).path.lower()
    except ValueError:
        return False
    return path.endswith(_IMAGE_EXTENSIONS)


def _entry_date(entry: Mapping[str, Any]) -> datetime | None:
    """When it was published, else updated; a translated date is read if feedparser could not."""
    for name in ("published", "updated"):
        moment = _from_struct(_plain_get(entry, f"{name}_parsed"))
        if moment is None and (text := _str(_plain_get(entry, name))):
            moment = parse_localised_date(text)
        if moment is not None:
            return moment
    return None


def _from_struct(value: Any) -> datetime | None:
    """feedparser's dates are UTC `struct_time`s."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:5], min(value.tm_sec, 59), tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


# --- JSON Feed -----------------------------------------------------------------------------


def _parse_json_feed(body: bytes, *, feed_id: str, base_url: str | None) -> ParsedFeed:
    """JSON Feed 1.0 and 1.1 (https://jsonfeed.org); any other JSON is not a feed."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NotAFeedError("this is not a feed: it starts like JSON but is not UTF-8") from None
    except (ValueError, RecursionError) as err:
        where = f" (line {err.lineno})" if isinstance(err, json.JSONDecodeError) else ""
        raise NotAFeedError(
            f"this is not a feed: it starts like JSON but is not valid JSON{where}"
        ) from None
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        raise NotAFeedError("this is JSON but not a JSON Feed, nor an RSS or Atom feed")
    items = document.get("items")
    if not isinstance(items, list):
        raise NotAFeedError("this JSON Feed has no `items` list")
    home = safe_link(_str(document.get("home_page_url")), base_url)
    feed_author = _json_author(document)
    entries = [_from_json_item(item, feed_author) for item in items if isinstance(item, dict)]
    feed_urls = [base_url, home, _str(document.get("feed_url"))]
    parsed = _build(entries, feed_id=feed_id, base_url=base_url, feed_urls=feed_urls)
    return ParsedFeed(
        title=_clip(inline_text(_str(document.get("title")) or ""), MAX_TITLE),
        link=home,
        articles=parsed.articles,
        skipped=parsed.skipped,
        version=JSON_FEED_VERSION,
        duplicates=parsed.duplicates,
    )


def _from_json_item(item: Mapping[str, Any], feed_author: str | None) -> _Entry:
    raw_id = item.get("id")
    guid = _guid(
        str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
    )
    content = _str(item.get("content_html")) or ""
    text = _str(item.get("content_text"))
    if not content and text:
        content = "".join(
            f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip()
        )
    summary = _str(item.get("summary"))
    tags = item.get("tags")
    images = [url for key in ("image", "banner_image") if (url := _str(item.get(key)))]
    return _Entry(
        guid=guid,
        link=_str(item.get("url")),
        fallback_links=(guid,) if guid and safe_link(guid, None) else (),
        title=html.escape(_str(item.get("title")) or "", quote=False),
        published=_from_iso(item.get("date_published")) or _from_iso(item.get("date_modified")),
        author=_json_author(item) or feed_author,
        categories=tuple(tag for tag in tags if isinstance(tag, str))
        if isinstance(tags, list)
        else (),
        images=tuple(images),
        content_html=content,
        summary_html=html.escape(summary, quote=False) if summary else "",
    )


def _json_author(holder: Mapping[str, Any]) -> str | None:
    authors = holder.get("authors")
    candidates = authors if isinstance(authors, list) else [holder.get("author")]
    for author in candidates:
        if isinstance(author, dict) and (name := _str(author.get("name"))):
            return name
    return None


def _from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- From entries to articles ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Built:
    articles: tuple[Article, ...]
    skipped: tuple[SkippedEntry, ...]
    duplicates: int


def _build(
    entries: Iterable[_Entry],
    *,
    feed_id: str,
    base_url: str | None,
    feed_urls: Iterable[str | None],
) -> _Built:
    """Articles in feed order, without the entries that repeat an earlier one.

    `feed_urls` are the feed's own and home page URLs: an entry link equal to one of them
    (an empty `href` resolved against `xml:base` gives that) does not identify an article.
    """
    not_articles = frozenset(
        canonical_url(url) for candidate in feed_urls if (url := safe_link(candidate, base_url))
    )
    articles: list[Article] = []
    skipped: list[SkippedEntry] = []
    guids: set[str] = set()
    canonicals: set[str] = set()
    duplicates = 0
    for entry in entries:
        outcome = _article(entry, feed_id=feed_id, base_url=base_url, not_articles=not_articles)
        if isinstance(outcome, SkippedEntry):
            skipped.append(outcome)
            continue
        if (
            outcome.guid is not None and outcome.guid in guids
        ) or outcome.canonical_url in canonicals:
            duplicates += 1
            continue
        if outcome.guid is not None:
            guids.add(outcome.guid)
        canonicals.add(outcome.canonical_url)
        articles.append(outcome)
    return _Built(tuple(articles), tuple(skipped), duplicates)


def _pick_link(
    entry: _Entry, base_url: str | None, not_articles: frozenset[str]
) -> tuple[str | None, str]:
    """The entry's link, else a fallback when it has none; or None and the reason."""
    if entry.link and entry.link.strip():
        problem = link_problem(entry.link, base_url)
        if problem is not None:
            return None, problem  # an unsafe link is never replaced by a guess
        url = safe_link(entry.link, base_url)
        if url is not None and canonical_url(url) not in not_articles:
            return url, ""
        problem = "link points to the feed itself or to the home page, not to an article"
    else:
        problem = "no link"
    for candidate in entry.fallback_links:
        url = safe_link(candidate, base_url)
        if url is not None and canonical_url(url) not in not_articles:
            return url, ""
    return None, problem


def _article(
    entry: _Entry, *, feed_id: str, base_url: str | None, not_articles: frozenset[str]
) -> Article | SkippedEntry:
    title = _entry_title(entry)
    url, problem = _pick_link(entry, base_url, not_articles)
    if url is None:
        return SkippedEntry(feed_id=feed_id, title=title, reason=problem)
    canonical = canonical_url(url)
    return Article(
        feed_id=feed_id,
        key=article_key(canonical),
        guid=entry.guid,
        url=url,
        canonical_url=canonical,
        title=title,
        published=entry.published,
        author=_clip(inline_text(entry.author or ""), MAX_AUTHOR) or None,
        categories=_categories(entry.categories),
        image=_image(entry, url),
        content_html=entry.content_html,
        summary_html=entry.summary_html,
    )


def _entry_title(entry: _Entry) -> str:
    title = _clip(inline_text(entry.title), MAX_TITLE)
    if title:
        return title
    for fragment in (entry.content_html, entry.summary_html):
        words = first_words(fragment) if fragment else ""
        if words:
            return words
    return UNTITLED


def _categories(terms: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for term in terms:
        text = _clip(inline_text(term), 80)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return tuple(out)


def _image(entry: _Entry, article_url: str) -> str | None:
    for candidate in entry.images:
        url = safe_link(candidate, article_url)
        if url is not None and not is_junk_image(url):
            return url

    def usable(sources: list[str]) -> str | None:
        """The image's first safe source unless it is junk; None: look at the next image."""
        for source in sources:
            url = safe_link(source, article_url)
            if url is not None:
                return None if is_junk_image(url) else url
        return None

    for fragment in (entry.content_html, entry.summary_html):
        url = first_image(fragment, usable)
        if url is not None:
            return url
    return None


# --- Helpers to read feedparser's untyped results -------------------------------------------


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _plain_get(mapping: Mapping[str, Any], key: str) -> Any:
    """Read a key without feedparser's aliases (`updated` falls back to `published`, with a
    DeprecationWarning)."""
    return dict.get(mapping, key) if isinstance(mapping, dict) else mapping.get(key)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _maps(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _guid(value: str | None) -> str | None:
    """A guid worth keying on: a non-empty string of sane length without control characters."""
    if value is None:
        return None
    guid = value.strip()
    if not guid or len(guid) > MAX_GUID or _CONTROL.search(guid):
        return None
    return guid


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def _one_line(text: str, limit: int = 240) -> str:
    return _clip(" ".join(text.split()), limit)

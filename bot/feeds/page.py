"""An article from its own web page (Open Graph tags), for an admin's /post of a page that no
feed carries any more (pure: HTML text in, Article out)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from html.parser import HTMLParser

from bot.feeds.identity import article_key, canonical_url, safe_link
from bot.models import Article


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            name = (values.get("property") or values.get("name") or "").lower()
            if name and name not in self.meta and values.get("content"):
                self.meta[name] = values["content"].strip()
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def is_article_page(meta: dict[str, str]) -> bool:
    """Whether a page's meta tags describe an article: an Open Graph title, type `article`, or
    a publication time. A page with only a <title> (a login form, a home page, an error page)
    is not one."""
    return bool(
        meta.get("og:title")
        or meta.get("og:type", "").lower() == "article"
        or meta.get("article:published_time")
    )


def page_article(page: str, url: str, *, feed_id: str = "manual") -> Article | None:
    """The article a page describes (og:title, og:description, og:image, published time), or
    None when the page is not an article's (`is_article_page`), has no usable title, or its
    address is not http(s)."""
    link = safe_link(url, None)
    if link is None:
        return None
    parser = _Meta()
    try:
        parser.feed(page)
        parser.close()
    except AssertionError:  # the standard parser gives up on some broken markup
        pass
    meta = parser.meta
    if not is_article_page(meta):
        return None
    title = " ".join((meta.get("og:title") or parser.title).split())
    if not title:
        return None
    canonical = canonical_url(safe_link(meta.get("og:url"), link) or link)
    description = meta.get("og:description") or meta.get("description") or ""
    return Article(
        feed_id=feed_id,
        key=article_key(canonical),
        guid=None,
        url=link,
        canonical_url=canonical,
        title=title,
        published=_when(meta.get("article:published_time")),
        author=meta.get("author") or None,
        categories=tuple(v for k, v in meta.items() if k == "article:section" and v.strip()),
        image=safe_link(meta.get("og:image"), link),
        content_html=f"<p>{html.escape(description)}</p>" if description else "",
    )

"""Is a post on the Page ours? Link keys and the comparison reconcile uses (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from bot.feeds.identity import canonical_url
from bot.models import FacebookPost

_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'«»]+", re.IGNORECASE)


def link_key(url: str) -> str:
    """A comparison key for an article link: the project's canonical URL, scheme-less and
    without a leading `www.` (Facebook may report the page's og:url rather than what was sent).
    """
    parts = urlsplit(canonical_url(url))
    host = parts.netloc.removeprefix("www.")
    return urlunsplit(("", host, parts.path, parts.query, ""))


def _unshim(url: str) -> str:
    """`https://l.facebook.com/l.php?u=<link>&h=...` → `<link>`."""
    parts = urlsplit(url)
    if (parts.hostname or "").endswith("facebook.com") and parts.path == "/l.php":
        target = parse_qs(parts.query).get("u")
        if target:
            return target[0]
    return url


def _entry_links(entry: Mapping[str, Any]) -> list[str]:
    links: list[str] = []
    attachments = entry.get("attachments")
    rows = attachments.get("data") if isinstance(attachments, dict) else None
    for row in rows if isinstance(rows, list) else ():
        if not isinstance(row, dict):
            continue
        for key in ("unshimmed_url", "url"):
            if isinstance(row.get(key), str):
                links.append(_unshim(row[key]))
        target = row.get("target")
        if isinstance(target, dict) and isinstance(target.get("url"), str):
            links.append(_unshim(target["url"]))
    message = entry.get("message")
    if isinstance(message, str):
        links.extend(m.rstrip(".,;:!?)]") for m in _URL_IN_TEXT.findall(message))
    return links


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def post_matches(entry: Mapping[str, Any], post: FacebookPost) -> bool:
    """Is this published_posts entry our post? Same link (card, or in the text), or same text."""
    if post.link:
        wanted = link_key(post.link)
        if any(link_key(link) == wanted for link in _entry_links(entry)):
            return True
    message = entry.get("message")
    return bool(post.message) and isinstance(message, str) and _same_text(message, post.message)


def _permalink(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"

"""Small, forgiving readers of feed HTML: inline text for titles, and the first real image."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser

__all__ = ["first_image", "first_words", "inline_text", "is_junk_image"]

# Characters that carry no text: soft hyphen, zero-width space, word joiner, BOM.
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
_NO_BREAK = frozenset({"\u00a0", "\u202f"})
_SPACES = re.compile(r"\s+")
_CRUDE_TAG = re.compile(r"<[^>]*>")
_SKIPPED_ELEMENTS = frozenset({"script", "style", "template", "noscript", "head", "title"})
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th"}
    | {"blockquote", "figure", "figcaption", "section", "article", "header", "footer", "hr"}
)
_LAZY_SRC = ("data-lazy-src", "data-src", "data-original")
# Images that are never an article's picture: tracking pixels, avatars, emoji, share buttons.
_JUNK_IMAGE = re.compile(
    r"""(?ix)
    ^https?://(?:[^/]*\.)?(?:gravatar\.com|pixel\.wp\.com|stats\.wp\.com|feeds\.feedburner\.com
                          |feedproxy\.google\.com|feeds\.wordpress\.com)/
    | ^https?://s\.w\.org/images/core/emoji/
    | /wp-includes/images/smilies/
    """
)


def _collapse(text: str) -> str:
    """Runs of whitespace become one space; a lone no-break space (French typography) stays."""
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(lambda m: m.group() if m.group() in _NO_BREAK else " ", text).strip()


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_ELEMENTS:
            self._skipping.append(tag)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._skipping:
            while self._skipping and self._skipping.pop() != tag:
                pass
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def inline_text(fragment: str) -> str:
    """Plain text of an HTML (or plain) fragment: tags and scripts gone, entities decoded.

    `<script>x()</script>Mali &amp; Niger` → `Mali & Niger`; `a < b` stays `a < b`.
    """
    if "<" not in fragment and "&" not in fragment:
        return _collapse(fragment)
    parser = _TextParser()
    if not _run(parser, fragment):
        # html.parser gave up (it asserts on some `<![...` sequences): strip tags crudely
        return _collapse(html.unescape(_CRUDE_TAG.sub(" ", fragment)))
    return _collapse("".join(parser.parts))


def _run(parser: HTMLParser, fragment: str) -> bool:
    """Feed a whole fragment; False when html.parser raised on malformed markup."""
    try:
        parser.feed(fragment)
        parser.close()
    except AssertionError:  # html.parser signals some syntax errors with `assert`
        return False
    return True


def first_words(fragment: str, *, words: int = 12, max_chars: int = 100) -> str:
    """The beginning of a fragment's text, cut at a word, with `…` when something was cut."""
    tokens = inline_text(fragment).split(" ")
    out = ""
    for count, token in enumerate(tokens):
        candidate = f"{out} {token}" if out else token
        if count >= words or len(candidate) > max_chars:
            return (out or token[:max_chars]).rstrip(" ,;:.") + "…"
        out = candidate
    return out


def is_junk_image(url: str) -> bool:
    """True for tracking pixels, avatars, emoji images: never an article's picture."""
    return bool(_JUNK_IMAGE.search(url))


class _Found(Exception):
    """Raised from inside html.parser to stop reading once the image is chosen."""


class _ImageParser(HTMLParser):
    def __init__(self, choose: Callable[[list[str]], str | None]) -> None:
        super().__init__(convert_charrefs=True)
        self.chosen: str | None = None
        self._choose = choose

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img":
            return
        values = {name: (value or "").strip() for name, value in attrs}
        if values.get("width") in {"0", "1"} or values.get("height") in {"0", "1"}:
            return
        if any(word in values.get("class", "") for word in ("wp-smiley", "emoji")):
            return
        candidates = [values.get(name, "") for name in (*_LAZY_SRC, "src")]
        srcset = values.get("srcset", "")
        if srcset:
            candidates.append(srcset.split(",")[0].strip().split(" ")[0])
        self.chosen = self._choose([c for c in candidates if c])
        if self.chosen is not None:
            raise _Found

    handle_startendtag = handle_starttag


def first_image(fragment: str, choose: Callable[[list[str]], str | None]) -> str | None:
    """What `choose` makes of the first `<img>` of the fragment for which it returns a value,
    or None; the markup after that image is not read.

    `choose` gets each `<img>` in order as its candidate sources: a lazy-loading source
    (`data-src`...) before `src`, which is often a placeholder.
    Tracking pixels (width or height 0 or 1) and emoji images are left out. On malformed
    markup, only the images before it are considered.

    The parser is fed the whole fragment at once and stopped from its handler, so the images
    it reports are exactly the first ones a full reading would (feeding it in pieces would
    not do: html.parser reads a tag cut at a piece's end differently).
    """
    if "<img" not in fragment.lower():
        return None
    parser = _ImageParser(choose)
    try:
        _run(parser, fragment)
    except _Found:
        return parser.chosen
    return None

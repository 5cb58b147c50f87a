"""Telegram's HTML parse mode: escaping, the length Telegram counts, and what it accepts."""

from __future__ import annotations

import html
import re

__all__ = [
    "TELEGRAM_CAPTION_LIMIT",
    "TELEGRAM_MESSAGE_LIMIT",
    "escape_html",
    "telegram_length",
    "validate_telegram_html",
]

TELEGRAM_MESSAGE_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024


def escape_html(text: str) -> str:
    """Text → Telegram HTML: only &amp; &lt; &gt; &quot;, the named entities Telegram accepts."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_TAG_RE = re.compile(r"<[^>]*>")


def telegram_length(html_text: str) -> int:
    """The length Telegram checks: the text after entity parsing, in UTF-16 code units."""
    text = html.unescape(_TAG_RE.sub("", html_text))
    return len(text.encode("utf-16-le")) // 2


_TOKEN = re.compile(
    r"<(?P<close>/?)(?P<tag>[A-Za-z][\w-]*)(?P<attrs>(?:\s+[^<>]*?)?)\s*(?P<selfclose>/?)>"
    r"|&(?P<entity>#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);"
    r"|(?P<bare>[<>&])"
)
_ATTR = re.compile(r"""([A-Za-z][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_ALLOWED_ATTRS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "tg-spoiler": frozenset(),
    "span": frozenset({"class"}),
    "a": frozenset({"href"}),
    "tg-emoji": frozenset({"emoji-id"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-time": frozenset({"unix", "format"}),
}


def _check_attrs(tag: str, raw: str) -> None:
    attrs: dict[str, str] = {}
    rest = _ATTR.sub("", raw).strip()
    if rest:
        raise ValueError(f"malformed attributes in <{tag}>: {raw.strip()!r}")
    for match in _ATTR.finditer(raw):
        name = match.group(1).lower()
        if name not in _ALLOWED_ATTRS[tag]:
            raise ValueError(f"Telegram does not allow the attribute {name!r} on <{tag}>")
        attrs[name] = next((g for g in match.groups()[1:] if g is not None), "")
    if tag == "a":
        href = html.unescape(attrs.get("href", ""))
        if not re.match(r"(?i)^(?:https?://|tg://)", href.strip()):
            raise ValueError(f"a link in a post must be http(s) or tg://, got {href!r}")
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise ValueError('Telegram allows <span> only as <span class="tg-spoiler">')
    if tag == "code" and "class" in attrs and not attrs["class"].startswith("language-"):
        raise ValueError('Telegram allows <code class="language-..."> only')


def validate_telegram_html(html_text: str) -> None:
    """Raise ValueError unless `html_text` is HTML that Telegram's parse mode accepts.

    Only Telegram's tags with their attributes, balanced and properly nested; every ``<``,
    ``>`` and ``&`` of the text escaped; only the named entities &lt; &gt; &amp; &quot; (numeric
    ones are fine).
    """
    stack: list[str] = []
    for match in _TOKEN.finditer(html_text):
        if match.group("bare"):
            raise ValueError(f"unescaped {match.group('bare')!r} at offset {match.start()}")
        tag = match.group("tag")
        if tag is None:
            continue
        tag = tag.lower()
        if tag not in _ALLOWED_ATTRS:
            raise ValueError(f"Telegram does not allow the tag <{tag}>")
        if match.group("selfclose"):
            raise ValueError(f"Telegram does not allow self-closing <{tag}/>")
        if match.group("close"):
            if match.group("attrs").strip():
                raise ValueError(f"a closing </{tag}> cannot have attributes")
            if not stack or stack[-1] != tag:
                raise ValueError(f"</{tag}> does not close the last open tag")
            stack.pop()
        else:
            _check_attrs(tag, match.group("attrs"))
            stack.append(tag)
    if stack:
        raise ValueError(f"<{stack[-1]}> is never closed")

"""Article + channel settings → the post for Telegram, Facebook or the console, within limits."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import quote, unquote_plus, urlencode, urlsplit, urlunsplit

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.content.clean import normalise_text
from bot.content.hashtags import hashtags as make_hashtags
from bot.content.teaser import article_teaser, cut_at_word, make_teaser
from bot.models import Article, ChannelType, ConsolePost, FacebookPost, Post, TelegramPost
from bot.settings import ChannelSettings, SiteSettings, Utm

__all__ = [
    "FACEBOOK_MESSAGE_LIMIT",
    "TELEGRAM_CAPTION_LIMIT",
    "TELEGRAM_MESSAGE_LIMIT",
    "Rendered",
    "check_template",
    "default_cta",
    "escape_html",
    "preview_record",
    "render",
    "render_post",
    "telegram_length",
    "validate_telegram_html",
    "with_utm",
]

TELEGRAM_MESSAGE_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024
FACEBOOK_MESSAGE_LIMIT = 63206

Language = Literal["fr", "en"]

_STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "button": "Lire l'article",
        "cta": "📲 Suivez {name} pour ne rien rater de l'actualité",
        "link_line": "👉 Lire l'article\u00a0: {link}",
    },
    "en": {
        "button": "Read the article",
        "cta": "📲 Follow {name} so you never miss a story",
        "link_line": "👉 Read the article: {link}",
    },
}


def _strings(site: SiteSettings) -> dict[str, str]:
    return _STRINGS.get(site.language, _STRINGS["fr"])


def default_cta(site: SiteSettings) -> str:
    """The call to action used when a channel sets none, in the site's language."""
    return _strings(site)["cta"].format(name=site.name)


# ---------------------------------------------------------------------------------------------
# Telegram HTML
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------------------------


def _is_http_url(url: str | None) -> bool:
    if not url or url != url.strip() or any(ord(c) < 0x21 for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)


def with_utm(url: str, utm: Utm | None) -> str:
    """`url` with utm_source/utm_medium/utm_campaign set from `utm`.

    Any utm_* parameter already there is removed (it describes someone else's campaign); the
    other query parameters, their order and encoding, and the fragment are kept. Without `utm`
    (or with no value in it) the URL is returned unchanged.
    """
    if utm is None:
        return url
    params = [
        (name, value)
        for name, value in (
            ("utm_source", utm.source),
            ("utm_medium", utm.medium),
            ("utm_campaign", utm.campaign),
        )
        if value
    ]
    if not params:
        return url
    parts = urlsplit(url)
    kept = [
        p
        for p in parts.query.split("&")
        if p and not unquote_plus(p.split("=", 1)[0]).strip().lower().startswith("utm_")
    ]
    query = "&".join([*kept, urlencode(params, quote_via=quote)])
    return urlunsplit(parts._replace(query=query))


def _article_link(article: Article, channel: ChannelSettings) -> str:
    if not _is_http_url(article.url):
        raise ValueError(f"refusing to post an article whose link is not http(s): {article.url!r}")
    return with_utm(article.url, channel.utm)


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=64)
def _compile(source: str, autoescape: bool) -> Template:
    try:
        return _environment(autoescape).from_string(source)
    except TemplateError as err:
        line = getattr(err, "lineno", None)
        where = f" (line {line})" if line else ""
        raise ValueError(f"template syntax error{where}: {err.message or err}") from err


# What a user template may raise while rendering: Jinja's own errors (undefined variables, unsafe
# attributes refused by the sandbox), and the ordinary errors of the expressions it evaluates.
_TEMPLATE_FAILURES = (
    TemplateError,
    ArithmeticError,
    LookupError,
    TypeError,
    ValueError,
    RecursionError,
)


def _render_template(template: Template, variables: Mapping[str, Any]) -> str:
    try:
        text = template.render(variables).strip()
    except _TEMPLATE_FAILURES as err:
        message = getattr(err, "message", None) or str(err)
        raise ValueError(f"the template cannot be rendered: {message}") from err
    # Autoescaping writes ' and " as numeric references; Telegram reads them, people read better.
    return text.replace("&#39;", "'").replace("&#34;", "&quot;")


@dataclass(frozen=True, slots=True)
class _Context:
    """What a post is made of, before any escaping."""

    title: str
    link: str
    cta: str
    hashtags: tuple[str, ...]
    author: str
    categories: tuple[str, ...]
    site_name: str
    site_url: str
    published: datetime | None

    def variables(self, title: str, teaser: str) -> dict[str, Any]:
        return {
            "title": title,
            "teaser": teaser,
            "link": self.link,
            "cta": self.cta,
            "hashtags": list(self.hashtags),
            "hashtags_text": " ".join(self.hashtags),
            "author": self.author,
            "categories": list(self.categories),
            "site": {"name": self.site_name, "url": self.site_url},
            "published": self.published,
        }


_SAMPLE = _Context(
    title="Titre de l'article",
    link="https://example.org/article?utm_source=relais",
    cta="📲 Suivez-nous",
    hashtags=("#Mali", "#Économie"),
    author="Awa Traoré",
    categories=("Mali", "Économie"),
    site_name="Exemple",
    site_url="https://example.org",
    published=datetime(2026, 11, 2, 8, 30),
)


def check_template(source: str, *, channel_type: ChannelType | None = None) -> None:
    """Raise ValueError when `source` is not a usable post template.

    Catches syntax errors, unknown variables and what the sandbox refuses, by rendering it once
    with sample values; for a Telegram channel also checks that the result is Telegram HTML.
    """
    telegram = channel_type is ChannelType.TELEGRAM
    template = _compile(source, telegram)
    text = _render_template(template, _SAMPLE.variables(_SAMPLE.title, "Le chapeau de l'article."))
    if telegram:
        try:
            validate_telegram_html(text)
        except ValueError as err:
            raise ValueError(f"the template does not produce valid Telegram HTML: {err}") from err


# ---------------------------------------------------------------------------------------------
# Built-in layouts
# ---------------------------------------------------------------------------------------------

_Builder = Callable[[str, str], str]
"""(title, teaser) → the text of the post."""


def _join_blocks(*blocks: str) -> str:
    return "\n\n".join(b for b in blocks if b)


def _telegram_builtin(ctx: _Context) -> _Builder:
    def build(title: str, teaser: str) -> str:
        tail = "\n".join(
            x for x in (escape_html(ctx.cta), escape_html(" ".join(ctx.hashtags))) if x
        )
        head = f"<b>{escape_html(title)}</b>" if title else ""
        return _join_blocks(head, escape_html(teaser), tail)

    return build


def _facebook_builtin(ctx: _Context, link_line: str) -> _Builder:
    def build(title: str, teaser: str) -> str:
        tail = "\n".join(x for x in (ctx.cta, " ".join(ctx.hashtags)) if x)
        return _join_blocks(title, teaser, link_line, tail)

    return build


def _console_builtin(ctx: _Context) -> _Builder:
    def build(title: str, teaser: str) -> str:
        tail = "\n".join(x for x in (ctx.link, ctx.cta, " ".join(ctx.hashtags)) if x)
        return _join_blocks(title, teaser, tail)

    return build


def _custom(ctx: _Context, source: str, *, telegram: bool) -> _Builder:
    template = _compile(source, telegram)

    def build(title: str, teaser: str) -> str:
        text = _render_template(template, ctx.variables(title, teaser))
        if telegram:
            try:
                validate_telegram_html(text)
            except ValueError as err:
                raise ValueError(
                    f"the template does not produce valid Telegram HTML: {err}"
                ) from err
        return text

    return build


# ---------------------------------------------------------------------------------------------
# Fitting a post into its limit
# ---------------------------------------------------------------------------------------------


def _largest_fitting(
    cut: Callable[[int], str], size: int, fits: Callable[[str], bool]
) -> tuple[str, bool]:
    """Binary search of the largest budget whose cut still fits; (cut, found)."""
    low, high, best, found = 0, size, "", False
    while low <= high:
        middle = (low + high) // 2
        candidate = cut(middle)
        if fits(candidate):
            best, found, low = candidate, True, middle + 1
        else:
            high = middle - 1
    return best, found


def _fit(
    build: _Builder, title: str, teaser: str, limit: int, measure: Callable[[str], int]
) -> tuple[str, str]:
    """The post text within `limit`: the teaser is shortened first, the title only if it must."""
    text = build(title, teaser)
    if measure(text) <= limit:
        return text, teaser

    def teaser_cut(budget: int) -> str:
        return make_teaser([teaser], budget) if budget > 0 else ""

    shorter, found = _largest_fitting(
        teaser_cut, len(teaser), lambda t: measure(build(title, t)) <= limit
    )
    if found:
        return build(title, shorter), shorter

    def title_cut(budget: int) -> str:
        return cut_at_word(title, budget) if budget > 0 else ""

    short_title, found = _largest_fitting(
        title_cut, len(title), lambda t: measure(build(t, "")) <= limit
    )
    if not found:
        raise ValueError(
            f"the post cannot fit in {limit} characters even without teaser and title: "
            "shorten the call to action, the hashtags or the template"
        )
    return build(short_title, ""), ""


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rendered:
    """A post and the teaser as it was finally cut for it (for previews and logs)."""

    post: Post
    teaser: str


def _buttons(
    channel: ChannelSettings, ctx: _Context, strings: Mapping[str, str], title: str, teaser: str
) -> tuple[tuple[tuple[str, str], ...], ...]:
    configured = (
        channel.buttons if channel.buttons is not None else ((strings["button"], "{{ link }}"),)
    )
    rows = []
    variables = ctx.variables(title, teaser)
    for label_source, url_source in configured:
        label = _render_template(_compile(label_source, False), variables)
        url = _render_template(_compile(url_source, False), variables)
        if not label:
            raise ValueError(f"button {label_source!r} has an empty label")
        if not (_is_http_url(url) or url.startswith("tg://")):
            raise ValueError(f"button {label!r} must link to an http(s) URL, got {url!r}")
        rows.append(((label, url),))
    return tuple(rows)


def render(
    article: Article,
    channel: ChannelSettings,
    site: SiteSettings,
    *,
    extra_patterns: Sequence[str] = (),
    shorter: bool = False,
    teaser: str | None = None,
) -> Rendered:
    """The post this channel gets for this article, and the teaser used in it.

    `shorter` is the second attempt after the platform refused the length: half the budget.
    `teaser`: an admin's own teaser for this post (approval's "✏️ Modifier"), used instead of
    the article's lead, cut to the same budget.
    Raises ValueError for an article link that is not http(s) and for a template that fails.
    """
    strings = _strings(site)
    link = _article_link(article, channel)
    budget = channel.teaser_budget // 2 if shorter else channel.teaser_budget
    if teaser is not None:
        teaser = cut_at_word(normalise_text(teaser, keep_newlines=True), max(budget, 1))
    else:
        teaser = article_teaser(
            article, max(budget, 1), site_name=site.name, extra_patterns=extra_patterns
        )
    categories = make_hashtags(
        article.categories if channel.hashtags else (), channel.extra_hashtags
    )
    ctx = _Context(
        title=normalise_text(article.title),
        link=link,
        cta=default_cta(site)
        if channel.cta is None
        else normalise_text(channel.cta, keep_newlines=True),
        hashtags=tuple(categories),
        author=normalise_text(article.author or ""),
        categories=tuple(article.categories),
        site_name=site.name,
        site_url=site.url,
        published=article.published,
    )
    image = article.image if _is_http_url(article.image) else None
    photo = image if channel.photo_mode == "auto" else None

    if channel.type is ChannelType.TELEGRAM:
        build = (
            _custom(ctx, channel.template, telegram=True)
            if channel.template
            else _telegram_builtin(ctx)
        )
        limit = TELEGRAM_CAPTION_LIMIT if photo else TELEGRAM_MESSAGE_LIMIT
        text, teaser = _fit(build, ctx.title, teaser, limit, telegram_length)
        validate_telegram_html(text)
        post: Post = TelegramPost(
            method="sendPhoto" if photo else "sendMessage",
            text=text,
            photo=photo,
            buttons=_buttons(channel, ctx, strings, ctx.title, teaser),
            link=link,
            silent=channel.silent,
        )
    elif channel.type is ChannelType.FACEBOOK:
        link_line = strings["link_line"].format(link=link) if photo else ""
        build = (
            _custom(ctx, channel.template, telegram=False)
            if channel.template
            else _facebook_builtin(ctx, link_line)
        )
        text, teaser = _fit(build, ctx.title, teaser, FACEBOOK_MESSAGE_LIMIT, len)
        post = FacebookPost(
            endpoint="photos" if photo else "feed", message=text, link=link, url=photo
        )
    else:
        build = (
            _custom(ctx, channel.template, telegram=False)
            if channel.template
            else _console_builtin(ctx)
        )
        post = ConsolePost(text=build(ctx.title, teaser))
    if not (post.text if isinstance(post, TelegramPost | ConsolePost) else post.message).strip():
        raise ValueError("the post is empty: the article has no title and the template no text")
    return Rendered(post=post, teaser=teaser)


def render_post(
    article: Article,
    channel: ChannelSettings,
    site: SiteSettings,
    *,
    extra_patterns: Sequence[str] = (),
    shorter: bool = False,
    teaser: str | None = None,
) -> Post:
    """The post this channel gets for this article (see `render`)."""
    return render(
        article, channel, site, extra_patterns=extra_patterns, shorter=shorter, teaser=teaser
    ).post


def preview_record(
    feed_id: str, channel: ChannelSettings, article: Article, post: Post, teaser: str
) -> dict[str, Any]:
    """One line of `relais preview --json`, exactly as PRODUCT.md describes it."""
    return {
        "feed": feed_id,
        "channel": channel.id,
        "type": channel.type.value,
        "article": {
            "id": article.key,
            "url": article.url,
            "title": article.title,
            "published": article.published.isoformat() if article.published else None,
            "author": article.author,
            "categories": list(article.categories),
            "image": article.image,
            "teaser": teaser,
        },
        "post": post.to_json(),
    }

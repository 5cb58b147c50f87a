"""Article + channel settings → the post for Telegram, Facebook or the console, within limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote_plus, urlencode, urlsplit, urlunsplit

from bot.content.clean import credited_source, normalise_text
from bot.content.hashtags import hashtags as make_hashtags
from bot.content.teaser import article_teaser, cut_at_word, make_teaser, tail_paragraphs
from bot.content.telegram_html import (
    TELEGRAM_CAPTION_LIMIT,
    TELEGRAM_MESSAGE_LIMIT,
    escape_html,
    telegram_length,
    validate_telegram_html,
)
from bot.content.templates import (
    TemplateContext,
    compile_template,
    render_template,
    render_text,
)
from bot.content.wording import default_cta, format_date, strings
from bot.feeds.identity import TRACKING_PARAMS
from bot.models import Article, ChannelType, ConsolePost, FacebookPost, Post, TelegramPost
from bot.settings import ChannelSettings, SiteSettings, Utm

__all__ = [
    "FACEBOOK_MESSAGE_LIMIT",
    "LATE",
    "Rendered",
    "clean_title",
    "posted_link",
    "preview_record",
    "render",
    "render_post",
    "with_utm",
]

FACEBOOK_MESSAGE_LIMIT = 63206
LATE = timedelta(hours=3)
"""A post that goes out this long after its article was published shows the publication date."""


# ---------------------------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------------------------


_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20]")


def _is_http_url(url: str | None) -> bool:
    if not url or url != url.strip() or _SPACE_OR_CONTROL.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)


def _is_tracking(param: str) -> bool:
    name = unquote_plus(param.split("=", 1)[0]).strip().lower()
    return name.startswith("utm_") or name in TRACKING_PARAMS


def with_utm(url: str, utm: Utm | None) -> str:
    """`url` without anyone's tracking, plus the channel's utm_source/medium/campaign if any.

    Every tracking parameter already there is removed (`utm_*` of the feed, such as
    `utm_source=rss`, `fbclid`, `gclid`…: they describe someone else's campaign); the other
    query parameters, their order and encoding, and the fragment are kept.
    """
    params = [
        (name, value)
        for name, value in (
            ("utm_source", utm.source if utm else None),
            ("utm_medium", utm.medium if utm else None),
            ("utm_campaign", utm.campaign if utm else None),
        )
        if value
    ]
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and not _is_tracking(p)]
    if params:
        kept.append(urlencode(params, quote_via=quote))
    return urlunsplit(parts._replace(query="&".join(kept)))


def posted_link(article: Article, channel: ChannelSettings | None = None) -> str:
    """The link every post of the article carries (button, card, text): the article's own
    link without tracking parameters, plus the channel's `utm` if it sets one.

    Raises ValueError for a link that is not http(s)."""
    if not _is_http_url(article.url):
        raise ValueError(f"refusing to post an article whose link is not http(s): {article.url!r}")
    return with_utm(article.url, channel.utm if channel else None)


# ---------------------------------------------------------------------------------------------
# What a post says besides the teaser
# ---------------------------------------------------------------------------------------------

_CODE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
# The tags a feed leaves in titles; "<réclament>" in a title is a word, not markup.
_TAG = re.compile(
    r"</?(?i:a|abbr|b|big|br|cite|code|del|div|em|font|h[1-6]|i|img|ins|mark|p|q|s|small|span"
    r"|strike|strong|sub|sup|u)\b[^<>]{0,200}>"
)
# "&" or "+" with nothing to join on one side: "Budget 2027 : & les chiffres", "… et &".
_ORPHAN = re.compile(r"(^|[:;,–—-])[\s\u00a0\u202f]*[&+][\s\u00a0\u202f]*|[\s\u00a0\u202f]*[&+]$")
_DANGLING = re.compile(r"[\s\u00a0\u202f]*(?:&|\+|et|and|[,;:/–—-])[\s\u00a0\u202f]*(…|\.\.\.)$")


def clean_title(title: str) -> str:
    """A title as readers see it: no markup or script left by a hostile feed, no "&" with
    nothing to join, no connector dangling before a final ellipsis ("Budget 2027 : <b>les
    chiffres</b> & …" → "Budget 2027 : les chiffres…")."""
    text = normalise_text(_TAG.sub(" ", _CODE.sub(" ", title)))
    text = _DANGLING.sub("…", text)
    text = _ORPHAN.sub(lambda m: f"{m.group(1)} " if m.group(1) else "", text)
    return normalise_text(text)


@lru_cache(maxsize=512)
def _credited_source(html_text: str, site_name: str) -> str:
    """`credited_source` of an article's HTML, read once per text (every channel asks) and in
    its last `SOURCE_CHARS` only: a "Source :" line closes an article."""
    return credited_source(tail_paragraphs(html_text), site_name=site_name)


def _credit(article: Article, channel: ChannelSettings, site: SiteSettings) -> str:
    """ "Source : L'Aube" for a reprint; with `credit: author`, else the author's byline."""
    if channel.credit == "none":
        return ""
    words = strings(site.language)
    for html_text in (article.content_html, article.summary_html):
        source = _credited_source(html_text, site.name)
        if source:
            return words["source_line"].format(source=source)
    author = normalise_text(article.author or "")
    if channel.credit == "author" and author and author.casefold() != site.name.casefold():
        return words["author_line"].format(author=author)
    return ""


def _late_date(
    article: Article, channel: ChannelSettings, site: SiteSettings, now: datetime | None
) -> str:
    """The publication date, when the post goes out `LATE` after it (quiet hours, a queue)."""
    if not channel.show_date or now is None or article.published is None:
        return ""
    if now - article.published < LATE:
        return ""
    return format_date(article.published.astimezone(site.tz), site.language)


# ---------------------------------------------------------------------------------------------
# Built-in layouts
# ---------------------------------------------------------------------------------------------

_Builder = Callable[[str, str], str]
"""(title, teaser) → the text of the post."""


def _join_blocks(*blocks: str) -> str:
    return "\n\n".join(b for b in blocks if b)


def _meta_line(ctx: TemplateContext, site: SiteSettings) -> str:
    date = strings(site.language)["date_line"].format(date=ctx.published_text)
    parts = [ctx.source] if ctx.source else []
    if ctx.published_text:
        parts.append(date)
    return " · ".join(parts)


def _telegram_builtin(ctx: TemplateContext, meta: str) -> _Builder:
    def build(title: str, teaser: str) -> str:
        tail = "\n".join(
            x for x in (escape_html(ctx.cta), escape_html(" ".join(ctx.hashtags))) if x
        )
        head = f"<b>{escape_html(title)}</b>" if title else ""
        info = f"<i>{escape_html(meta)}</i>" if meta else ""
        return _join_blocks(head, escape_html(teaser), info, tail)

    return build


def _facebook_builtin(
    ctx: TemplateContext, meta: str, link_line: str, *, title_shown: bool
) -> _Builder:
    def build(title: str, teaser: str) -> str:
        tail = "\n".join(x for x in (ctx.cta, " ".join(ctx.hashtags)) if x)
        head = title if title_shown or not teaser else ""
        return _join_blocks(head, teaser, meta, link_line, tail)

    return build


def _console_builtin(ctx: TemplateContext, meta: str) -> _Builder:
    def build(title: str, teaser: str) -> str:
        tail = "\n".join(x for x in (ctx.link, ctx.cta, " ".join(ctx.hashtags)) if x)
        return _join_blocks(title, teaser, meta, tail)

    return build


def _custom(ctx: TemplateContext, source: str, *, telegram: bool) -> _Builder:
    template = compile_template(source, telegram)

    def build(title: str, teaser: str) -> str:
        text = render_template(template, ctx.variables(title, teaser))
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
    channel: ChannelSettings,
    ctx: TemplateContext,
    words: Mapping[str, str],
    title: str,
    teaser: str,
) -> tuple[tuple[tuple[str, str], ...], ...]:
    configured = (
        channel.buttons if channel.buttons is not None else ((words["button"], "{{ link }}"),)
    )
    rows = []
    variables = ctx.variables(title, teaser)
    for label_source, url_source in configured:
        label = render_text(label_source, variables)
        url = render_text(url_source, variables)
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
    now: datetime | None = None,
    teaser: str | None = None,
) -> Rendered:
    """The post this channel gets for this article, and the teaser used in it.

    `shorter` is the second attempt after the platform refused the length: half the budget.
    `now` is when the post goes out: a post `LATE` after the article shows its date.
    `teaser`: an admin's own text for this post, used instead of the article's lead.
    Raises ValueError for an article link that is not http(s) and for a template that fails.
    """
    words = strings(site.language)
    link = posted_link(article, channel)
    budget = channel.teaser_budget // 2 if shorter else channel.teaser_budget
    if teaser is None:
        teaser = article_teaser(
            article, max(budget, 1), site_name=site.name, extra_patterns=extra_patterns
        )
    else:
        teaser = normalise_text(teaser, keep_newlines=True)
    categories = make_hashtags(
        article.categories if channel.hashtags else (), channel.extra_hashtags
    )
    published_text = _late_date(article, channel, site, now)
    ctx = TemplateContext(
        title=clean_title(article.title),
        link=link,
        cta=default_cta(site.language, site.name)
        if channel.cta is None
        else normalise_text(channel.cta, keep_newlines=True),
        hashtags=tuple(categories),
        author=normalise_text(article.author or ""),
        categories=tuple(article.categories),
        site_name=site.name,
        site_url=site.url,
        published=article.published,
        source=_credit(article, channel, site),
        published_text=published_text,
    )
    meta = _meta_line(ctx, site)
    image = article.image if _is_http_url(article.image) else None
    photo = image if channel.photo_mode == "auto" else None

    if channel.type is ChannelType.TELEGRAM:
        build = (
            _custom(ctx, channel.template, telegram=True)
            if channel.template
            else _telegram_builtin(ctx, meta)
        )
        limit = TELEGRAM_CAPTION_LIMIT if photo else TELEGRAM_MESSAGE_LIMIT
        text, teaser = _fit(build, ctx.title, teaser, limit, telegram_length)
        validate_telegram_html(text)
        post: Post = TelegramPost(
            method="sendPhoto" if photo else "sendMessage",
            text=text,
            photo=photo,
            buttons=_buttons(channel, ctx, words, ctx.title, teaser),
            link=link,
            silent=channel.silent,
        )
    elif channel.type is ChannelType.FACEBOOK:
        link_line = words["link_line"].format(link=link) if photo else ""
        # A link post's card shows the title already; a photo post has no card.
        title_shown = channel.show_title if channel.show_title is not None else bool(photo)
        build = (
            _custom(ctx, channel.template, telegram=False)
            if channel.template
            else _facebook_builtin(ctx, meta, link_line, title_shown=title_shown)
        )
        text, teaser = _fit(build, ctx.title, teaser, FACEBOOK_MESSAGE_LIMIT, len)
        post = FacebookPost(
            endpoint="photos" if photo else "feed", message=text, link=link, url=photo
        )
    else:
        build = (
            _custom(ctx, channel.template, telegram=False)
            if channel.template
            else _console_builtin(ctx, meta)
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
    now: datetime | None = None,
    teaser: str | None = None,
) -> Post:
    """The post this channel gets for this article (see `render`)."""
    done = render(
        article,
        channel,
        site,
        extra_patterns=extra_patterns,
        shorter=shorter,
        now=now,
        teaser=teaser,
    )
    return done.post


def preview_record(
    feed_id: str, channel: ChannelSettings, article: Article, post: Post, teaser: str
) -> dict[str, Any]:
    """One line of `relais preview --json`, exactly as PRODUCT.md describes it; `article.url`
    is the link posts carry, before the channel's `utm`."""
    return {
        "feed": feed_id,
        "channel": channel.id,
        "type": channel.type.value,
        "article": {
            "id": article.key,
            "url": posted_link(article),
            "title": clean_title(article.title),
            "published": article.published.isoformat() if article.published else None,
            "author": article.author,
            "categories": list(article.categories),
            "image": article.image,
            "teaser": teaser,
        },
        "post": post.to_json(),
    }

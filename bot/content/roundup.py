"""A roundup post: the headlines a channel gathered, as one list with links (Telegram HTML, a
Facebook text post linking the top story, or console text), in French or English."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.content.clean import normalise_text
from bot.content.render import _largest_fitting, clean_title, posted_link, with_utm
from bot.content.teaser import cut_at_word
from bot.content.telegram_html import (
    TELEGRAM_MESSAGE_LIMIT,
    escape_html,
    telegram_length,
    validate_telegram_html,
)
from bot.content.wording import default_cta
from bot.models import Article, ChannelType, ConsolePost, FacebookPost, Post, TelegramPost
from bot.settings import ChannelSettings, SiteSettings

__all__ = ["render_roundup", "roundup_heading"]

_STRINGS = {
    "fr": {
        "heading": "🗞 L'essentiel du {weekday} {day} {month}",
        "button": "Toute l'actualité",
        "days": "lundi mardi mercredi jeudi vendredi samedi dimanche",
        "months": "janvier février mars avril mai juin juillet août septembre octobre novembre "
        "décembre",
    },
    "en": {
        "heading": "🗞 The essentials, {weekday} {day} {month}",
        "button": "All the news",
        "days": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
        "months": "January February March April May June July August September October "
        "November December",
    },
}
_BULLET = "•"


def _strings(site: SiteSettings) -> dict[str, str]:
    return _STRINGS.get(site.language, _STRINGS["fr"])


def roundup_heading(site: SiteSettings, at: datetime) -> str:
    """'🗞 L'essentiel du mardi 3 novembre', in the site's language and time zone."""
    strings = _strings(site)
    local = at.astimezone(site.tz)
    return strings["heading"].format(
        weekday=strings["days"].split()[local.weekday()],
        day=local.day,
        month=strings["months"].split()[local.month - 1],
    )


def render_roundup(
    articles: Sequence[Article], channel: ChannelSettings, site: SiteSettings, *, at: datetime
) -> Post:
    """The roundup post for these articles (the first is the top story), made at `at`.

    Telegram: a bold heading, one linked headline per line, the channel's call to action, and a
    button to the site; valid Telegram HTML within 4096 UTF-16 units (titles are cut at a word,
    evenly, when a long list would not fit — no article is dropped). Facebook: the same list as
    plain text with each link, posted as a link post to the top story (its card). Console: text.
    """
    if not articles:
        raise ValueError("a roundup needs at least one article")
    heading = roundup_heading(site, at)
    cta = (
        default_cta(site.language, site.name)
        if channel.cta is None
        else normalise_text(channel.cta, keep_newlines=True)
    )
    items = [(clean_title(a.title), posted_link(a, channel)) for a in articles]
    longest = max(len(title) for title, _ in items)

    if channel.type is ChannelType.TELEGRAM:

        def telegram(budget: int) -> str:
            lines = "\n".join(
                f'{_BULLET} <a href="{escape_html(link)}">'
                f"{escape_html(cut_at_word(title, budget))}</a>"
                for title, link in items
            )
            return "\n\n".join(
                x for x in (f"<b>{escape_html(heading)}</b>", lines, escape_html(cta)) if x
            )

        text, fits = _largest_fitting(
            telegram, longest, lambda t: telegram_length(t) <= TELEGRAM_MESSAGE_LIMIT
        )
        if not fits:
            raise ValueError("the roundup cannot fit in one message: shorten the call to action")
        validate_telegram_html(text)
        buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
        if site.url.startswith(("https://", "http://")):
            buttons = (((_strings(site)["button"], with_utm(site.url, channel.utm)),),)
        return TelegramPost(
            method="sendMessage",
            text=text,
            photo=None,
            buttons=buttons,
            link=items[0][1],
            silent=channel.silent,
        )
    lines = "\n".join(f"{_BULLET} {title}\n{link}" for title, link in items)
    text = "\n\n".join(x for x in (heading, lines, cta) if x)
    if channel.type is ChannelType.FACEBOOK:
        return FacebookPost(endpoint="feed", message=text, link=items[0][1], url=None)
    return ConsolePost(text=text)

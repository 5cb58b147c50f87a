"""The built-in words of a post, per language: button, calls to action, credit and date lines."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

__all__ = ["default_cta", "format_date", "strings"]

_STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "button": "Lire l'article",
        "cta": "📲 Suivez {name} pour ne rien rater de l'actualité",
        "cta_telegram": "📲 Rejoignez {name} sur Telegram pour ne rien rater de l'actualité\u00a0: "
        "{invite}",
        "cta_site": "📲 Toute l'actualité sur {host}",
        "link_line": "👉 Lire l'article\u00a0: {link}",
        "source_line": "Source\u00a0: {source}",
        "author_line": "Par {author}",
        "date_line": "🕒 Publié le {date}",
        "date": "{day} {month} {year} à {hour} h {minute:02d}",
        "months": "janvier février mars avril mai juin juillet août septembre octobre novembre "
        "décembre",
    },
    "en": {
        "button": "Read the article",
        "cta": "📲 Follow {name} so you never miss a story",
        "cta_telegram": "📲 Join {name} on Telegram so you never miss a story: {invite}",
        "cta_site": "📲 All the news on {host}",
        "link_line": "👉 Read the article: {link}",
        "source_line": "Source: {source}",
        "author_line": "By {author}",
        "date_line": "🕒 Published {date}",
        "date": "{month} {day}, {year}, {hour}:{minute:02d}",
        "months": "January February March April May June July August September October "
        "November December",
    },
}


def strings(language: str) -> dict[str, str]:
    """The words for a site's language (French when the language has none)."""
    return _STRINGS.get(language, _STRINGS["fr"])


def default_cta(
    language: str,
    site_name: str,
    *,
    facebook: bool = False,
    telegram_chat: str | None = None,
    site_url: str = "",
) -> str:
    """The call to action of a channel that sets none.

    On Facebook, readers are already on the Page: they are invited to the site's public
    Telegram channel when there is one (`telegram_chat` as @username), else to the site.
    """
    words = strings(language)
    if facebook:
        if telegram_chat and telegram_chat.startswith("@"):
            return words["cta_telegram"].format(
                name=site_name, invite=f"https://t.me/{telegram_chat[1:]}"
            )
        host = urlsplit(site_url).hostname if site_url else None
        if host:
            return words["cta_site"].format(host=host.removeprefix("www."))
    return words["cta"].format(name=site_name)


def format_date(value: datetime, language: str) -> str:
    """'4 avril 2024 à 10 h 30' (or 'April 4, 2024, 10:30'), in the zone `value` carries."""
    words = strings(language)
    month = words["months"].split()[value.month - 1]
    day = "1er" if language == "fr" and value.day == 1 else str(value.day)
    return words["date"].format(
        day=day, month=month, year=value.year, hour=value.hour, minute=value.minute
    )

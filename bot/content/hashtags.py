"""Hashtags from an article's categories: accents kept, words joined in CamelCase, five at most."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from bot.content.text import fold

__all__ = ["MAX_HASHTAGS", "hashtag", "hashtags"]

MAX_HASHTAGS = 5
_MAX_LENGTH = 40
_WORD = re.compile(r"[^\W_]+")
# WordPress placeholders and layout categories that say nothing about the story.
_USELESS = frozenset(
    [
        "non classe",
        "non classee",
        "non categorise",
        "sans categorie",
        "uncategorized",
        "uncategorised",
        "a la une",
        "la une",
        "une",
        "accueil",
        "home",
        "homepage",
        "page d'accueil",
        "featured",
        "featured posts",
        "en vedette",
        "vedette",
        "selection",
        "top",
        "latest",
        "dernieres nouvelles",
        "slider",
        "headline",
        "headlines",
        "top news",
        "breaking",
        "general",
        "divers",
        "misc",
        "blog",
        "news",
        "actualite",
        "actualites",
        "actu",
    ]
)


@lru_cache(maxsize=4096)
def hashtag(category: str) -> str | None:
    """ "Société civile" → "#SociétéCivile"; None for what cannot be a useful hashtag."""
    text = unicodedata.normalize("NFC", category).strip().lstrip("#")
    words = _WORD.findall(text)
    if not words or fold(" ".join(words)) in _USELESS:
        return None
    tag = "".join(word[0].upper() + word[1:] for word in words)
    if tag.isdigit() or len(tag) > _MAX_LENGTH:
        return None
    return "#" + tag


def hashtags(categories: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Hashtags for a post: from the categories, then the channel's `extra` ones.

    Duplicates (ignoring case and accents) are dropped, the first spelling kept; unusable
    categories ("Non classé", "Uncategorized", numbers, empty) are skipped. At most
    `MAX_HASHTAGS` in all; the channel's extra hashtags are always kept, the categories fill the
    remaining room in their order.
    """

    def unique(items: Iterable[str], seen: set[str]) -> list[str]:
        out = []
        for item in items:
            tag = hashtag(item)
            if tag is not None and fold(tag) not in seen:
                seen.add(fold(tag))
                out.append(tag)
        return out

    seen: set[str] = set()
    extras = unique(extra, seen)[:MAX_HASHTAGS]
    from_categories = unique(categories, seen)
    return from_categories[: MAX_HASHTAGS - len(extras)] + extras

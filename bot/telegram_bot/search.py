"""Pure text for search and topics: folded words of an article, query terms, topic keys."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from bot.content.teaser import article_paragraphs
from bot.content.text import TOPIC_KEY_MAX, fold, topic_key
from bot.models import Article

# How much of an article's cleaned text is searchable: the title, categories and author always,
# then the lead paragraphs up to this many characters (a mention deep in a long article is more
# noise than answer for a reader asking a news bot).
SEARCH_TEXT_CHARS = 2000
MAX_TERMS = 8
__all__ = [
    "SEARCH_TEXT_CHARS",
    "STOPWORDS",
    "TOPIC_KEY_MAX",
    "query_terms",
    "search_text",
    "suggest",
    "topic_key",
    "words",
]

_WORD = re.compile(r"[^\W_]+")

# Words that say nothing about what a reader looks for (after folding).
STOPWORDS = frozenset(
    """a au aux avec ce ces dans de des du en et il elle l la le les leur lui ma mais me mes
    mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton
    tu un une vos votre vous y d j m n s t c est sont ete etre
    an and are as at be by for from in into is it its of on or that the their this to was
    were will with""".split()  # noqa: SIM905
)


def words(text: str) -> list[str]:
    """The words of a text, folded: lower case, no accents, one kind of apostrophe."""
    return _WORD.findall(fold(text))


def search_text(
    article: Article, *, site_name: str = "", extra_patterns: Sequence[str] = ()
) -> str:
    """The folded words /search looks in: title, categories, author, then the cleaned lead
    paragraphs (boilerplate removed) up to SEARCH_TEXT_CHARS. Starts and ends with a space and
    has one space between words, so that " word" marks the start of a word."""
    head = [article.title, *article.categories, article.author or ""]
    body: list[str] = []
    paragraphs = article_paragraphs(article, site_name=site_name, extra_patterns=extra_patterns)
    budget = SEARCH_TEXT_CHARS
    for paragraph in next(paragraphs, []):
        body.append(paragraph[:budget])
        budget -= len(paragraph)
        if budget <= 0:
            break
    return " " + " ".join(words(" ".join([*head, *body]))) + " "


def _light_stem(word: str) -> str:
    """French and English plurals: 'élections' → 'election' (then it also finds the
    singular, since terms match the start of words). Short words are left alone."""
    if len(word) >= 5 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def query_terms(query: str) -> list[str]:
    """What a reader typed → the folded terms that must all start a word of the article.

    Stop words are dropped unless nothing else is left; one-letter words are dropped; at
    most MAX_TERMS terms."""
    found = [w for w in words(query) if len(w) > 1 or w.isdigit()]
    meaningful = [w for w in found if w not in STOPWORDS]
    chosen = meaningful or found
    terms: list[str] = []
    for word in chosen:
        term = _light_stem(word)
        if term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def suggest(typed: str, keys: dict[str, str], *, limit: int = 3) -> list[str]:
    """Labels of known topics (folded key → label) close to what a reader typed: those that
    contain it or are contained in it, then close spellings."""
    key = topic_key(typed)
    if not key:
        return []
    found: list[str] = []
    for candidate, label in keys.items():
        close = len(key) >= 3 and (key in candidate or (len(candidate) >= 3 and candidate in key))
        if close and label not in found:
            found.append(label)
    for candidate in difflib.get_close_matches(key, list(keys), n=limit, cutoff=0.6):
        if keys[candidate] not in found:
            found.append(keys[candidate])
    return found[:limit]

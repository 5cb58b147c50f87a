"""/search on SQLite and PostgreSQL: looking among the newest articles first gives exactly what
a search of every article gives, whatever the window, the page and the order of indexing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.models import Article
from bot.storage.readers import ReaderStore
from bot.storage.store import Storage
from bot.telegram_bot.search import query_terms, search_text
from tests.builders import BASE, article
from tests.builders import new_article as new

SEEN = BASE + timedelta(days=1)  # when the articles are recorded: after every date
WORDS = ("Sécurité", "élections", "hivernage", "Santé", "récolte")


def archive() -> tuple[list[Article], list[Article]]:
    """40 articles: a word in one of five, another in one of seven; ties on the date, some
    with no date (their first sighting counts), and two republished copies."""
    found = []
    for n in range(1, 41):
        title = f"{WORDS[n % 5]} à Ségou : {WORDS[n % 7 % 5].lower()} et marché numéro {n}"
        published = None if n % 9 == 0 else BASE - timedelta(hours=n // 3)  # ties by three
        found.append(article(n, title=title, published=published, categories=()))
    copies = [article(100 + n, title=found[n].title, published=BASE) for n in (0, 1)]
    return found, copies


@pytest.fixture
def readers(db_url: str) -> Iterator[tuple[ReaderStore, list[Article]]]:
    storage = Storage.open(db_url)
    items, copies = archive()
    storage.record([new(a) for a in items], SEEN)
    storage.record(
        [new(c, duplicate_of=items[i].key) for i, c in enumerate(copies)],
        SEEN,
    )
    store = ReaderStore(storage.engine)
    shuffled = [*items, *copies]
    random.Random(12).shuffle(shuffled)  # the index's order is not the articles' order
    store.index((a.key, search_text(a)) for a in shuffled)
    yield store, items
    storage.close()


def expected(items: list[Article], terms: list[str], offset: int, limit: int) -> list[str]:
    """What /search means: a word of the search text starts with every term; newest first
    (the date, else the first sighting), then by key."""
    matching = [
        a
        for a in items
        if all(any(w.startswith(term) for w in search_text(a).split()) for term in terms)
    ]
    matching.sort(key=lambda a: a.key)
    matching.sort(key=lambda a: a.published or SEEN, reverse=True)
    return [a.key for a in matching[offset : offset + limit]]


PAGES = [(0, 5), (5, 5), (0, 40), (35, 5)]
WINDOWS = [0, 1, 6, 12, 500]  # 0: every article at once


@pytest.mark.parametrize(
    "query",
    ["sécurité", "SANTE", "segou", "election", "hivernage récolte", "numero 1", "marche 3", "zzz"],
)
def test_the_newest_first_search_finds_what_a_full_search_finds(
    readers: tuple[ReaderStore, list[Article]], query: str
) -> None:
    store, items = readers
    terms = query_terms(query)
    for offset, limit in PAGES:
        for recent in WINDOWS:
            found, more = store.search(terms, offset=offset, limit=limit, recent=recent)
            page = (query, offset, limit, recent)
            assert [a.key for a in found] == expected(items, terms, offset, limit), page
            assert more == bool(expected(items, terms, offset + limit, 1)), page

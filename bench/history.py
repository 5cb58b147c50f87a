"""Costs that must not grow with history: 1,000 / 10,000 / 100,000 articles, SQLite and PostgreSQL.

The database is filled with N articles (two thirds in categories, each with a delivery to two
channels, all sent but those of the last 20 articles: the queue does not grow with history), then
each of these is timed (median of --repeat runs, ms):
  round    a delivery round's storage work: claim one due delivery of a channel and finish it;
  status   `relais status`'s queries (feed states, per-channel counts);
  history  `relais history` (the last 20 deliveries);
  latest   the reader bot's /latest (5 newest articles);
  topics   /topics (the site's categories with their article counts);
  search   /search (one French word, accent- and case-insensitive);
  ingest   one poll's storage work: the known keys of a 20-item feed with one new article,
           its republication check, and the recording.
The goal (issue 12) is flat figures, none above 50 ms at 100,000 articles.

Run: `.venv/bin/python bench/history.py [--sizes 1000 10000 100000] [--engines sqlite postgres]`.
`--quick` (what `make bench` runs): 1,000 and 10,000 on SQLite. PostgreSQL is at
RELAIS_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/test), each run in a
schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.cli import status_data
from bot.delivery.next_post import Step
from bot.feeds.identity import article_key, canonical_url, normalise_title
from bot.models import Article, DeliveryState, NewArticle
from bot.settings import settings_from_mapping
from bot.storage.store import ReaderStore, Storage
from bot.telegram_bot.search import search_text, topic_key

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CATEGORIES = ("Politique", "Sécurité", "Économie", "Société", "Sport", "Culture", "Santé")
WORDS = ("sécurité", "élections", "récolte", "hivernage", "enseignants", "transport", "santé")
CHANNELS = ("tg-main", "fb-page")
BATCH = 500
BACKLOG = 20  # articles whose deliveries are still queued
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def article(n: int) -> Article:
    url = f"https://sahel-actu.example/2026/{n % 12 + 1:02d}/article-{n}/"
    canon = canonical_url(url)
    word = WORDS[n % len(WORDS)]
    return Article(
        feed_id=f"feed{n % 10}",
        key=article_key(canon),
        guid=f"https://sahel-actu.example/?p={n}",
        url=url,
        canonical_url=canon,
        title=f"Article {n} : la question de la {word} au cœur des débats à Ségou",
        published=BASE - timedelta(minutes=n),
        categories=(CATEGORIES[n % len(CATEGORIES)],) if n % 3 else (),
        content_html=f"<p>Les autorités régionales ont fait le point sur la {word} mardi. "
        "Plusieurs mesures ont été annoncées pour les semaines à venir.</p>",
    )


def fill(storage: Storage, size: int) -> None:
    readers = ReaderStore(storage.db)
    for start in range(0, size, BATCH):
        batch = [article(n) for n in range(start, min(size, start + BATCH))]
        items = [
            NewArticle(a, normalise_title(a.title), [(c, None) for c in CHANNELS]) for a in batch
        ]
        storage.record(items, BASE - timedelta(days=30) + timedelta(seconds=start))
        readers.index((a.key, search_text(a)) for a in batch)
    # Every delivery is sent, long ago, but those of the last BACKLOG articles recorded: the
    # queue stays the same size whatever the history (a channel's round reads its queue).
    d = storage_table(storage, "deliveries")
    with storage.db.tx() as conn:
        last = conn.execute(sa.select(sa.func.max(d.c.id))).scalar_one()
        conn.execute(
            d.update()
            .where(d.c.id <= last - BACKLOG * len(CHANNELS))
            .values(state=DeliveryState.SENT.value, sent_at=BASE - timedelta(days=1))
        )


def storage_table(storage: Storage, name: str) -> sa.Table:
    from bot.storage import tables

    return getattr(tables, name)


def median_ms(action: Callable[[], object], repeat: int) -> float:
    action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(storage: Storage, size: int, repeat: int) -> dict[str, float]:
    settings = settings_from_mapping(
        {
            "site": {"name": "Sahel-Actu", "url": "https://sahel-actu.example"},
            "feeds": [
                {"id": f"feed{n}", "url": f"https://sahel-actu.example/{n}"} for n in range(10)
            ],
            "channels": [{"id": c, "type": "console"} for c in CHANNELS],
        },
        env={},
    )
    readers = ReaderStore(storage.db)
    now = BASE

    def round_() -> None:
        turn = storage.claim(
            "tg-main",
            now,
            day_start=now.replace(hour=0, minute=0),
            decide=lambda facts: Step("post", now, facts.items[:1]),  # the storage work only
            worker="bench",
        )
        if turn.delivery is not None:
            # back in the queue, so that every repetition claims one again
            storage.finish(turn.delivery, now, state=DeliveryState.QUEUED, due=now)

    counter = iter(range(10**9))

    def ingest() -> None:
        n = size + next(counter)
        feed = [article(n), *(article(k) for k in range(1, 20))]
        known = storage.known_keys(feed)
        fresh = [a for a in feed if a.key not in known]
        for a in fresh:
            storage.recent_title(a.feed_id, normalise_title(a.title), now - timedelta(days=7))
        items = [
            NewArticle(a, normalise_title(a.title), [(c, None) for c in CHANNELS]) for a in fresh
        ]
        storage.record(items, now)

    return {
        "round": median_ms(round_, repeat),
        "status": median_ms(lambda: status_data(settings, storage), repeat),
        "history": median_ms(lambda: storage.history(limit=20), repeat),
        "latest": median_ms(lambda: readers.latest(limit=5), repeat),
        "topics": median_ms(lambda: readers.topics(topic_key), repeat),
        "search": median_ms(lambda: readers.search(["securite"]), repeat),
        "ingest": median_ms(ingest, repeat),
    }


def open_storage(engine: str, folder: Path) -> tuple[Storage, Callable[[], None]]:
    if engine == "sqlite":
        storage = Storage.open(f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}")
        return storage, storage.close
    base = os.environ.get("RELAIS_BENCH_PG", PG_DEFAULT)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    storage = Storage.open(url.render_as_string(hide_password=False))

    def close() -> None:
        storage.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return storage, close


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    sizes, engines = ([1000, 10000], ["sqlite"]) if args.quick else (args.sizes, args.engines)
    names = ("round", "status", "history", "latest", "topics", "search", "ingest")
    print("Relais history benchmark: ms per operation (median), goal flat and ≤ 50 ms")
    print(f"{'engine':<9} {'articles':>8} " + " ".join(f"{n:>8}" for n in names))
    with tempfile.TemporaryDirectory() as folder:
        for engine in engines:
            for size in sizes:
                storage, close = open_storage(engine, Path(folder))
                try:
                    fill(storage, size)
                    figures = measure(storage, size, args.repeat)
                finally:
                    close()
                cells = " ".join(f"{figures[n]:>8.1f}" for n in names)
                print(f"{engine:<9} {size:>8} {cells}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

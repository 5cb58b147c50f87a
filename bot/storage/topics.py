"""Storage part: the site's topics (categories) with their article counts, kept as articles come."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from bot.content.text import topic_key
from bot.models import Topic
from bot.storage import rows
from bot.storage import tables as t
from bot.storage.database import Database, Part


def topic_labels(categories: Iterable[str]) -> list[tuple[str, str]]:
    """An article's topics, each once: (key, the label as this article spells it)."""
    seen: dict[str, str] = {}
    for label in categories:
        key = topic_key(label)
        if key and key not in seen:
            seen[key] = label.strip()
    return list(seen.items())


def count_topics(db: Database, conn: sa.Connection, articles: Sequence[Sequence[str]]) -> None:
    """One more article in each of its topics, for each of these articles' categories (in the
    transaction that records them): one statement, the rows in a fixed order so that two
    instances counting the same topics never wait on each other in a circle."""
    added = Counter(pair for categories in articles for pair in topic_labels(categories))
    if not added:
        return
    counts = t.topic_counts
    stmt = db.insert(counts)
    stmt = stmt.on_conflict_do_update(
        index_elements=["topic", "label"],
        set_={"articles": counts.c.articles + stmt.excluded.articles},
    )
    rows = [{"topic": k, "label": label, "articles": n} for (k, label), n in sorted(added.items())]
    conn.execute(stmt, rows)


def ranked(pairs: Iterable[tuple[str, str, int]]) -> list[Topic]:
    """(key, label, articles) per spelling → topics, most used first, each under the label
    most of its articles use."""
    totals: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for key, label, n in pairs:
        totals[key] += n
        spellings.setdefault(key, Counter())[label] += n
    return [
        Topic(key, spellings[key].most_common(1)[0][0], n)
        for key, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def recount(conn: sa.Connection) -> None:
    """Count every recorded article's topics again (the migration that creates the counts)."""
    a = t.articles
    totals: Counter[tuple[str, str]] = Counter()
    query = sa.select(a.c.categories).where(a.c.duplicate_of.is_(None))
    for (value,) in conn.execute(query):
        totals.update(topic_labels(rows.categories(value)))
    conn.execute(sa.delete(t.topic_counts))
    for (key, label), n in sorted(totals.items()):
        conn.execute(t.topic_counts.insert().values(topic=key, label=label, articles=n))


class TopicsPart(Part):
    def topics(self, fold: Callable[[str], str], *, since: datetime | None = None) -> list[Topic]:
        """The site's categories (`fold(label)` → key), most used first, with article counts.

        Read from the counts kept as articles are recorded (a small table, whatever the
        history); counted from the articles themselves only for another key or a `since`."""
        if since is None and fold is topic_key:
            c = t.topic_counts
            with self.db.tx() as conn:
                found = conn.execute(sa.select(c.c.topic, c.c.label, c.c.articles)).all()
            return ranked((str(k), str(label), int(n)) for k, label, n in found)
        a = t.articles
        query = sa.select(a.c.categories).where(a.c.duplicate_of.is_(None))
        if since is not None:
            query = query.where(a.c.first_seen >= since)
        totals: Counter[tuple[str, str]] = Counter()
        with self.db.tx() as conn:
            for (value,) in conn.execute(query):
                seen: set[str] = set()
                for label in rows.categories(value):
                    key = fold(label)[: t.TOPIC_KEY_MAX]
                    if key and key not in seen:
                        seen.add(key)
                        totals[(key, label.strip())] += 1
        return ranked((key, label, n) for (key, label), n in totals.items())

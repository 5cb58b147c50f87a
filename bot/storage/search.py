"""Storage part: each article's folded words, and `/search` over them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from bot.models import Article
from bot.storage import rows
from bot.storage import tables as t
from bot.storage.database import Part, chunks


class SearchPart(Part):
    def index(self, texts: Iterable[tuple[str, str]]) -> int:
        """Store the folded search text of recorded articles (key, text); returns how many
        were new. Keys of articles that are not recorded are ignored."""
        pairs = dict(texts)
        if not pairs:
            return 0
        added = 0
        a, s = t.articles, t.article_search
        with self.db.tx() as conn:
            known: set[str] = set()
            for chunk in chunks(list(pairs)):
                known.update(conn.execute(sa.select(a.c.key).where(a.c.key.in_(chunk))).scalars())
            for key in sorted(known):
                added += len(
                    conn.execute(
                        self.db.insert(s)
                        .values(article_key=key, text=pairs[key])
                        .on_conflict_do_nothing()
                        .returning(s.c.article_key)
                    ).all()
                )
        return added

    def unindexed(self, limit: int = 200) -> list[Article]:
        """Recorded articles that have no search text yet (recorded while the bot was off, or
        before version 2 of the schema)."""
        a, s = t.articles, t.article_search
        with self.db.tx() as conn:
            found = conn.execute(
                sa.select(a)
                .select_from(a.outerjoin(s, s.c.article_key == a.c.key))
                .where(s.c.article_key.is_(None))
                .order_by(a.c.first_seen.desc())
                .limit(limit)
            ).all()
        return [rows.article(r._mapping) for r in found]

    def search(
        self, terms: Sequence[str], *, offset: int = 0, limit: int = 5
    ) -> tuple[list[Article], bool]:
        """Articles whose search text has a word starting with every term (terms already
        folded), newest first; and whether there are more after these."""
        if not terms:
            return [], False
        a, s = t.articles, t.article_search
        query = (
            sa.select(a)
            .select_from(a.join(s, s.c.article_key == a.c.key))
            .where(a.c.duplicate_of.is_(None))
        )
        for term in terms:
            # the text starts with a space and separates words by one: " term" is a word start
            query = query.where(s.c.text.contains(" " + term, autoescape=True))
        query = (
            query.order_by(sa.func.coalesce(a.c.published, a.c.first_seen).desc(), a.c.key)
            .offset(max(0, offset))
            .limit(max(0, limit) + 1)
        )
        with self.db.tx() as conn:
            found = [rows.article(r._mapping) for r in conn.execute(query)]
        return found[:limit], len(found) > limit

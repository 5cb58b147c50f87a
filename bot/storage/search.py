"""Storage part: each article's folded words, and `/search` over them."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from bot.models import Article
from bot.storage import rows
from bot.storage import tables as t
from bot.storage.database import Part, chunks

log = logging.getLogger("relais.storage")

FTS_TABLE = "article_search_fts"
"""SQLite: the FTS5 index of `article_search.text` (an external-content table, kept by triggers)."""
TRIGRAM_INDEX = "ix_article_search_trgm"
"""PostgreSQL: the pg_trgm GIN index that serves `/search`'s LIKE as it is."""

_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(text, content='article_search',"
    " content_rowid='rowid', tokenize='unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER IF NOT EXISTS article_search_ai AFTER INSERT ON article_search BEGIN"
    f" INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.rowid, new.text); END",
    f"CREATE TRIGGER IF NOT EXISTS article_search_ad AFTER DELETE ON article_search BEGIN"
    f" INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) VALUES ('delete', old.rowid, old.text);"
    " END",
    f"CREATE TRIGGER IF NOT EXISTS article_search_au AFTER UPDATE ON article_search BEGIN"
    f" INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) VALUES ('delete', old.rowid, old.text);"
    f" INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.rowid, new.text); END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)


def create_search_index(conn: sa.Connection) -> None:
    """The full-text index of the search texts, built from those already stored (a new
    database, or the migration to schema 4). The texts are folded by Relais (lower case, no
    accents), so neither engine needs to know French: SQLite's FTS5 matches word prefixes, and
    on PostgreSQL a trigram index serves the LIKE ' term' query unchanged. A PostgreSQL that
    refuses the pg_trgm extension (some managed hosts) keeps an unindexed search."""
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE_DDL:
            conn.exec_driver_sql(statement)
        return
    schema = conn.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'"
        )
    ).scalar_one_or_none()
    if schema is None:
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
            schema = "public"
        except sa.exc.DBAPIError as err:
            log.warning("search stays unindexed: the pg_trgm extension is refused (%s)", err.orig)
            return
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON article_search"
        f" USING gin (text {schema}.gin_trgm_ops)"
    )


RECENT = 500
"""/search looks among this many newest articles first (docs/design.md, "Performance: history")."""


def _fts_query(terms: Sequence[str]) -> str:
    """Every term as the start of a word: '"securite"* "bamako"*'."""
    return " ".join('"' + term.replace('"', '""') + '"*' for term in terms)


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
        self, terms: Sequence[str], *, offset: int = 0, limit: int = 5, recent: int = RECENT
    ) -> tuple[list[Article], bool]:
        """Articles whose search text has a word starting with every term (terms already
        folded), newest first; and whether there are more after these.

        Looked for first among the `recent` newest articles (an index walk that costs the same
        whatever the history): when enough of them match, they are the answer, since every
        other match is older. Otherwise (a rare word, a page far back) among all the articles
        through the full-text index, whose matches are then few to sort."""
        if not terms:
            return [], False
        offset, limit = max(0, offset), max(0, limit)
        need = offset + limit + 1
        postgres = self.db.is_postgres
        words = _term_params(terms, postgres=postgres)
        with self.db.tx() as conn:
            found: Sequence[sa.Row[Any]] = []
            if recent:
                query = _matching(len(terms), postgres=postgres, windowed=True)
                found = conn.execute(query, {**words, "need": need, "recent": recent}).all()
            if len(found) < need:
                query = _matching(len(terms), postgres=postgres, windowed=False)
                found = conn.execute(query, {**words, "need": need}).all()
        page = [rows.article(r._mapping) for r in found[offset:]]
        return page[:limit], len(page) > limit


def _term_params(terms: Sequence[str], *, postgres: bool) -> dict[str, str]:
    """The values of `_matching`'s parameters for these terms."""
    if not postgres:
        return {"query": _fts_query(terms)}
    # the text starts with a space and separates words by one: " term" is a word start
    escaped = (term.replace("/", "//").replace("%", "/%").replace("_", "/_") for term in terms)
    return {f"term{i}": f"% {term}%" for i, term in enumerate(escaped)}


@functools.lru_cache(maxsize=64)
def _matching(terms: int, *, postgres: bool, windowed: bool) -> sa.Select[Any]:
    """The first `:need` articles that match every term, newest first.

    `windowed`: among the `:recent` newest articles with a search text (a walk of
    ix_articles_newest that stops there), the match tested on those only. Otherwise among all
    the articles, the matches found first through the full-text index (a MATERIALIZED step, so
    that PostgreSQL does not walk the newest articles one by one looking for a rare word). In
    both, the order and the limit are taken on the index's columns and only the articles kept
    are read. Built once per shape: the statement and its compiled form are reused (building
    them costs more than the query)."""
    a, s = t.articles, t.article_search
    # what the match reads: the FTS rowid on SQLite, the text itself on PostgreSQL
    by: sa.ColumnElement[Any] = s.c.text if postgres else sa.literal_column("article_search.rowid")
    dated = sa.select(t.ARTICLE_DATE.label("at"), a.c.key).where(a.c.duplicate_of.is_(None))
    if windowed:
        pool = (
            dated.add_columns(by.label("by"))
            .select_from(a.join(s, s.c.article_key == a.c.key))
            .order_by(t.ARTICLE_DATE.desc(), a.c.key)
            .limit(sa.bindparam("recent", type_=sa.Integer))
            .cte("pool")
        )
        hits = sa.select(pool.c.at, pool.c.key).where(*_matches(terms, pool.c.by, pool, postgres))
    else:
        found = (
            sa.select(s.c.article_key)
            .where(*_matches(terms, by, None, postgres))
            .cte("found")
            .prefix_with("MATERIALIZED")
        )
        hits = dated.select_from(a.join(found, found.c.article_key == a.c.key))
    ranked = hits.subquery("ranked")
    top = (
        sa.select(ranked)
        .order_by(ranked.c.at.desc(), ranked.c.key)
        .limit(sa.bindparam("need", type_=sa.Integer))
        .subquery("top")
    )
    return (
        sa.select(a)
        .select_from(a.join(top, top.c.key == a.c.key))
        .order_by(top.c.at.desc(), top.c.key)
    )


def _matches(
    terms: int, by: sa.ColumnElement[Any], pool: sa.CTE | None, postgres: bool
) -> list[sa.ColumnElement[bool]]:
    """The conditions that `by` (the text on PostgreSQL, the FTS rowid on SQLite) matches every
    term (`_term_params`); FTS5 reads only the part of its lists between the pool's rowids."""
    if postgres:  # served by the trigram index
        return [by.like(sa.bindparam(f"term{i}"), escape="/") for i in range(terms)]
    fts = sa.table(FTS_TABLE, sa.column("rowid"))
    matching = sa.select(fts.c.rowid).where(
        sa.literal_column(FTS_TABLE).op("MATCH")(sa.bindparam("query", type_=sa.String))
    )
    if pool is not None:
        lowest = sa.select(sa.func.min(pool.c.by)).scalar_subquery()
        highest = sa.select(sa.func.max(pool.c.by)).scalar_subquery()
        matching = matching.where(fts.c.rowid.between(lowest, highest))
    return [by.in_(matching)]

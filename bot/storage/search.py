"""Storage part: each article's folded words, and `/search` over them."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

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
        if self.db.is_postgres:
            for term in terms:
                # the text starts with a space and separates words by one: " term" is a word
                # start (served by the trigram index)
                query = query.where(s.c.text.contains(" " + term, autoescape=True))
        else:
            matching = sa.text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :query")
            rowid: sa.ColumnClause[int] = sa.literal_column("article_search.rowid")
            query = query.where(
                rowid.in_(matching.bindparams(query=_fts_query(terms)).columns(rowid=sa.Integer))
            )
        query = (
            query.order_by(sa.func.coalesce(a.c.published, a.c.first_seen).desc(), a.c.key)
            .offset(max(0, offset))
            .limit(max(0, limit) + 1)
        )
        with self.db.tx() as conn:
            found = [rows.article(r._mapping) for r in conn.execute(query)]
        return found[:limit], len(found) > limit

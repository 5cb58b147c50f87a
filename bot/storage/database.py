"""The one database object: engine, transactions, dialect-aware inserts, the instance lock."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import sqlalchemy as sa

from bot.errors import InstanceLockedError, StorageError
from bot.storage import migrations

T = TypeVar("T")


class Database:
    """One engine and what every storage part needs from it; each `tx()` is one transaction."""

    def __init__(self, engine: sa.Engine, *, lock_file: IO[str] | None = None) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        self._lock_file = lock_file

    @classmethod
    def open(cls, url: str, *, exclusive: bool = False) -> Database:
        """Connect, migrate, and (`exclusive`, SQLite only) take the one-instance lock."""
        engine = make_engine(url, writer=exclusive)
        lock_file = None
        if exclusive and engine.dialect.name == "sqlite":
            path = _sqlite_path(engine.url)
            if path is not None:
                lock_file = _take_lock(path)
        try:
            _migrate(engine)
        except sa.exc.DBAPIError as err:
            if lock_file is not None:
                lock_file.close()
            engine.dispose()
            raise StorageError(f"cannot open the database: {_db_message(err)}") from None
        except Exception:
            if lock_file is not None:
                lock_file.close()
            engine.dispose()
            raise
        return cls(engine, lock_file=lock_file)

    def close(self) -> None:
        self.engine.dispose()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    @contextmanager
    def tx(self) -> Iterator[sa.Connection]:
        """One transaction; a driver error becomes a StorageError with its first line."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.DBAPIError as err:
            raise StorageError(f"database error: {_db_message(err)}") from None

    def insert(self, table: sa.Table) -> Any:
        """An INSERT that knows ON CONFLICT on both engines."""
        # Imported here: SQLAlchemy's PostgreSQL dialect and its drivers' modules are 2 MB
        # that an SQLite installation never needs.
        if self.is_postgres:
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)


class Part:
    """Base of the storage parts (feeds, articles, channels, readers, search): all of them work
    over one `Database`, which the composed class sets."""

    db: Database

    @property
    def engine(self) -> sa.Engine:
        return self.db.engine

    @property
    def is_postgres(self) -> bool:
        return self.db.is_postgres


def make_engine(url: str, *, writer: bool = False) -> sa.Engine:
    """An engine with the settings Relais needs (SQLite: WAL, foreign keys, busy timeout).

    `writer` (SQLite): every transaction starts with BEGIN IMMEDIATE, taking the write lock up
    front and waiting for it, so that a read-then-write transaction never fails because another
    connection wrote in between. Readers (status, history) keep plain deferred transactions.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_path(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 10})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below run the transactions
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA busy_timeout=10000")
            if path is not None:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            # IMMEDIATE takes the write lock up front (waiting for it under busy_timeout) where
            # a transaction will write after reading, e.g. two processes migrating a new file.
            immediate = writer or conn.get_execution_options().get("immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(url, pool_pre_ping=True)
    raise StorageError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def digest(text: str) -> str:
    """The 16-hex hash that long links, guids and titles are looked up by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def chunks(items: Sequence[T], size: int = 400) -> Iterator[Sequence[T]]:
    """`IN (…)` lists of a size both engines take."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sqlite_path(url: sa.URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _migrate(engine: sa.Engine, attempts: int = 20) -> None:
    """Run the migrations; on SQLite, wait out another process that is creating the same file
    (switching a new file to WAL needs an exclusive lock that the busy timeout does not cover)."""
    for attempt in range(attempts):
        try:
            with engine.connect() as conn:
                conn.execution_options(immediate=True)
                with conn.begin():
                    migrations.migrate(conn)
            return
        except sa.exc.OperationalError as err:
            if "locked" not in str(err.orig) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _db_message(err: sa.exc.DBAPIError) -> str:
    text = str(err.orig) if err.orig is not None else str(err)
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    for words, advice in _DB_ADVICE:
        if words in first.lower():
            return f"{first} ({advice})"
    return first


# What a database error asks the operator to do, by words of SQLite's message.
_DB_ADVICE = (
    ("locked", "another program holds a write lock on the SQLite file; try again"),
    (
        "disk i/o error",
        "the disk may be full or failing: free some space where the database lives (df -h), "
        "then start again; nothing sent is lost",
    ),
    (
        "disk is full",
        "the disk is full: free some space where the database lives (df -h), then start again; "
        "nothing sent is lost",
    ),
    ("readonly", "the file or its folder cannot be written: check its permissions and owner"),
    ("unable to open", "the folder does not exist or cannot be written: check the path"),
)


def _take_lock(db_path: Path) -> IO[str]:
    """The one-instance lock, beside the database file that `db_path` really names: a symlink
    to it, or another spelling of its path, finds the same lock."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path = db_path.resolve()
    lock_path = db_path.with_name(db_path.name + ".lock")
    handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise InstanceLockedError(
            f"another Relais ({holder}) is already running on {db_path}; stop it first, or use "
            "PostgreSQL (DATABASE_URL) to run several instances"
        ) from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle

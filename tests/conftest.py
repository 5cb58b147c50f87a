"""Shared fixtures: database URLs for both engines, the fake clock, the shared corpus."""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.clock import FakeClock
from tests import clock_shift

# As `relais` itself does (bot/cli.py): python-telegram-bot 22 warns on each 429 without it.
os.environ.setdefault("PTB_TIMEDELTA", "true")


def pytest_configure(config: pytest.Config) -> None:
    clock_shift.start()


def pytest_report_header(config: pytest.Config) -> str | None:
    shift = clock_shift.configured_shift()
    if shift is None:
        return None
    today = datetime.now(UTC).date()
    return f"{clock_shift.ENV}: every wall clock moved by {shift}; the suite runs on {today}"


PG_URLS = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)


def _postgres_base() -> str | None:
    configured = os.environ.get("RELAIS_TEST_POSTGRES")
    for url in (configured,) if configured else PG_URLS:
        try:
            engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
            engine.dispose()
            return url
        except sa.exc.OperationalError:
            continue
    return None


@pytest.fixture(scope="session")
def postgres_base() -> str:
    url = _postgres_base()
    if url is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432, and CI=true requires it")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    return url


@pytest.fixture
def postgres_url(postgres_base: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    with fresh_schema(postgres_base) as url:
        yield url


@contextlib.contextmanager
def fresh_schema(postgres_base: str, prefix: str = "relais_test") -> Iterator[str]:
    """A URL of `postgres_base` whose search_path is a new schema, dropped afterwards (the
    fixture above; bench/instances.py too)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(postgres_base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(postgres_base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'relais.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`relais` commands configure the root logger; give each test the one it started with."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "apscheduler")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def corpus_dir() -> Path | None:
    env = os.environ.get("RELAIS_CORPUS")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpus"
    return path if path.is_dir() else None


@pytest.fixture
def corpus() -> Path:
    path = corpus_dir()
    if path is None:
        pytest.skip("the shared corpus (../shared/corpus) is not here")
    return path

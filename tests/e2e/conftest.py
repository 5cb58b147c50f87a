"""Shared by the end-to-end tests: the demo feed served locally (configs: tests/builders.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.feed_server import FeedServer

DEMO = (Path(__file__).resolve().parents[2] / "bot" / "data" / "demo_feed.xml").read_bytes()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    """The bundled demo feed served at /feed on 127.0.0.1."""
    with FeedServer() as server:
        server.set("/feed", DEMO)
        yield server

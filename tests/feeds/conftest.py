"""The fetcher's fixtures: the fake site on 127.0.0.1 (never the internet) and a gzip bomb."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import pytest

from tests.fakes.feed_server import FeedServer


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """The fake site; stopping it cuts short the routes that wait."""
    with FeedServer() as site:
        yield site


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """About 600 KB of gzip that inflates to 200 MiB of feed-looking text."""
    block = (b"<item><title>Bamako</title></item>\n" * 30_000)[: 1 << 20]
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(block) for _ in range(200)]
    parts.append(packer.flush())
    return b"".join(parts)

"""Fixtures for the Facebook adapter tests: fake Graph API, settings, publisher, fake clock."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.clock import FakeClock
from bot.models import FacebookPost
from bot.publishers.facebook import FacebookPublisher
from bot.settings import ChannelSettings, FacebookSettings
from tests.fakes.graph_api import PAGE_ID, GraphApiServer, TokenInfo

PAGE_TOKEN = "EAAGm0PX4ZCpsBAPageTokenSecret0123456789abcdefXYZ"
ARTICLE = "https://bamada.net/2026/11/02/la-rentree-scolaire-reportee/"
# Short enough that the slow-answer tests stay fast; long enough for loopback calls.
TIMEOUT = 0.4


def link_post(link: str = ARTICLE, message: str | None = None) -> FacebookPost:
    return FacebookPost(
        endpoint="feed",
        message=message or "La rentrée scolaire reportée\n\nLe ministère a annoncé…",
        link=link,
    )


def photo_post(link: str = ARTICLE) -> FacebookPost:
    return FacebookPost(
        endpoint="photos",
        message=f"La rentrée scolaire reportée\n\nLe ministère a annoncé…\n\nLire : {link}",
        link=link,
        url="https://bamada.net/wp-content/uploads/2026/11/ecole.jpg",
    )


def channel_settings(token: str = PAGE_TOKEN, **extra: object) -> ChannelSettings:
    return ChannelSettings.model_validate(
        {"id": "fb-main", "type": "facebook", "page_id": PAGE_ID, "token": token, **extra}
    )


def formatted_chain(exc: BaseException) -> str:
    """Everything a traceback of `exc` shows, its causes and contexts included."""
    return "".join(traceback.format_exception(exc))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def graph(clock: FakeClock) -> Iterator[GraphApiServer]:
    server = GraphApiServer(tokens={PAGE_TOKEN: TokenInfo()}, now=clock.now)
    with server:
        yield server


@pytest.fixture
def fb(graph: GraphApiServer) -> FacebookSettings:
    return FacebookSettings(graph_url=graph.base_url, version="v25.0", timeout=TIMEOUT)


@pytest.fixture
async def publisher(fb: FacebookSettings, clock: FakeClock) -> AsyncIterator[FacebookPublisher]:
    pub = FacebookPublisher(channel_settings(), fb, clock=clock)
    yield pub
    await pub.aclose()

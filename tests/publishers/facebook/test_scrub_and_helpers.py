"""Token scrubbing, link comparison and the pure helpers of the Facebook adapter."""

from __future__ import annotations

import logging

import pytest

from bot.errors import AuthError, TransientError
from bot.publishers.facebook import (
    FacebookPublisher,
    GraphFailure,
    link_key,
    map_failure,
    retry_after_hint,
)
from bot.publishers.facebook.client import GraphClient
from bot.secrets import scrub
from bot.settings import FacebookSettings
from tests.fakes.graph_api import GraphApiServer, GraphError, throttling_headers
from tests.fakes.http_base import closed_port
from tests.publishers.facebook.conftest import PAGE_TOKEN, TIMEOUT, formatted_chain, link_post


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"GET /v25.0/me?access_token={PAGE_TOKEN}&fields=id",
            "GET /v25.0/me?access_token=***&fields=id",
        ),
        (f"debug_token?input_token={PAGE_TOKEN}", "debug_token?input_token=***"),
        (
            f"{{'access_token': '{PAGE_TOKEN}', 'link': 'x'}}",
            "{'access_token': '***', 'link': 'x'}",
        ),
        (f'{{"access_token":"{PAGE_TOKEN}"}}', '{"access_token":"***"}'),
        (f"le jeton {PAGE_TOKEN} est refusé", "le jeton *** est refusé"),
        ("ACCESS_TOKEN=abc|def", "ACCESS_TOKEN=***"),
        ("rien à cacher", "rien à cacher"),
    ],
)
def test_scrub(text: str, expected: str) -> None:
    assert scrub(text, [PAGE_TOKEN]) == expected


def test_scrub_removes_url_encoded_secrets() -> None:
    secret = "app|sec/ret+1"
    assert scrub("token=app%7Csec%2Fret%2B1 and app|sec/ret+1", [secret]) == "token=*** and ***"


def test_steps_placeholders_survive_scrubbing() -> None:
    from bot.publishers.facebook import TOKEN_STEPS

    assert scrub(TOKEN_STEPS) == TOKEN_STEPS


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://bamada.net/a/", "https://bamada.net/a", True),
        (
            "https://Bamada.NET/a?utm_source=facebook&utm_medium=social",
            "https://bamada.net/a",
            True,
        ),
        ("http://www.bamada.net/a", "https://bamada.net/a", True),
        ("https://bamada.net/a#comments", "https://bamada.net/a?fbclid=IwAR0x", True),
        ("https://bamada.net/%C3%A9t%C3%A9", "https://bamada.net/été", True),
        ("https://bamada.net/a?p=1", "https://bamada.net/a?p=2", False),
        ("https://bamada.net/a", "https://bamada.net/b", False),
        ("https://bamada.net/a", "https://maliweb.net/a", False),
    ],
)
def test_link_key(a: str, b: str, same: bool) -> None:
    assert (link_key(a) == link_key(b)) is same


def test_retry_after_hint() -> None:
    assert retry_after_hint(throttling_headers("1", 3)) == 180
    assert retry_after_hint(throttling_headers("1", 0)) is None
    assert retry_after_hint({"retry-after": "12"}) == 12
    assert retry_after_hint({"X-Business-Use-Case-Usage": "not json"}) is None
    assert retry_after_hint({}) is None


def test_map_failure_is_pure_and_distinguishes_reads_from_the_post() -> None:
    timeout = GraphFailure(kind="timeout", message="pas de réponse")
    kwargs = {"channel_id": "fb", "page_id": "1", "version": "v25.0"}
    assert type(map_failure(timeout, may_have_posted=False, **kwargs)) is TransientError
    assert type(map_failure(timeout, may_have_posted=True, **kwargs)).__name__ == (
        "UnknownOutcomeError"
    )


async def test_library_messages_are_scrubbed_in_the_stand_in_cause() -> None:
    """A failed GET has the token in the URL of requests' message: the cause keeps no trace."""
    fb = FacebookSettings(graph_url=f"http://127.0.0.1:{closed_port()}", timeout=TIMEOUT)
    client = GraphClient(PAGE_TOKEN, fb)
    try:
        failure = await client.call("get_object", "me", fields="id,name")
    finally:
        client.close()
    assert isinstance(failure, GraphFailure)
    assert failure.kind == "not_sent"
    assert failure.cause is not None
    text = str(failure.cause)
    assert "ConnectionError" in text
    assert "/v25.0/me" in text
    assert "access_token=***" in text
    assert PAGE_TOKEN not in text


async def test_a_graph_message_echoing_the_token_is_scrubbed(
    publisher: FacebookPublisher, graph: GraphApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    graph.script("scrape", GraphError(code=190, message=f"Malformed access token {PAGE_TOKEN}"))
    graph.script("feed", GraphError(code=190, message=f"Malformed access token {PAGE_TOKEN}"))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as caught:
        await publisher.publish(link_post())
    assert "Malformed access token ***" in str(caught.value)
    assert PAGE_TOKEN not in formatted_chain(caught.value)
    assert PAGE_TOKEN not in caplog.text

"""Every way a Graph call can fail, mapped to the error the outbox expects; no token leaks."""

from __future__ import annotations

import logging

import pytest
import requests

from bot.clock import FakeClock
from bot.errors import (
    AuthError,
    PermanentError,
    PublishError,
    TransientError,
    UnknownOutcomeError,
)
from bot.publishers.facebook import DuplicatePostError, FacebookPublisher, GraphCallError
from bot.settings import FacebookSettings
from tests.fakes.graph_api import (
    JSON_TYPE,
    PAGE_ID,
    Action,
    Delay,
    GraphApiServer,
    GraphError,
    Raw,
    Reset,
    Timer,
    TokenInfo,
    throttling_headers,
)
from tests.fakes.http_base import Unconnectable, closed_port
from tests.publishers.facebook.conftest import (
    PAGE_TOKEN,
    TIMEOUT,
    channel_settings,
    formatted_chain,
    link_post,
)

HTML_502 = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


def assert_no_token(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), formatted_chain(exc)):
        assert PAGE_TOKEN not in text
    seen: BaseException | None = exc
    while seen is not None:
        # Never the library's own exception (its message may carry the URL with the token).
        assert not isinstance(seen, requests.RequestException | KeyError)
        assert type(seen).__module__ != "facebook"
        seen = seen.__cause__ or seen.__context__


CASES: list[tuple[str, Action, type[PublishError], str]] = [
    (
        "190-expired",
        GraphError(code=190, subcode=463, message="Session has expired"),
        AuthError,
        "a expiré",
    ),
    ("190-password", GraphError(code=190, subcode=460), AuthError, "mot de passe"),
    ("190-invalid", GraphError(code=190, subcode=467), AuthError, "invalide"),
    ("190-no-subcode", GraphError(code=190), AuthError, "invalide ou a expiré"),
    ("190-checkpoint", GraphError(code=190, subcode=459), AuthError, "reconnecter"),
    ("190-role-lost", GraphError(code=190, subcode=492), AuthError, "plus de rôle"),
    ("102-session", GraphError(code=102, type="OAuthException"), AuthError, "session"),
    ("10-permission", GraphError(code=10, status=403), AuthError, "pages_manage_posts"),
    ("200-permission", GraphError(code=200, status=403), AuthError, "autorisation"),
    ("299-permission", GraphError(code=299, status=403), AuthError, "autorisation"),
    (
        "100-33-no-page",
        GraphError(code=100, subcode=33, type="GraphMethodException"),
        AuthError,
        "introuvable",
    ),
    ("2635-old-version", GraphError(code=2635), AuthError, "facebook.version"),
    ("4-app-throttle", GraphError(code=4, status=403), TransientError, "limite"),
    ("17-user-throttle", GraphError(code=17, status=403), TransientError, "limite"),
    ("32-page-throttle", GraphError(code=32, status=403), TransientError, "limite"),
    ("613-rate", GraphError(code=613, status=403), TransientError, "limite"),
    ("80001-page-buc", GraphError(code=80001, status=403), TransientError, "limite"),
    ("1-unknown", GraphError(code=1, status=500, is_transient=False), TransientError, "temporaire"),
    ("2-service", GraphError(code=2, status=503, is_transient=True), TransientError, "temporaire"),
    ("368-policy", GraphError(code=368, message="Temporarily blocked"), PermanentError, "bloque"),
    (
        "100-param",
        GraphError(code=100, message="(#100) Invalid parameter"),
        PermanentError,
        "paramètre",
    ),
    (
        "1609005-link",
        GraphError(code=1609005, message="Error Posting Link"),
        PermanentError,
        "lien",
    ),
    ("other-transient", GraphError(code=9999, is_transient=True), TransientError, "temporaire"),
    ("other-500", GraphError(code=9999, status=500), TransientError, "temporaire"),
    ("other-400", GraphError(code=9999), PermanentError, "refusé"),
    ("502-html", Raw(502, HTML_502, "text/html; charset=utf-8"), TransientError, "HTTP 502"),
    ("503-no-type", Raw(503, b"", None), TransientError, "HTTP 503"),
    ("404-html", Raw(404, b"<html>Not found</html>", "text/html"), PermanentError, "HTTP 404"),
    # An answer 2xx that cannot be read: Facebook accepted the POST, the post probably exists.
    ("200-no-type", Raw(200, b'{"id": "1_2"}', None), UnknownOutcomeError, "illisible"),
    ("200-bad-json", Raw(200, b"{not json", JSON_TYPE), UnknownOutcomeError, "illisible"),
    ("200-html", Raw(200, b"<html>ok</html>", "text/html"), UnknownOutcomeError, "illisible"),
    ("200-no-id", Raw(200, b'{"success": true}', JSON_TYPE), UnknownOutcomeError, "identifiant"),
    # The connection broke after the POST was sent: it may have been processed.
    (
        "truncated",
        Raw(200, b'{"id": "1', JSON_TYPE, truncated=True),
        UnknownOutcomeError,
        "peut-être",
    ),
    ("reset", Reset(), UnknownOutcomeError, "peut-être"),
    ("reset-after-processing", Reset(process_first=True), UnknownOutcomeError, "peut-être"),
    ("slow-after-processing", Delay(2.0, process_first=True), UnknownOutcomeError, "peut-être"),
    ("slow", Delay(2.0), UnknownOutcomeError, "peut-être"),
]


@pytest.mark.parametrize(
    ("action", "expected", "words"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
async def test_feed_post_failure_maps_to_the_right_error(
    publisher: FacebookPublisher,
    graph: GraphApiServer,
    action: Action,
    expected: type[PublishError],
    words: str,
) -> None:
    graph.script("feed", action)
    with Timer() as timer, pytest.raises(PublishError) as caught:
        await publisher.publish(link_post())

    assert type(caught.value) is expected
    assert words in str(caught.value)
    assert_no_token(caught.value)
    assert isinstance(caught.value.__cause__, GraphCallError) or expected is UnknownOutcomeError
    # A slow answer is given up after the read timeout, not waited for.
    assert timer.elapsed < TIMEOUT * 2 + 0.5
    assert graph.requests_to("feed"), "the request reached the server"


async def test_graph_details_are_kept_for_the_admins(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    graph.script(
        "feed", GraphError(code=190, subcode=463, fbtrace_id="AXNSTEPpjX5z", message="expired")
    )
    with pytest.raises(AuthError) as caught:
        await publisher.publish(link_post())
    text = str(caught.value)
    assert "code 190/463" in text
    assert "AXNSTEPpjX5z" in text
    assert "fb-main" in text
    assert "relais check --online" in text


async def test_throttling_honours_the_time_facebook_announces(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    graph.script("feed", GraphError(code=80001, status=403, headers=throttling_headers(PAGE_ID, 7)))
    with pytest.raises(TransientError) as caught:
        await publisher.publish(link_post())
    assert caught.value.retry_after == 7 * 60


async def test_retry_after_header_is_honoured_and_absent_means_none(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    graph.script(
        "feed",
        GraphError(code=4, status=429, headers={"Retry-After": "42"}),
        GraphError(code=4, status=403),
    )
    with pytest.raises(TransientError) as first:
        await publisher.publish(link_post())
    with pytest.raises(TransientError) as second:
        await publisher.publish(link_post())
    assert first.value.retry_after == 42
    assert second.value.retry_after is None


async def test_slow_answer_after_processing_is_unknown_and_the_post_exists(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    graph.script("feed", Delay(2.0, process_first=True))
    with pytest.raises(UnknownOutcomeError):
        await publisher.publish(link_post())
    assert len(graph.posts) == 1


async def test_connection_refused_is_transient(clock: FakeClock) -> None:
    fb = FacebookSettings(graph_url=f"http://127.0.0.1:{closed_port()}", timeout=TIMEOUT)
    publisher = FacebookPublisher(channel_settings(rescrape=False), fb, clock=clock)
    try:
        with pytest.raises(PublishError) as caught:
            await publisher.publish(link_post())
    finally:
        await publisher.aclose()
    assert type(caught.value) is TransientError
    assert_no_token(caught.value)


async def test_connect_timeout_is_transient(clock: FakeClock) -> None:
    """Nothing was sent: safe to send again, so not an unknown outcome."""
    unconnectable = Unconnectable()
    fb = FacebookSettings(graph_url=f"http://127.0.0.1:{unconnectable.port}", timeout=0.3)
    publisher = FacebookPublisher(channel_settings(rescrape=False), fb, clock=clock)
    try:
        with Timer() as timer, pytest.raises(PublishError) as caught:
            await publisher.publish(link_post())
    finally:
        await publisher.aclose()
        unconnectable.close()
    assert type(caught.value) is TransientError
    assert "connexion" in str(caught.value)
    assert timer.elapsed < 2


async def test_photo_post_errors_are_mapped_too(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    from tests.publishers.facebook.conftest import photo_post

    graph.script("photos", GraphError(code=368), Delay(2.0, process_first=True))
    with pytest.raises(PermanentError):
        await publisher.publish(photo_post())
    with pytest.raises(UnknownOutcomeError):
        await publisher.publish(photo_post())


@pytest.mark.parametrize(
    ("token_info", "words"),
    [
        (TokenInfo(invalid_subcode=463), "a expiré"),
        (TokenInfo(invalid_subcode=460), "mot de passe"),
        (TokenInfo(type="USER", name="Awa Traoré"), "autorisation"),
        (TokenInfo(scopes=("pages_manage_posts",)), "autorisation"),
    ],
    ids=["expired", "password-changed", "user-token", "missing-permission"],
)
async def test_real_token_problems_pause_the_channel(
    graph: GraphApiServer,
    fb: FacebookSettings,
    clock: FakeClock,
    token_info: TokenInfo,
    words: str,
) -> None:
    graph.tokens[PAGE_TOKEN] = token_info
    publisher = FacebookPublisher(channel_settings(rescrape=False), fb, clock=clock)
    try:
        with pytest.raises(AuthError, match=words) as caught:
            await publisher.publish(link_post())
    finally:
        await publisher.aclose()
    assert_no_token(caught.value)
    assert graph.posts == []


async def test_unknown_token_is_an_auth_error(
    graph: GraphApiServer, fb: FacebookSettings, clock: FakeClock
) -> None:
    publisher = FacebookPublisher(channel_settings(token="EAAGnotAKnownToken999"), fb, clock=clock)
    try:
        with pytest.raises(AuthError, match="invalide"):
            await publisher.publish(link_post())
    finally:
        await publisher.aclose()


async def test_no_token_in_logs_or_tracebacks(
    publisher: FacebookPublisher, graph: GraphApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The token is in GET URLs (reconcile) and POST bodies; none of it may reach the logs."""
    caplog.set_level(logging.DEBUG)  # urllib3 logs every request URL at DEBUG
    log = logging.getLogger("relais.test")
    graph.script("feed", Delay(2.0))
    graph.script("published_posts", Reset())
    graph.add_post(message="autre", link="https://bamada.net/autre")
    errors: list[str] = []
    for _ in range(2):
        try:
            await publisher.publish(link_post())
        except PublishError as err:
            log.exception("publication impossible")
            errors.append(str(err))
    await publisher.reconcile(link_post(), publisher._clock.now())  # a Reset: CANNOT_TELL
    await publisher.reconcile(link_post(), publisher._clock.now())  # GET with the token in URL

    assert errors, "the scripted failures happened"
    assert "published_posts" in caplog.text, "urllib3 DEBUG lines were captured"
    assert "access_token=***" in caplog.text
    assert "GraphCallError" in caplog.text, "the cause chain was logged"
    assert PAGE_TOKEN not in caplog.text
    for record in caplog.records:
        assert PAGE_TOKEN not in record.getMessage()
    assert all(PAGE_TOKEN not in e for e in errors)


async def test_duplicate_without_a_matching_post_is_permanent(
    publisher: FacebookPublisher, graph: GraphApiServer
) -> None:
    graph.script("feed", GraphError(code=506, message="(#506) Duplicate status message"))
    with pytest.raises(DuplicatePostError) as caught:
        await publisher.publish(link_post())
    assert isinstance(caught.value, PermanentError)
    assert_no_token(caught.value)

"""The fetcher against a real HTTP server on 127.0.0.1: caching, redirects, errors, size caps."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.errors import FeedError, NotAFeedError
from bot.feeds.fetch import (
    DEFAULT_MAX_BYTES,
    FeedHTTPError,
    Fetcher,
    connection_header,
    decompress_capped,
)
from bot.feeds.parse import parse_feed
from tests.fakes.feed_server import FeedServer, Handler

FEED = (Path(__file__).parent / "data" / "djoliba_wordpress.xml").read_bytes()
ETAG = '"djoliba-v1"'
LAST_MODIFIED = "Mon, 06 May 2024 09:12:44 GMT"


def serve_feed(server: FeedServer, path: str = "/feed/") -> None:
    @server.route(path)
    def feed(handler: Handler) -> None:
        if handler.headers.get("If-None-Match") == ETAG:
            handler.reply(304, content_type=None, headers={"ETag": ETAG}, length=False)
            return
        handler.reply(200, FEED, headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})


def redirect(server: FeedServer, path: str, status: int, target: str | None) -> None:
    @server.route(path)
    def moved(handler: Handler) -> None:
        headers = {"Location": target} if target else {}
        handler.reply(status, b"<html><body>Moved</body></html>", "text/html", headers)


@pytest.fixture
async def fetcher() -> Iterator[Fetcher]:
    async with Fetcher(read_timeout=5, deadline=10) as fetcher:
        yield fetcher  # type: ignore[misc]


# --- Success and conditional GET -------------------------------------------------------------


async def test_fetch_returns_the_body_and_sends_feed_headers(
    server: FeedServer, fetcher: Fetcher
) -> None:
    serve_feed(server)
    result = await fetcher.fetch(server.url("/feed/"))
    assert result.status == "ok"
    assert result.body == FEED
    assert result.content_type == "application/rss+xml; charset=UTF-8"
    assert result.etag == ETAG
    assert result.last_modified == LAST_MODIFIED
    assert result.final_url == server.url("/feed/")
    assert result.permanent_redirect is None
    assert 0 <= result.elapsed < 5
    (request,) = server.seen("/feed/")
    assert request.headers["user-agent"].startswith("Relais/")
    assert "application/rss+xml" in request.headers["accept"]
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in request.headers
    assert "if-modified-since" not in request.headers


async def test_etag_and_last_modified_round_trip_to_304(
    server: FeedServer, fetcher: Fetcher
) -> None:
    serve_feed(server)
    first = await fetcher.fetch(server.url("/feed/"))
    second = await fetcher.fetch(
        server.url("/feed/"), etag=first.etag, last_modified=first.last_modified
    )
    assert second.status == "not_modified"
    assert second.body == b""
    assert second.etag == ETAG
    assert second.last_modified == LAST_MODIFIED  # kept from the request when not resent
    request = server.seen("/feed/")[1]
    assert request.headers["if-none-match"] == ETAG
    assert request.headers["if-modified-since"] == LAST_MODIFIED


async def test_stale_etag_gets_the_new_body(server: FeedServer, fetcher: Fetcher) -> None:
    serve_feed(server)
    result = await fetcher.fetch(server.url("/feed/"), etag='"old"')
    assert result.status == "ok"
    assert result.body == FEED


async def test_custom_user_agent(server: FeedServer) -> None:
    serve_feed(server)
    agent = "Relais/0.1 (+https://journaldudjoliba.example/relais; news syndication bot)"
    async with Fetcher(user_agent=agent) as fetcher:
        await fetcher.fetch(server.url("/feed/"))
    assert server.seen("/feed/")[0].headers["user-agent"] == agent


async def test_fetched_bytes_parse_into_articles(server: FeedServer, fetcher: Fetcher) -> None:
    serve_feed(server)
    result = await fetcher.fetch(server.url("/feed/"))
    feed = await asyncio.to_thread(
        parse_feed,
        result.body,
        feed_id="djoliba",
        content_type=result.content_type,
        base_url=result.final_url,
    )
    assert len(feed.articles) == 6


async def test_html_page_is_fetched_then_refused_by_the_parser(
    server: FeedServer, fetcher: Fetcher
) -> None:
    @server.route("/feed/")
    def page(handler: Handler) -> None:
        body = b"<!DOCTYPE html><html><head><title>Accueil</title></head><body></body></html>"
        handler.reply(200, body, "text/html; charset=UTF-8")

    result = await fetcher.fetch(server.url("/feed/"))
    with pytest.raises(NotAFeedError, match="this is an HTML page, not an RSS or Atom feed"):
        parse_feed(result.body, feed_id="x", content_type=result.content_type)


# --- Redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "permanent"), [(301, True), (308, True), (302, False), (303, False), (307, False)]
)
async def test_redirects_are_followed_and_only_permanent_ones_recorded(
    server: FeedServer, fetcher: Fetcher, status: int, permanent: bool
) -> None:
    serve_feed(server, "/nouveau/feed/")
    redirect(server, "/feed", status, "/nouveau/feed/")
    result = await fetcher.fetch(server.url("/feed"))
    assert result.body == FEED
    assert result.final_url == server.url("/nouveau/feed/")
    assert result.permanent_redirect == (server.url("/nouveau/feed/") if permanent else None)


async def test_permanent_then_temporary_records_the_permanent_target(
    server: FeedServer, fetcher: Fetcher
) -> None:
    serve_feed(server, "/cdn/feed/")
    redirect(server, "/feed", 301, "/feed/")
    redirect(server, "/feed/", 302, "/cdn/feed/")
    result = await fetcher.fetch(server.url("/feed"))
    assert result.final_url == server.url("/cdn/feed/")
    assert result.permanent_redirect == server.url("/feed/")


async def test_temporary_then_permanent_records_nothing(
    server: FeedServer, fetcher: Fetcher
) -> None:
    serve_feed(server, "/new/")
    redirect(server, "/feed", 302, "/moved")
    redirect(server, "/moved", 301, "/new/")
    result = await fetcher.fetch(server.url("/feed"))
    assert result.final_url == server.url("/new/")
    assert result.permanent_redirect is None


async def test_redirect_loop_is_a_feed_error(server: FeedServer) -> None:
    redirect(server, "/a", 302, "/b")
    redirect(server, "/b", 302, "/a")
    async with Fetcher(max_redirects=4) as fetcher:
        with pytest.raises(FeedError) as caught:
            await fetcher.fetch(server.url("/a"))
    assert str(caught.value) == f"too many redirects (more than 4) from {server.url('/a')}"
    assert len(server.requests) == 5


async def test_redirect_without_location(server: FeedServer, fetcher: Fetcher) -> None:
    redirect(server, "/feed", 301, None)
    with pytest.raises(FeedHTTPError) as caught:
        await fetcher.fetch(server.url("/feed"))
    assert str(caught.value) == (
        f"HTTP 301 Moved Permanently (a redirect without a Location) for {server.url('/feed')}"
    )


# --- HTTP errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retry_after", "expected_message", "expected_retry"),
    [
        (404, None, "HTTP 404 Not Found", None),
        (410, None, "HTTP 410 Gone", None),
        (500, None, "HTTP 500 Internal Server Error", None),
        (503, "120", "HTTP 503 Service Unavailable", 120.0),
        (429, "Mon, 06 May 2024 09:15:00 GMT", "HTTP 429 Too Many Requests", 180.0),
        (599, None, "HTTP 599 (unknown status)", None),
    ],
)
async def test_error_statuses(
    server: FeedServer,
    fetcher: Fetcher,
    status: int,
    retry_after: str | None,
    expected_message: str,
    expected_retry: float | None,
) -> None:
    @server.route("/feed/")
    def fail(handler: Handler) -> None:
        headers = {"Date": "Mon, 06 May 2024 09:12:00 GMT"}
        if retry_after:
            headers["Retry-After"] = retry_after
        handler.reply(status, b"<html>Erreur</html>", "text/html", headers)

    with pytest.raises(FeedHTTPError) as caught:
        await fetcher.fetch(server.url("/feed/"))
    assert str(caught.value) == f"{expected_message} for {server.url('/feed/')}"
    assert caught.value.status == status
    assert caught.value.retry_after == expected_retry


async def test_credentials_and_tokens_never_appear_in_messages(
    server: FeedServer, fetcher: Fetcher
) -> None:
    url = server.url("/prive/feed?token=s3cr3t-t0ken&lang=fr").replace(
        "http://", "http://redaction:MotDePasse@"
    )
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(url)
    message = str(caught.value)
    assert message == f"HTTP 404 Not Found for {server.url('/prive/feed?token=***&lang=fr')}"
    # no chained httpx exception (whose request holds the full URL) to leak through a traceback
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


# --- Network failures ------------------------------------------------------------------------


async def test_slow_server_hits_the_read_timeout(server: FeedServer) -> None:
    @server.route("/feed/")
    def slow(handler: Handler) -> None:
        handler.wait(5)
        handler.reply(200, FEED)

    started = time.monotonic()
    async with Fetcher(read_timeout=0.2) as fetcher:
        with pytest.raises(FeedError) as caught:
            await fetcher.fetch(server.url("/feed/"))
    assert time.monotonic() - started < 2
    assert str(caught.value) == (
        f"127.0.0.1 stopped sending data (nothing for 0.2 s): {server.url('/feed/')}"
    )


async def test_trickling_server_hits_the_total_deadline(server: FeedServer) -> None:
    @server.route("/feed/")
    def trickle(handler: Handler) -> None:
        handler.send_response(200)
        handler.end_headers()
        for _ in range(200):
            handler.wfile.write(b"<")
            handler.wfile.flush()
            handler.wait(0.02)

    started = time.monotonic()
    async with Fetcher(read_timeout=1, deadline=0.3) as fetcher:
        with pytest.raises(FeedError) as caught:
            await fetcher.fetch(server.url("/feed/"))
    assert time.monotonic() - started < 2
    assert str(caught.value) == f"no complete answer within 0.3 s from {server.url('/feed/')}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_connection_refused(fetcher: Fetcher) -> None:
    url = f"http://127.0.0.1:{free_port()}/feed/"
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(url)
    assert str(caught.value) == f"connection refused by 127.0.0.1: {url}"


async def test_tls_failure(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.url("/feed/").replace("http://", "https://")  # TLS to a plain HTTP server
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(url)
    assert str(caught.value).startswith("TLS handshake with 127.0.0.1 failed (")
    assert str(caught.value).endswith(f"): {url}")


async def test_dns_failure() -> None:
    def no_such_host(request: httpx.Request) -> httpx.Response:
        error = httpx.ConnectError("[Errno -2] Name or service not known", request=request)
        raise error from socket.gaierror(-2, "Name or service not known")

    async with httpx.AsyncClient(transport=httpx.MockTransport(no_such_host)) as client:
        fetcher = Fetcher(client)
        with pytest.raises(FeedError) as caught:
            await fetcher.fetch("https://flux.introuvable.example/feed/")
    assert str(caught.value) == (
        "DNS lookup failed for flux.introuvable.example (no such host, or no network): "
        "https://flux.introuvable.example/feed/"
    )


async def test_server_that_does_not_speak_http(fetcher: Fetcher) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def answer() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(4096)
            connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    thread = threading.Thread(target=answer)
    thread.start()
    try:
        with pytest.raises(FeedError) as caught:
            await fetcher.fetch(f"http://127.0.0.1:{port}/feed/")
    finally:
        thread.join(5)
        listener.close()
    message = str(caught.value)
    assert message.startswith("127.0.0.1 broke off the HTTP exchange (")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "ftp://journaldudjoliba.example/feed.xml",
            "unsupported address 'ftp://journaldudjoliba"
            ".example/feed.xml': use http(s):// or a local file",
        ),
        ("http://[::1/feed", "invalid URL http://[::1/feed"),
    ],
)
async def test_unusable_addresses(fetcher: Fetcher, url: str, message: str) -> None:
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(url)
    assert str(caught.value).startswith(message)


# --- Size caps and compression -----------------------------------------------------------------


async def test_gzip_bomb_is_stopped_early_with_little_memory(
    server: FeedServer, fetcher: Fetcher, gzip_bomb: bytes
) -> None:
    @server.route("/feed/")
    def bomb(handler: Handler) -> None:
        handler.reply(200, gzip_bomb, headers={"Content-Encoding": "gzip"})

    assert 400_000 < len(gzip_bomb) < 1_500_000
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(FeedError) as caught:
            await fetcher.fetch(server.url("/feed/"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 3
    assert peak < 4 * DEFAULT_MAX_BYTES  # far from the 200 MiB it would inflate to
    assert str(caught.value) == (
        f"the feed is larger than 5 MiB (once decompressed): {server.url('/feed/')}"
    )


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "deflate-raw"])
async def test_compressed_feed_is_decompressed(
    server: FeedServer, fetcher: Fetcher, coding: str
) -> None:
    if coding == "deflate-raw":
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        body, header = packer.compress(FEED) + packer.flush(), "deflate"
    elif coding == "deflate":
        body, header = zlib.compress(FEED), "deflate"
    else:
        body, header = gzip.compress(FEED), coding

    @server.route("/feed/")
    def packed(handler: Handler) -> None:
        handler.reply(200, body, headers={"Content-Encoding": header})

    result = await fetcher.fetch(server.url("/feed/"))
    assert result.body == FEED


async def test_unsupported_content_encoding(server: FeedServer, fetcher: Fetcher) -> None:
    @server.route("/feed/")
    def brotli(handler: Handler) -> None:
        handler.reply(200, b"\x0b\x02\x80", headers={"Content-Encoding": "br"})

    with pytest.raises(FeedError, match="unsupported Content-Encoding 'br'"):
        await fetcher.fetch(server.url("/feed/"))


async def test_corrupt_gzip(server: FeedServer, fetcher: Fetcher) -> None:
    @server.route("/feed/")
    def corrupt(handler: Handler) -> None:
        handler.reply(200, b"this is not gzip at all", headers={"Content-Encoding": "gzip"})

    with pytest.raises(FeedError, match=r"^the body is not valid gzip \("):
        await fetcher.fetch(server.url("/feed/"))


@pytest.mark.parametrize("declared_length", [True, False])
async def test_body_over_the_cap_without_compression(
    server: FeedServer, fetcher: Fetcher, declared_length: bool
) -> None:
    big = b"<rss>" + b"x" * 1_000_000

    @server.route("/feed/")
    def huge(handler: Handler) -> None:
        handler.reply(200, big, length=declared_length)

    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(server.url("/feed/"), max_bytes=100_000)
    assert str(caught.value) == (
        f"the feed is larger than 100000 bytes (once decompressed): {server.url('/feed/')}"
    )


async def test_body_exactly_at_the_cap_is_accepted(server: FeedServer, fetcher: Fetcher) -> None:
    @server.route("/feed/")
    def exact(handler: Handler) -> None:
        handler.reply(200, FEED, length=False)

    result = await fetcher.fetch(server.url("/feed/"), max_bytes=len(FEED))
    assert result.body == FEED
    with pytest.raises(FeedError, match="larger than"):
        await fetcher.fetch(server.url("/feed/"), max_bytes=len(FEED) - 1)


def test_decompress_capped_handles_several_gzip_members_and_the_cap() -> None:
    assert decompress_capped(gzip.compress(b"un ") + gzip.compress(b"deux"), "gzip", 100) == (
        b"un deux"
    )
    with pytest.raises(ValueError, match="more than 10 bytes"):
        decompress_capped(gzip.compress(b"x" * 11), "gzip", 10)
    assert decompress_capped(gzip.compress(b"x" * 10), "gzip", 10) == b"x" * 10


# --- Concurrency and the client's life cycle ----------------------------------------------------


async def test_no_more_than_max_concurrency_fetches_at_once(server: FeedServer) -> None:
    @server.route("/feed/")
    def slowish(handler: Handler) -> None:
        handler.wait(0.1)
        handler.reply(200, FEED)

    async with Fetcher(max_concurrency=2) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(server.url("/feed/")) for _ in range(6)))
    assert all(result.body == FEED for result in results)
    assert server.max_active == 2


async def test_no_more_than_per_host_fetches_to_one_host(server: FeedServer) -> None:
    @server.route("/feed/")
    def slowish(handler: Handler) -> None:
        handler.wait(0.1)
        handler.reply(200, FEED)

    async with Fetcher(max_concurrency=10, per_host=3) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(server.url("/feed/")) for _ in range(9)))
        pool = fetcher.client._transport._pool  # type: ignore[attr-defined]
        assert pool._max_connections == 10 and pool._max_keepalive_connections == 10
    assert all(result.body == FEED for result in results)
    assert server.max_active == 3


@pytest.mark.parametrize(
    ("fetches_to_host", "headers"),
    [(1, {"Connection": "close"}), (2, {}), (500, {})],
)
def test_a_connection_is_kept_only_for_another_fetch_to_its_host(
    fetches_to_host: int, headers: dict[str, str]
) -> None:
    assert connection_header(fetches_to_host) == headers


async def test_a_burst_to_one_host_keeps_its_connection_and_the_last_fetch_closes_it(
    server: FeedServer,
) -> None:
    serve_feed(server)
    async with Fetcher(per_host=1) as fetcher:
        # The first starts alone (the others are not there yet), the next two have followers.
        await asyncio.gather(*(fetcher.fetch(server.url("/feed/")) for _ in range(4)))
        assert fetcher._hosts == {}  # nothing kept per host once its fetches end
    assert [h.get("Connection") for h in server.hits("/feed/")] == [
        "close",
        "keep-alive",
        "keep-alive",
        "close",
    ]


async def test_injected_client_is_left_open_own_client_is_closed(server: FeedServer) -> None:
    serve_feed(server)
    async with httpx.AsyncClient() as client:
        fetcher = Fetcher(client)
        await fetcher.fetch(server.url("/feed/"))
        await fetcher.aclose()
        assert not client.is_closed
    own = Fetcher()
    await own.fetch(server.url("/feed/"))
    made = own.client
    await own.aclose()
    assert made.is_closed
    # Used again (a poll loop that stopped, then `run --once`): a new client, not a closed one.
    report = await own.fetch(server.url("/feed/"))
    assert report.status == "ok" and own.client is not made
    await own.aclose()


def test_max_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Fetcher(max_concurrency=0)


# --- Local files -----------------------------------------------------------------------------


async def test_local_path_is_read(
    tmp_path: Path, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "feed.xml").write_bytes(FEED)
    monkeypatch.chdir(tmp_path)
    result = await fetcher.fetch("./feed.xml")
    assert result.status == "ok"
    assert result.body == FEED
    assert result.final_url == (tmp_path / "feed.xml").resolve().as_uri()
    assert result.etag is None
    assert result.permanent_redirect is None


async def test_file_url_and_gzip_file(tmp_path: Path, fetcher: Fetcher) -> None:
    plain = tmp_path / "flux.xml"
    plain.write_bytes(FEED)
    packed = tmp_path / "flux.xml.gz"
    packed.write_bytes(gzip.compress(FEED))
    assert (await fetcher.fetch(plain.as_uri())).body == FEED
    assert (await fetcher.fetch(str(packed))).body == FEED


async def test_local_file_errors(tmp_path: Path, fetcher: Fetcher, gzip_bomb: bytes) -> None:
    (tmp_path / "bombe.xml.gz").write_bytes(gzip_bomb)
    (tmp_path / "gros.xml").write_bytes(b"x" * 2000)
    cases = {
        str(tmp_path / "absent.xml"): f"no such file: {tmp_path / 'absent.xml'}",
        str(tmp_path): f"{tmp_path} is a directory, not a feed file",
        str(tmp_path / "bombe.xml.gz"): (
            f"{tmp_path / 'bombe.xml.gz'} is larger than 5 MiB (once decompressed)"
        ),
    }
    for source, message in cases.items():
        with pytest.raises(FeedError) as caught:
            await fetcher.fetch(source)
        assert str(caught.value) == message
    with pytest.raises(FeedError, match="larger than 1000 bytes"):
        await fetcher.fetch(str(tmp_path / "gros.xml"), max_bytes=1000)

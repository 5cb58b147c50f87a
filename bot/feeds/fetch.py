"""Fetch a feed's bytes over HTTP (or from a local file): timeouts, size cap, conditional GET."""

from __future__ import annotations

import asyncio
import errno
import re
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from bot import USER_AGENT
from bot.errors import FeedError
from bot.feeds.address_policy import (
    Resolver,
    on_private_space,
    redirect_refusal,
    system_resolver,
)
from bot.feeds.identity import Origin, redact_url, site_host, url_origin
from bot.feeds.parse import ParsedFeed, parse_feed

__all__ = [
    "ACCEPT",
    "DEFAULT_MAX_BYTES",
    "FeedHTTPError",
    "FetchResult",
    "Fetcher",
    "connection_header",
    "decompress_capped",
    "fetch_and_parse",
    "parse_fetched",
]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, application/json;q=0.5, */*;q=0.1"
)
# Only what we decode ourselves (with a cap on the decompressed size): no br, no zstd.
ACCEPT_ENCODING = "gzip, deflate"
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})


@dataclass(slots=True)
class _Host:
    """One host's fetches: its slots (`per_host`), and how many fetches hold or wait for one.
    Dropped when the last one ends, so ten thousand hosts polled once leave nothing behind."""

    slots: asyncio.Semaphore
    fetches: int = 0


def connection_header(fetches_to_host: int) -> dict[str, str]:
    """Keep the connection open only for another fetch to the same host, already waiting.

    A feed poller reaches most hosts once per interval: a connection it keeps outlives its use
    (httpx expires it after 5 s), and the pool walks every idle connection on every request
    (64 kept alive to 10,000 hosts cost 1.5 ms a poll). A site whose feeds are polled together
    keeps its connections for them; the last of them asks the server to close.
    """
    return {} if fetches_to_host > 1 else {"Connection": "close"}


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch brought back. `body` is decompressed and empty when not modified."""

    status: Literal["ok", "not_modified"]
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    final_url: str
    permanent_redirect: str | None
    """The URL to store instead of the configured one: the chain began with 301/308."""
    elapsed: float
    """Seconds, from the request to the end of the body."""


class FeedHTTPError(FeedError):
    """The server answered with an error status (4xx, 5xx, or a 3xx that leads nowhere)."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class _TooLarge(Exception):
    pass


class _CappedDecoder:
    """Decompresses gzip/deflate chunk by chunk and stops as soon as the output passes `limit`.

    httpx's own decoders inflate a whole network chunk at once (a 64 KiB chunk of a gzip bomb
    is 64 MiB); here `max_length` bounds every step, so memory stays near `limit`.
    """

    def __init__(self, coding: str | None, limit: int) -> None:
        self._coding = coding
        self._limit = limit
        self._size = 0
        self._parts: list[bytes] = []
        self._raw_deflate_tried = False
        self._inflater = self._new_inflater()

    def _new_inflater(self) -> zlib._Decompress | None:
        if self._coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip, or zlib from a confused server
        if self._coding == "deflate":
            return zlib.decompressobj(zlib.MAX_WBITS)
        return None

    def _append(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise _TooLarge
        if data:
            self._parts.append(data)

    def feed(self, data: bytes) -> None:
        if self._inflater is None:
            self._append(data)
            return
        try:
            self._inflate(data)
        except zlib.error:
            if self._coding != "deflate" or self._size or self._raw_deflate_tried:
                raise
            # "deflate" is meant to be zlib-wrapped; some servers send it raw.
            self._raw_deflate_tried = True
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            self._inflate(data)

    def _inflate(self, data: bytes) -> None:
        inflater = self._inflater
        while data and inflater is not None:
            self._append(inflater.decompress(data, self._limit - self._size + 1))
            data = inflater.unconsumed_tail
            if inflater.eof:
                rest = inflater.unused_data
                if not rest.strip(b"\x00") or self._coding == "deflate":
                    return
                inflater = self._inflater = self._new_inflater()  # another gzip member
                data = rest

    def finish(self) -> bytes:
        if self._inflater is not None and not self._inflater.eof:
            self._append(self._inflater.flush())
        return b"".join(self._parts)


def decompress_capped(data: bytes, coding: str, limit: int) -> bytes:
    """Decompress gzip or deflate `data`; raise ValueError past `limit` bytes of output."""
    decoder = _CappedDecoder(coding, limit)
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.feed(data[start : start + _CHUNK])
        return decoder.finish()
    except _TooLarge:
        raise ValueError(f"more than {limit} bytes once decompressed") from None


def _mib(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


def _local_path(url: str) -> Path | None:
    """A path for local sources (`./feed.xml`, `/tmp/f.xml`, `file:///...`), None for http(s)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        if re.match(r"(?i)^[a-z][a-z0-9+.-]+://", text):
            raise FeedError(f"invalid URL {redact_url(text)}") from None
        return Path(text)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return None
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise FeedError(f"cannot read a file on another host: {redact_url(text)}")
        return Path(url2pathname(parts.path))
    if not scheme or len(scheme) == 1:  # a relative path, or a Windows drive letter
        return Path(text)
    raise FeedError(f"unsupported address {redact_url(text)!r}: use http(s):// or a local file")


def _read_local(path: Path, limit: int) -> tuple[bytes, str]:
    """The decompressed content of a local feed file, and its file:// URL."""
    try:
        with path.open("rb") as handle:
            first = handle.read(_CHUNK)
            gzipped = path.suffix.lower() == ".gz" or first[:2] == b"\x1f\x8b"
            decoder = _CappedDecoder("gzip" if gzipped else None, limit)
            chunk = first
            while chunk:
                decoder.feed(chunk)
                chunk = handle.read(_CHUNK)
            return decoder.finish(), path.resolve().as_uri()
    except FileNotFoundError:
        raise FeedError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise FeedError(f"{path} is a directory, not a feed file") from None
    except PermissionError:
        raise FeedError(f"permission denied reading {path}") from None
    except _TooLarge:
        raise FeedError(f"{path} is larger than {_mib(limit)} (once decompressed)") from None
    except zlib.error as err:
        raise FeedError(f"{path} is not valid gzip ({err})") from None
    except OSError as err:
        raise FeedError(f"cannot read {path}: {err.strerror or err}") from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        date = parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None or date.tzinfo is None:
        when, date = when.replace(tzinfo=UTC), date.replace(tzinfo=UTC)
    return max(0.0, (when - date).total_seconds())


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "(unknown status)"


def _causes(err: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _first_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text[:160] or type(err).__name__


DEFAULT_CONCURRENCY = 64
"""Fetches at once (`fetch.concurrency`): at a 100 ms round trip, 64 keep 250 polls a second."""
DEFAULT_PER_HOST = 8
"""Fetches at once to one host (`fetch.per_host`): 500 feeds of one site share 8 connections."""


class Fetcher:
    """Fetches feeds with httpx, never more than `max_concurrency` at a time, and never more
    than `per_host` at a time to one host. The HTTP client's connection pool is sized to match:
    past the pool, fetches would queue inside httpx with their deadline running.

    Timeouts: `connect_timeout` to connect, `read_timeout` between two pieces of the answer,
    and `deadline` for the whole fetch, redirects and body included (an injected client keeps
    its own connect/read timeouts; the deadline always applies).
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        user_agent: str = USER_AGENT,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        per_host: int = DEFAULT_PER_HOST,
        connect_timeout: float = 10.0,
        read_timeout: float = 20.0,
        deadline: float = 60.0,
        max_redirects: int = 10,
        resolve: Resolver = system_resolver,
    ) -> None:
        if max_concurrency < 1 or per_host < 1:
            raise ValueError("max_concurrency and per_host must be at least 1")
        self._owns_client = client is None
        self._client = client
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._user_agent = user_agent
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._limits = httpx.Limits(
            max_connections=max_concurrency, max_keepalive_connections=max_concurrency
        )
        self._per_host = per_host
        self._hosts: dict[str, _Host] = {}
        self._deadline = deadline
        self._max_redirects = max_redirects
        self._resolve = resolve

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this fetcher made it (an injected one is the caller's)."""
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None  # made again if used again
            await client.aclose()

    @property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client, made on first use (reading local files needs none)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                headers={"User-Agent": self._user_agent},
                limits=self._limits,
            )
        return self._client

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        origins: Collection[Origin] | None = None,
    ) -> FetchResult:
        """GET a feed: the body decompressed, or `not_modified`; FeedError with one line else.

        A local path or `file://` URL is read from disk instead (same size cap; `.gz` files
        are decompressed). Error messages never show a URL's password or secret parameters.
        `origins`: the only (scheme, host, port) this fetch may reach, redirects included (no
        local files then).
        """
        path = _local_path(url)
        if path is not None:
            if origins is not None:
                raise FeedError("only web addresses of the configured sites are fetched here")
            return await self._fetch_file(path, max_bytes)
        shown = redact_url(url)
        async with self._host_turn(url) as host, self._semaphore:
            started = time.monotonic()
            try:
                async with asyncio.timeout(self._deadline):
                    return await self._fetch_http(
                        url, etag, last_modified, max_bytes, started, origins, host.fetches
                    )
            except TimeoutError:
                message = f"no complete answer within {self._deadline:g} s from {shown}"
                raise FeedError(message) from None
            except httpx.HTTPError as err:
                raise self._translate(err, shown) from None
            except (httpx.InvalidURL, ValueError) as err:
                raise FeedError(f"invalid URL {shown} ({_first_line(err)})") from None

    @asynccontextmanager
    async def _host_turn(self, url: str) -> AsyncIterator[_Host]:
        """A slot of the URL's host: its fetches wait there first, so that one big site's
        feeds never take every slot from the others."""
        name = site_host(url) or ""
        host = self._hosts.get(name)
        if host is None:
            host = self._hosts[name] = _Host(asyncio.Semaphore(self._per_host))
        host.fetches += 1
        try:
            async with host.slots:
                yield host
        finally:
            host.fetches -= 1
            if not host.fetches:
                del self._hosts[name]

    async def _fetch_file(self, path: Path, max_bytes: int) -> FetchResult:
        started = time.monotonic()
        body, final_url = await asyncio.to_thread(_read_local, path, max_bytes)
        return FetchResult(
            status="ok",
            body=body,
            content_type=None,
            etag=None,
            last_modified=None,
            final_url=final_url,
            permanent_redirect=None,
            elapsed=time.monotonic() - started,
        )

    async def _fetch_http(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        max_bytes: int,
        started: float,
        origins: Collection[Origin] | None,
        fetches_to_host: int,
    ) -> FetchResult:
        headers = {
            "User-Agent": self._user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
            **connection_header(fetches_to_host),
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        client = self.client
        request = client.build_request("GET", url, headers=headers)
        permanent: str | None = None
        all_permanent = True
        for hop in range(self._max_redirects + 1):
            if origins is not None and url_origin(str(request.url)) not in origins:
                where = site_host(str(request.url)) or "?"
                raise FeedError(f"refused to fetch from {where}: not a configured site's address")
            if hop:
                await self._refuse_private_redirect(url, request.url)
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                status = response.status_code
                if status in _REDIRECTS and response.next_request is not None:
                    # Only a chain of permanent redirects from the start moves the feed.
                    all_permanent = all_permanent and status in _PERMANENT
                    request = response.next_request
                    if all_permanent:
                        permanent = str(request.url)
                    continue
                return await self._read(
                    response, etag, last_modified, max_bytes, permanent, started
                )
            finally:
                await response.aclose()
        raise FeedError(
            f"too many redirects (more than {self._max_redirects}) from {redact_url(url)}"
        )

    async def _refuse_private_redirect(self, origin_url: str, target: httpx.URL) -> None:
        """Before connecting: a redirect from a feed on a public address into private space
        (loopback, 10/8, link-local and the cloud's metadata…) is a FeedError."""
        origin = await self._resolve(urlsplit(origin_url).hostname or "")
        if on_private_space(origin):
            return  # an intranet's feed, a test server: its redirects are its own business
        refusal = redirect_refusal(origin, await self._resolve(target.host))
        if refusal is not None:
            raise FeedError(
                f"refused to follow a redirect into private address space ({refusal}) at "
                f"{target.host or '?'}: the feed is on a public address"
            )

    async def _read(
        self,
        response: httpx.Response,
        etag: str | None,
        last_modified: str | None,
        max_bytes: int,
        permanent: str | None,
        started: float,
    ) -> FetchResult:
        status = response.status_code
        final_url = str(response.url)
        shown = redact_url(final_url)
        if status == 304:
            return FetchResult(
                status="not_modified",
                body=b"",
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag") or etag,
                last_modified=response.headers.get("last-modified") or last_modified,
                final_url=final_url,
                permanent_redirect=permanent,
                elapsed=time.monotonic() - started,
            )
        if not 200 <= status < 300:
            detail = " (a redirect without a Location)" if status in _REDIRECTS else ""
            raise FeedHTTPError(
                f"HTTP {status} {_reason(status)}{detail} for {shown}",
                status=status,
                retry_after=_retry_after(response),
            )
        body = await self._read_body(response, max_bytes, shown)
        return FetchResult(
            status="ok",
            body=body,
            content_type=response.headers.get("content-type"),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            final_url=final_url,
            permanent_redirect=permanent,
            elapsed=time.monotonic() - started,
        )

    async def _read_body(self, response: httpx.Response, max_bytes: int, shown: str) -> bytes:
        codings = [
            coding.strip().lower()
            for coding in response.headers.get("content-encoding", "").split(",")
            if coding.strip() and coding.strip().lower() != "identity"
        ]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FeedError(f"unsupported Content-Encoding {', '.join(codings)!r} from {shown}")
        too_large = f"the feed is larger than {_mib(max_bytes)} (once decompressed): {shown}"
        length = response.headers.get("content-length", "")
        if not codings and length.isdigit() and int(length) > max_bytes:
            raise FeedError(too_large)
        decoder = _CappedDecoder(codings[0] if codings else None, max_bytes)
        try:
            async for chunk in response.aiter_raw(_CHUNK):
                decoder.feed(chunk)
            return decoder.finish()
        except _TooLarge:
            raise FeedError(too_large) from None
        except zlib.error as err:
            raise FeedError(f"the body is not valid {codings[0]} ({err}): {shown}") from None

    def _translate(self, err: httpx.HTTPError, shown: str) -> FeedError:
        host = urlsplit(shown).hostname or shown
        timeout = self.client.timeout
        if isinstance(err, httpx.ConnectTimeout):
            return FeedError(
                f"timed out connecting to {host} (after {timeout.connect:g} s): {shown}"
            )
        if isinstance(err, httpx.ReadTimeout):
            return FeedError(
                f"{host} stopped sending data (nothing for {timeout.read:g} s): {shown}"
            )
        if isinstance(err, httpx.TimeoutException):
            return FeedError(f"timed out talking to {host}: {shown}")
        if isinstance(err, httpx.ConnectError):
            return FeedError(f"{_connect_failure(err, host)}: {shown}")
        if isinstance(err, httpx.UnsupportedProtocol):
            return FeedError(f"unsupported address (use http:// or https://): {shown}")
        if isinstance(err, httpx.RemoteProtocolError):
            return FeedError(f"{host} broke off the HTTP exchange ({_first_line(err)}): {shown}")
        return FeedError(f"network error with {host} ({_first_line(err)}): {shown}")


def _connect_failure(err: BaseException, host: str) -> str:
    """Name the cause of a failed connection: DNS, refused, TLS, unreachable."""
    causes = _causes(err)
    for cause in causes:
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup failed for {host} (no such host, or no network)"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate of {host} rejected ({cause.verify_message or 'invalid'})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake with {host} failed ({cause.reason or _first_line(cause)})"
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused by {host}"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return f"{host} is unreachable (no route to it)"
    text = " ".join(_first_line(cause) for cause in causes).lower()
    if "name or service not known" in text or "name resolution" in text or "getaddrinfo" in text:
        return f"DNS lookup failed for {host} (no such host, or no network)"
    if "ssl" in text or "certificate" in text:
        return f"TLS error with {host} ({_first_line(err)})"
    if "refused" in text:
        return f"connection refused by {host}"
    return f"could not connect to {host} ({_first_line(err)})"


def parse_result(fetched: FetchResult, feed_id: str) -> ParsedFeed:
    """Parse what was fetched (on the calling thread: see `parse_fetched`)."""
    return parse_feed(
        fetched.body,
        feed_id=feed_id,
        content_type=fetched.content_type,
        base_url=fetched.final_url,
    )


async def parse_fetched(fetched: FetchResult, feed_id: str) -> ParsedFeed:
    """Parse what was fetched, off the event loop (feedparser takes ~200 ms on a large feed)."""
    return await asyncio.to_thread(parse_result, fetched, feed_id)


async def fetch_and_parse(
    fetcher: Fetcher, source: str, feed_id: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> ParsedFeed:
    """A feed URL or a local file, fetched and parsed, with no conditional headers (previews,
    an admin's /post)."""
    return await parse_fetched(await fetcher.fetch(source, max_bytes=max_bytes), feed_id)

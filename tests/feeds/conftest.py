"""A real HTTP server on 127.0.0.1 (random port) for the fetcher's tests; no internet ever."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

Route = Callable[["Handler"], None]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]


@dataclass
class FeedServer:
    """Routes by path; records every request; `stop` cuts short the handlers that wait."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str) -> Callable[[Route], Route]:
        def register(handler: Route) -> Route:
            self.routes[path] = handler
            return handler

        return register

    def seen(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]


class Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        owner.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}))
        with owner.lock:
            owner.active += 1
            owner.max_active = max(owner.max_active, owner.active)
        try:
            route = owner.routes.get(path)
            if route is None:
                self.reply(404, b"<html><body>Introuvable</body></html>", "text/html")
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should
        finally:
            with owner.lock:
                owner.active -= 1

    def reply(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = "application/rss+xml; charset=UTF-8",
        headers: dict[str, str] | None = None,
        *,
        length: bool = True,
    ) -> None:
        if headers and "Date" in headers:
            self.send_response_only(status)  # the test's own Date header, not the real time
        else:
            self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def wait(self, seconds: float) -> None:
        self.server.owner.stop.wait(seconds)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FeedServer

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-answer is part of the tests


@pytest.fixture
def server() -> Iterator[FeedServer]:
    owner = FeedServer()
    httpd = _Server(("127.0.0.1", 0), Handler)
    httpd.owner = owner
    owner.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield owner
    finally:
        owner.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """About 600 KB of gzip that inflates to 200 MiB of feed-looking text."""
    block = (b"<item><title>Bamako</title></item>\n" * 30_000)[: 1 << 20]
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(block) for _ in range(200)]
    parts.append(packer.flush())
    return b"".join(parts)

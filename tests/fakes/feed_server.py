"""A small feed server on 127.0.0.1: serves bodies per path with ETags, redirects and failures."""

from __future__ import annotations

import hashlib
import http.server
import threading
from dataclasses import dataclass, field
from types import TracebackType


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    send_etag: bool = True  # False: a server that never sends an ETag (so never a 304)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class FeedServer:
    """`set(path, body)` publishes a feed; `fail(path, status)` makes it fail; `requests` keeps
    (path, headers) of every request. ETags derive from the body, so 304s are real."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with outer._lock:
                    outer.requests.append((self.path, dict(self.headers)))
                    route = outer.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = route.etag
                if (
                    route.send_etag
                    and route.status == 200
                    and self.headers.get("If-None-Match") == etag
                ):
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.status == 200 and route.send_etag:
                    self.send_header("ETag", etag)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return self.base + path

    def set(self, path: str, body: bytes, **kw: object) -> None:
        with self._lock:
            self.routes[path] = Route(body, **kw)  # type: ignore[arg-type]

    def fail(self, path: str, status: int, **headers: str) -> None:
        with self._lock:
            self.routes[path] = Route(b"<html>error</html>", status, "text/html", dict(headers))

    def redirect(self, path: str, target: str, status: int = 301) -> None:
        with self._lock:
            self.routes[path] = Route(b"", status, "text/html", {"Location": target})

    def hits(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [headers for p, headers in self.requests if p == path]

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()


def rss(*items: tuple[str, str, str], title: str = "Sahel-Actu") -> bytes:
    """A small WordPress-shaped RSS feed from (guid number, slug, title) triples."""
    entries = "".join(
        f"""<item><title>{t}</title>
<link>https://sahel-actu.example/2026/11/{slug}/</link>
<guid isPermaLink="false">https://sahel-actu.example/?p={n}</guid>
<pubDate>Mon, 2{int(n) % 8} Nov 2026 0{int(n) % 9}:00:00 +0000</pubDate>
<category><![CDATA[Politique]]></category>
<content:encoded><![CDATA[<p>{t}. Le conseil des ministres s’est réuni mercredi à Koulouba sous
la présidence du chef de l’État pour examiner plusieurs projets de texte.</p>]]></content:encoded>
</item>"""
        for n, slug, t in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>{title}</title><link>https://sahel-actu.example</link>
<description>Toute l’actualité</description>{entries}</channel></rss>""".encode()

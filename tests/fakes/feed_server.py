"""The fake news site on 127.0.0.1: feeds by path with real ETags, failures, redirects, and
routes a test writes itself (slow, trickling, compressed answers), on the HTTP fake base."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from tests.fakes.http_base import FakeHandler, FakeServer


@dataclass
class Route:
    """A static answer: `body` with `status`; a 200 carries an ETag derived from the body."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    send_etag: bool = True  # False: a server that never sends an ETag (so never a 304)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class Headers(dict[str, str]):
    """Request headers by lower-case name; any spelling of a name finds them."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        super().__init__((name.lower(), value) for name, value in items)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)


class Request(NamedTuple):
    """One request: its path (query included) and headers; unpacks as (path, headers)."""

    path: str
    headers: Headers


class Handler(FakeHandler):
    """What a written route gets: the request, `reply(...)`, and `wait(s)` (cut short at stop)."""

    def reply(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = "application/rss+xml; charset=UTF-8",
        headers: dict[str, str] | None = None,
        *,
        length: bool = True,
    ) -> None:
        self.send(status, body, content_type, headers, length=length)

    def wait(self, seconds: float) -> None:
        self.fake.pause(seconds)


RouteHandler = Callable[[Handler], None]


class FeedServer(FakeServer[Request, None]):
    """`set(path, body)` publishes a feed, `fail(path, status)` makes it fail, `redirect` moves
    it, `@route(path)` answers with a function of the `Handler`. `requests` keeps every request;
    `hits(path)` / `seen(path)` those of one path; `max_active` the most answered at once."""

    handler = Handler
    thread_name = "fake-site"

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, Route | RouteHandler] = {}
        self.active = 0
        self.max_active = 0

    # -- the site -------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.origin + path

    @property
    def base(self) -> str:
        return self.origin

    def set(self, path: str, body: bytes, **kw: Any) -> None:
        with self._lock:
            self.routes[path] = Route(body, **kw)

    def fail(self, path: str, status: int, **headers: str) -> None:
        with self._lock:
            self.routes[path] = Route(b"<html>error</html>", status, "text/html", dict(headers))

    def redirect(self, path: str, target: str, status: int = 301) -> None:
        with self._lock:
            self.routes[path] = Route(b"", status, "text/html", {"Location": target})

    def route(self, path: str) -> Callable[[RouteHandler], RouteHandler]:
        """Decorator: answer `path` with this function of the request's `Handler`."""

        def register(answer: RouteHandler) -> RouteHandler:
            with self._lock:
                self.routes[path] = answer
            return answer

        return register

    # -- the log --------------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        return self.logged()

    def seen(self, path: str) -> list[Request]:
        return [r for r in self.logged() if r.path == path]

    def hits(self, path: str) -> list[Headers]:
        return [r.headers for r in self.seen(path)]

    # -- serving --------------------------------------------------------------------------

    def handle(self, request: FakeHandler) -> None:
        assert isinstance(request, Handler)
        self.record(Request(request.path, Headers(request.headers.items())))
        with self._lock:
            route = self.routes.get(request.path.split("?", 1)[0])
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if route is None:
                request.reply(404, b"<html><body>Introuvable</body></html>", "text/html")
            elif isinstance(route, Route):
                _serve_static(request, route)
            else:
                route(request)
        finally:
            with self._lock:
                self.active -= 1


def _serve_static(request: Handler, route: Route) -> None:
    etag = route.etag
    tagged = route.status == 200 and route.send_etag
    if tagged and request.headers.get("If-None-Match") == etag:
        request.reply(304, content_type=None, headers={"ETag": etag}, length=False)
        return
    headers = {"ETag": etag} if tagged else {}
    request.reply(route.status, route.body, route.content_type, {**headers, **route.headers})


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

"""The one base of the HTTP fakes: a threaded server on 127.0.0.1, a call log, scripted replies.

A fake subclasses `FakeServer`, records what it was asked (`record`), and implements only its
protocol in `handle(request)`. The base starts the server on a free port, stops it cleanly
(waking any reply that waits: `pause` returns False then), keeps the log under one lock, and
queues scripted replies by key (`inject(key, reply, times, match)` / `scripted(key, params)`);
what a reply means (slow, dropped, an error status) each protocol says with the mechanics of
`FakeHandler`: `send`, `drop` and the fake's `pause`.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

CallT = TypeVar("CallT")
ReplyT = TypeVar("ReplyT")

# A scripted reply applies to the requests whose parameters match: all of them (None), those
# with these values, or those a predicate accepts.
Match = Mapping[str, Any] | Callable[[dict[str, Any]], bool]


@dataclass
class Scripted(Generic[ReplyT]):
    """A reply queued for the next `remaining` matching requests to one key."""

    reply: ReplyT
    remaining: int
    match: Match | None = None

    def matches(self, params: Mapping[str, Any]) -> bool:
        if self.match is None:
            return True
        if callable(self.match):
            return bool(self.match(dict(params)))
        return all(str(params.get(k)) == str(v) for k, v in self.match.items())


class FakeHandler(BaseHTTPRequestHandler):
    """One request: hands itself to the fake's `handle`; quiet; tolerant of clients hanging up."""

    server: _Server

    @property
    def fake(self) -> FakeServer[Any, Any]:
        return self.server.fake

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        # Clients that time out and hang up mid-answer are part of the tests.
        with contextlib.suppress(OSError):
            self.fake.handle(self)

    def read_body(self) -> bytes:
        """The request body, by Content-Length or chunked."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        length: bool | int = True,
        close: bool = False,
    ) -> None:
        """Answer. `length`: True sends the body's Content-Length, False none (the body ends
        with the connection), a number announces that many bytes (a truncated answer).
        A `Date` among `headers` replaces the server's own."""
        headers = dict(headers or {})
        if "Date" in headers:
            self.send_response_only(status)
        else:
            self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        if length is not False:
            self.send_header("Content-Length", str(len(body) if length is True else length))
        for name, value in headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def drop(self, *, reset: bool = False) -> None:
        """Close the connection without an answer; `reset`: with a TCP RST, not a FIN."""
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    fake: FakeServer[Any, Any]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # no stderr noise from clients that gave up


class FakeServer(Generic[CallT, ReplyT]):
    """Start it (`with Fake() as fake:` or `start()`), point the code under test at `origin`, then
    read the log. Subclasses implement `handle`; they may set `handler` and `poll_interval`."""

    handler: ClassVar[type[FakeHandler]] = FakeHandler
    poll_interval: ClassVar[float] = 0.02
    thread_name: ClassVar[str] = "fake-http"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._log: list[CallT] = []
        self._scripts: dict[str, list[Scripted[ReplyT]]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- the protocol ---------------------------------------------------------------------

    def handle(self, request: FakeHandler) -> None:
        raise NotImplementedError

    def on_stop(self) -> None:
        """Called when the server starts stopping: wake what waits on the fake's own state."""

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), self.handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        self.on_stop()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        """The server's root, `http://127.0.0.1:<port>` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def pause(self, seconds: float) -> bool:
        """Wait (a slow reply); returns at once, False, when the server stops meanwhile."""
        return not self._stopping.wait(seconds)

    # -- the log --------------------------------------------------------------------------

    def record(self, call: CallT) -> CallT:
        with self._lock:
            self._log.append(call)
        return call

    def logged(self) -> list[CallT]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- scripted replies -----------------------------------------------------------------

    def inject(self, key: str, reply: ReplyT, times: int = 1, match: Match | None = None) -> None:
        """Queue `reply` for the next `times` requests to `key` whose parameters match."""
        with self._lock:
            self._scripts.setdefault(key, []).append(Scripted(reply, times, match))

    def scripted(self, key: str, params: Mapping[str, Any] | None = None) -> ReplyT | None:
        """The first queued reply for this request (used up once), or None: answer normally."""
        with self._lock:
            queue = self._scripts.get(key, [])
            for entry in queue:
                if entry.matches(params or {}):
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        queue.remove(entry)
                    return entry.reply
        return None


# --------------------------------------------------------------------------- no server at all


def closed_port() -> int:
    """A port on 127.0.0.1 where nobody listens (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


class Unconnectable:
    """A listening socket whose accept queue is full: new connections hang (connect timeout).

    Linux drops the SYN when the backlog is full, so the client's connect() times out without
    any byte of the request having been sent.
    """

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.port = int(self._listener.getsockname()[1])
        self._fillers: list[socket.socket] = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self._fillers.append(filler)
        # The first filler's handshake completing is what fills the queue: wait for it.
        _, connected, _ = select.select([], self._fillers[:1], [], 5)
        if not connected:
            raise RuntimeError("the loopback handshake did not complete")

    def close(self) -> None:
        for sock in [*self._fillers, self._listener]:
            sock.close()

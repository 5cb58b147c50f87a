"""The HTTP fake base on its own: a free port, the log, scripted replies, a clean stop."""

from __future__ import annotations

import contextlib
import threading

import httpx
import pytest

from tests.fakes.http_base import FakeHandler, FakeServer, closed_port
from tests.waiting import wait_until


class Echo(FakeServer[str, int]):
    """A protocol of one line: answers the path, or a scripted status; `/slow` waits 30 s."""

    def handle(self, request: FakeHandler) -> None:
        self.record(request.path)
        status = self.scripted(request.path.split("?")[0], {"q": request.path.partition("=")[2]})
        if request.path == "/slow":
            self.pause(30)
        if status == 0:
            request.drop()
            return
        request.send(status or 200, request.path.encode(), "text/plain")


def test_two_fakes_get_two_free_ports_and_log_their_calls() -> None:
    with Echo() as one, Echo() as two:
        assert one.port != two.port
        assert httpx.get(f"{one.origin}/a").text == "/a"
        assert httpx.get(f"{two.origin}/b").text == "/b"
        assert one.logged() == ["/a"] and two.logged() == ["/b"]
        one.clear_log()
        assert one.logged() == []


@pytest.mark.parametrize(
    ("times", "match", "statuses"),
    [
        (1, None, [503, 200, 200]),
        (2, None, [503, 503, 200]),
        (5, {"q": "x"}, [503, 200, 503]),
        (5, lambda params: params["q"] == "y", [200, 503, 200]),
    ],
)
def test_a_scripted_reply_takes_the_next_matching_calls(times, match, statuses) -> None:
    with Echo() as fake:
        fake.inject("/p", 503, times, match)
        got = [httpx.get(f"{fake.origin}/p?q={q}").status_code for q in ("x", "y", "x")]
    assert got == statuses


def test_a_dropped_answer_closes_the_connection() -> None:
    with Echo() as fake:
        fake.inject("/p", 0)
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{fake.origin}/p")


def test_stop_cuts_a_slow_reply_short_and_frees_the_port() -> None:
    fake = Echo().start()
    port = fake.port
    answered = threading.Event()

    def call() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{fake.origin}/slow", timeout=60)
        answered.set()

    caller = threading.Thread(target=call)
    caller.start()
    wait_until(fake.logged, what="the slow request")
    fake.stop()
    assert answered.wait(10)
    caller.join()
    with pytest.raises(RuntimeError, match="not started"):
        _ = fake.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/a")


def test_closed_port_refuses() -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{closed_port()}/")

"""Feed redirects into private space are refused from the resolved address alone (issue 11):
no test here opens a connection to an address outside 127.0.0.0/8."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from bot.errors import FeedError
from bot.feeds.address_policy import IPAddress, private_kind, redirect_refusal
from bot.feeds.fetch import Fetcher
from tests.fakes.feed_server import FeedServer, rss


def ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.10", "private"),
        ("100.64.3.4", "shared (carrier-grade NAT)"),
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "unique-local"),
        ("fc12::1", "unique-local"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local (cloud metadata)"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:a00:1::", "private"),  # 6to4 carrying 10.0.0.1
        ("172.15.255.255", None),
        ("172.32.0.1", None),
        ("8.8.8.8", None),
        ("196.200.80.10", None),
        ("2001:4860:4860::8888", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_private_kind(address: str, kind: str | None) -> None:
    assert private_kind(ip(address)) == kind


@pytest.mark.parametrize(
    ("origin", "target", "refusal"),
    [
        (["196.200.80.10"], ["169.254.169.254"], "link-local (cloud metadata)"),
        (["196.200.80.10"], ["127.0.0.1"], "loopback"),
        (["196.200.80.10"], ["8.8.8.8", "10.0.0.5"], "private"),  # any address of the host
        (["196.200.80.10"], ["::1"], "loopback"),
        (["196.200.80.10"], [], "no address"),
        (["196.200.80.10"], ["8.8.4.4"], None),
        (["127.0.0.1"], ["10.0.0.5"], None),  # a feed on an intranet or a test server
        (["10.0.0.2"], ["169.254.169.254"], None),
    ],
)
def test_redirect_refusal(origin: list[str], target: list[str], refusal: str | None) -> None:
    assert redirect_refusal([ip(a) for a in origin], [ip(a) for a in target]) == refusal


class _LoopbackOnly(httpx.AsyncBaseTransport):
    """A transport that connects to 127.0.0.1 only and fails the test for anything else."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.hosts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        assert request.url.host == "127.0.0.1", f"a connection to {request.url.host} was tried"
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::1]:9/feed",
        "http://intranet.example/feed",
    ],
)
async def test_a_public_feed_redirecting_into_private_space_is_refused(target: str) -> None:
    async def resolver(host: str) -> list[IPAddress]:
        # the test server stands for a public site; intranet.example resolves to 10.0.0.7
        table = {"127.0.0.1": "196.200.80.10", "intranet.example": "10.0.0.7"}
        return [ip(table.get(host, host.strip("[]")))]

    transport = _LoopbackOnly()
    with FeedServer() as server:
        server.redirect("/feed", target, status=302)
        async with httpx.AsyncClient(transport=transport) as client:
            fetcher = Fetcher(client, resolve=resolver)
            with pytest.raises(FeedError, match="private") as info:
                await fetcher.fetch(server.url("/feed"))
    assert transport.hosts == ["127.0.0.1"]
    assert "meta-data" not in str(info.value) and "security" not in str(info.value)


async def test_a_feed_on_a_private_address_still_follows_its_redirects() -> None:
    with FeedServer() as server:
        server.set("/new", rss(("1", "pluie-bamako", "Bamako : la pluie est revenue")))
        server.redirect("/feed", server.url("/new"), status=301)
        async with Fetcher() as fetcher:
            result = await fetcher.fetch(server.url("/feed"))
        assert result.status == "ok" and result.final_url == server.url("/new")

"""Which network addresses a feed's redirect may lead to: private space is refused before
connecting (pure: ipaddress objects in, a refusal's name out)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

__all__ = [
    "IPAddress",
    "Resolver",
    "on_private_space",
    "private_kind",
    "redirect_refusal",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Awaitable[list[IPAddress]]]
"""A host name (or an address literal) → the addresses a connection to it would use."""

# The private spaces, by name (a refusal names the one it found).
_PRIVATE: tuple[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network], ...] = (
    ("loopback", ipaddress.ip_network("127.0.0.0/8")),
    ("loopback", ipaddress.ip_network("::1/128")),
    ("unspecified", ipaddress.ip_network("0.0.0.0/8")),
    ("unspecified", ipaddress.ip_network("::/128")),
    ("private", ipaddress.ip_network("10.0.0.0/8")),
    ("private", ipaddress.ip_network("172.16.0.0/12")),
    ("private", ipaddress.ip_network("192.168.0.0/16")),
    ("shared (carrier-grade NAT)", ipaddress.ip_network("100.64.0.0/10")),
    ("link-local (cloud metadata)", ipaddress.ip_network("169.254.0.0/16")),
    ("link-local", ipaddress.ip_network("fe80::/10")),
    ("unique-local", ipaddress.ip_network("fc00::/7")),
)


def private_kind(address: IPAddress) -> str | None:
    """The private space `address` belongs to (loopback, private, link-local, unique-local…),
    or None for a public address. An IPv4 address written in IPv6 (::ffff:10.0.0.1, or the
    NAT64 and 6to4 forms) is judged as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and address in ipaddress.ip_network("64:ff9b::/96"):
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is not None:
            return private_kind(carried)
    for kind, network in _PRIVATE:
        if address.version == network.version and address in network:
            return kind
    return None


def on_private_space(addresses: Iterable[IPAddress]) -> bool:
    """Whether a feed at these addresses is on private space (an intranet, a test server):
    then its redirects may lead anywhere."""
    return any(private_kind(a) for a in addresses)


def redirect_refusal(origin: Iterable[IPAddress], target: Iterable[IPAddress]) -> str | None:
    """Why a redirect from a feed at `origin`'s addresses to `target`'s is refused, or None.

    A feed configured on private space (an intranet, a test server on 127.0.0.1) may redirect
    anywhere; a feed on a public address may not lead into private space, where the answer
    would be the host's own services or the cloud's metadata. An unresolved target is refused.
    """
    if on_private_space(origin):
        return None
    targets = list(target)
    if not targets:
        return "no address"
    kinds = [k for k in (private_kind(a) for a in targets) if k]
    return kinds[0] if kinds else None


async def system_resolver(host: str) -> list[IPAddress]:
    """The addresses the system resolver gives for `host` (an address literal is itself)."""
    literal = host.strip("[]")
    try:
        return [ipaddress.ip_address(literal)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(literal, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found

"""Where outbound webhooks may go: every address the host resolves to must be public (not loopback,
private, link-local, multicast or reserved), unless settings allow private ones.

The request then goes to the address that was checked, not to a second look-up of the name: a DNS answer
that changes in between (DNS rebinding) cannot send it anywhere else. The URL keeps its name where it
matters: in the Host header, and as the TLS server name the certificate is checked against.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], list[str]]  # host, port -> the addresses it resolves to
ALLOW_SETTING = "ONBOARDFLOW_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE"
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv6 that carries an IPv4 address in its last 32 bits


class AddressRefused(ValueError):
    """The URL leads to an address outbound webhooks must not reach; the message says which and why."""


class HostUnresolved(OSError):
    """The host name did not resolve (now): worth trying again later."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where to send: the URL with the checked address in place of the name, and what keeps the name."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host and port, first as it orders them."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise HostUnresolved(f"could not resolve {host}: {error}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def targets(url: str, *, allow_private: bool, resolve: Resolve = system_resolve) -> list[Target]:
    """Where `url` may be sent, one target per address its host resolves to, in the resolver's order (the
    next is for when the one before cannot be connected to); AddressRefused if any address is refused,
    HostUnresolved if the name does not resolve now."""
    parsed = httpx.URL(url)
    host = parsed.host
    literal = ip_literal(host)
    if literal is not None:
        _check(literal, url=url, allow_private=allow_private)
        return [Target(url)]
    addresses = [_parsed(address, host) for address in resolve(host, parsed.port or _default_port(parsed))]
    if not addresses:
        raise HostUnresolved(f"{host} resolves to no address")
    for address in addresses:
        _check(address, url=url, allow_private=allow_private, host=host)
    return [pinned(parsed, address) for address in addresses]


def pinned(url: httpx.URL, address: IPAddress) -> Target:
    """`url` sent to `address`: the name goes in the Host header and, for https, as the TLS server name.

    `connection: close`, so no connection to an address outlives its request: a later request for
    another name on the same address must not reuse a TLS session checked against this one.
    """
    headers = {"host": url.netloc.decode("ascii"), "connection": "close"}
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return Target(str(url.copy_with(host=str(address))), headers, extensions)


def refusal(address: IPAddress) -> str | None:
    """What kind of address it is if not a public one ("a loopback address", ...), or None if it is."""
    for inner in _embedded(address):
        reason = refusal(inner)
        if reason is not None:
            return reason
    checks = (("an unspecified", address.is_unspecified), ("a loopback", address.is_loopback),
              ("a link-local", address.is_link_local), ("a multicast", address.is_multicast),
              ("a reserved", address.is_reserved), ("a private", address.is_private),
              ("a non-public", not address.is_global))
    return next((f"{name} address" for name, holds in checks if holds), None)


def _check(address: IPAddress, *, url: str, allow_private: bool, host: str | None = None) -> None:
    if allow_private:
        return
    reason = refusal(address)
    if reason is not None:
        via = f" ({host} resolves to it)" if host else ""
        raise AddressRefused(
            f"{url} leads to {address}{via}, {reason}: outbound webhooks go to public addresses "
            f"only. To deliver inside your own network, set {ALLOW_SETTING}=true"
        )


def _embedded(address: IPAddress) -> list[IPAddress]:
    """IPv4 addresses an IPv6 address carries: mapped (::ffff:a.b.c.d), 6to4, NAT64."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    carried = (address.ipv4_mapped, address.sixtofour)
    found: list[IPAddress] = [inner for inner in carried if inner is not None]
    if address in NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
    return found


def ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _parsed(address: str, host: str) -> IPAddress:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (%eth0) names no other address
    except ValueError:
        raise HostUnresolved(f"{host} resolves to {address!r}, which is not an IP address") from None


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80

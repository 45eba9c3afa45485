"""Where a webhook may be sent: not to this machine, an internal network or a cloud metadata service.

The office types a webhook's URL, but the POST leaves from the server, from inside its network: unchecked,
a URL could reach the database on 127.0.0.1:5432, the metadata service that hands out the cloud host's
credentials (169.254.169.254, Alibaba Cloud's 100.100.100.200, metadata.google.internal) or any intranet
host (server-side request forgery). So a host that is, or resolves to, a loopback, private, shared,
link-local, unspecified, multicast or reserved address is refused, however its address is spelled
(0x7f.0.0.1, 2130706433, [::ffff:127.0.0.1]), and so are names kept for private use (localhost, *.internal,
*.local, single-label names completed by local search domains). `PLEDGEFLOW_WEBHOOK_ALLOW_PRIVATE=1` lifts
the rule for deployments whose receivers live on the intranet.

The rule is applied twice: when a webhook is registered (an early, clear 422) and at every connection, to
the very addresses the connection is then made to (notifications/transport.py), so a name whose DNS answer
changes after registration (DNS rebinding) reaches nothing internal.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable

import httpx

Resolver = Callable[[str, int], list[str]]
IP = ipaddress.IPv4Address | ipaddress.IPv6Address

RESERVED_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal"})
RESERVED_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".intranet", ".lan")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Numbers inet_aton(3) takes as IPv4 (and so does the resolver): 127.1, 0177.0.0.1, 0x7f.0.0.1, 2130706433.
NUMERIC_IPV4 = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)


class AddressRefused(Exception):
    """The host is, or resolves to, an address webhooks may not reach."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, in its order, once each (raises OSError)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def literal(host: str) -> IP | None:
    """The address a host names by itself (any spelling of an IP), or None for a name to resolve."""
    bare = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if NUMERIC_IPV4.fullmatch(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def is_internal(ip: IP) -> bool:
    """Not a public unicast address: loopback, private, shared (100.64/10), link-local, unspecified,
    multicast, reserved or documentation ranges, also when wrapped in IPv6 (mapped, 6to4, Teredo, NAT64)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is None and ip in NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None and is_internal(inner):
            return True
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_reserved
    )


def _reserved_name(name: str) -> bool:
    return name in RESERVED_NAMES or name.endswith(RESERVED_SUFFIXES) or "." not in name


def checked_addresses(host: str, port: int, allow_private: bool, resolve: Resolver = system_resolver) -> list[str]:
    """The addresses to connect to for `host`; AddressRefused if the host or any of its addresses is refused
    (one internal answer among public ones is enough); OSError when the name does not resolve."""
    name = host.strip("[]").rstrip(".").lower()
    ip = literal(name)
    if ip is not None:
        if not allow_private and is_internal(ip):
            raise AddressRefused(name)
        return [str(ip)]
    if not allow_private and _reserved_name(name):
        raise AddressRefused(name)
    addresses = resolve(name, port)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    if not allow_private and any(_internal_answer(a) for a in addresses):
        raise AddressRefused(name)
    return addresses


def _internal_answer(address: str) -> bool:
    ip = literal(address)
    return ip is None or is_internal(ip)


def refuse_internal_url(url: str, allow_private: bool, resolve: Resolver = system_resolver) -> None:
    """Raise AddressRefused if `url` points inside. A name that does not resolve now passes: it may be set
    up later, and whatever it resolves to then is checked at every connection."""
    parsed = httpx.URL(url)
    try:
        checked_addresses(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80), allow_private, resolve)
    except OSError:
        return

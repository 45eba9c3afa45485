"""The webhook client's transport: every connection resolves its host, refuses internal addresses, and
connects only to the addresses it checked (no second lookup for DNS rebinding to answer differently).

The check sits in httpcore's network backend, under TLS: the certificate is still verified against the
URL's host name, and the request keeps its Host header. Proxies from the environment are not used
(a proxy would make the connection itself, unchecked).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from notifications.addresses import AddressRefused, Resolver, checked_addresses, system_resolver


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's blocking backend, behind the address rule of notifications/addresses.py."""

    def __init__(self, allow_private: bool, resolve: Resolver = system_resolver):
        self._inner = httpcore.SyncBackend()
        self._allow_private, self._resolve = allow_private, resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port, self._allow_private, self._resolve)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        failure: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise AddressRefused(path)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool on the guarded backend."""

    def __init__(self, allow_private: bool, resolve: Resolver = system_resolver, limits: httpx.Limits | None = None):
        super().__init__(trust_env=False)
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        # httpx has no public way to choose the network backend. Should `_pool` ever be renamed, the test
        # "an internal receiver gets nothing" fails rather than the guard going silently missing.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private, resolve),
        )


def webhook_client(allow_private: bool, timeout: float, resolve: Resolver = system_resolver) -> httpx.Client:
    """The client webhooks are sent with: guarded, no environment proxies, redirects not followed."""
    return httpx.Client(transport=GuardedTransport(allow_private, resolve), timeout=timeout, trust_env=False)

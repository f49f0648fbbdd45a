"""Server-side request forgery guard: webhook targets must be public addresses.

Checked when an endpoint is registered and again when each delivery is sent: the dispatcher
connects through ``GuardedResolver``, so the address it connects to is the address it checked
(a name that resolves to a public address at registration and to 127.0.0.1 later is refused).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

RESOLVE_TIMEOUT_SECONDS = 5.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not be used as a webhook target; the message says why."""


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address (not private, loopback, link-local, …)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


def check_address(host: str, address: str, allow_private: bool) -> None:
    if allow_private:
        return
    if not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
        raise TargetRefused(
            f"{host} resolves to {address}, a private, loopback or link-local address"
        )


def split_target(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL, or TargetRefused."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise TargetRefused("url is not valid") from exc
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("url must be http:// or https://")
    if not host:
        raise TargetRefused("url must name a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("url has an invalid port") from exc
    return host, port


async def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse ``url`` unless every address its host resolves to is public."""
    host, port = split_target(url)
    if allow_private:
        return
    for address in await _resolve(host, port):
        check_address(host, address, allow_private)


async def _resolve(host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [host]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError, ValueError) as exc:  # UnicodeError: an invalid IDNA name
        raise TargetRefused(f"{host} does not resolve") from exc
    return [str(info[4][0]) for info in infos]


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing hosts that resolve to any non-public address."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            check_address(host, result["host"], self._allow_private)
        return results

    async def close(self) -> None:
        await self._inner.close()


__all__ = ["GuardedResolver", "TargetRefused", "check_target", "is_public", "split_target"]


def check_literal(url: str, *, allow_private: bool) -> None:
    """At send time: aiohttp connects to an IP literal without asking the resolver."""
    host, _port = split_target(url)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return
    check_address(host, host, allow_private)

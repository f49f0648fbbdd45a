"""Which address a request came from, believing only what trusted proxies wrote.

``X-Forwarded-For`` is a list every proxy appends to; its first entries are whatever the client
sent. Only the hops appended by proxies we trust can be believed, so the client is found by
walking the list from the right:

- a hop count ``N`` (``BARAZA_TRUSTED_PROXIES=2``; ``true`` means 1): the last ``N`` entries
  were appended by our ``N`` proxies, the ``N``-th from the right is the client;
- networks (``BARAZA_TRUSTED_PROXIES=10.0.0.0/8,192.168.1.7``): starting from the peer, every
  address inside them is a proxy of ours and the one before it is believed; the first address
  outside them is the client.

With neither (the default) the header is ignored and the peer address is the client.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_OFF = frozenset({"", "false", "0", "no", "off"})
_ON = frozenset({"true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """How many hops to believe, or which networks are ours (at most one of the two)."""

    hops: int = 0
    networks: tuple[Network, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.hops or self.networks)

    def client(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The client's address, or None when nothing can be believed beyond ``peer``."""
        if not self.enabled or not forwarded_for:
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        if any(not hop for hop in hops):
            return peer  # a malformed header is not evidence of anything
        if self.hops:
            return hops[-self.hops] if len(hops) >= self.hops else peer
        address = peer
        for hop in reversed(hops):
            if not self._trusted(address):
                return address
            address = hop
        return address

    def _trusted(self, address: str | None) -> bool:
        if address is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


@functools.lru_cache(maxsize=8)
def parse_trusted_proxies(value: str) -> TrustedProxies:
    """``BARAZA_TRUSTED_PROXIES``: off, ``true`` (one hop), a hop count, or networks."""
    text = value.strip().lower()
    if text in _OFF:
        return TrustedProxies()
    if text in _ON:
        return TrustedProxies(hops=1)
    if text.isdigit():
        return TrustedProxies(hops=int(text))
    try:
        networks = tuple(
            ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",")
        )
    except ValueError as exc:
        raise ValueError(
            "trusted_proxies must be true/false, a hop count, or comma-separated networks"
        ) from exc
    return TrustedProxies(networks=networks)

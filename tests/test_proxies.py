"""The client address behind proxies: only hops appended by trusted proxies are believed."""

from __future__ import annotations

import pytest

from server.proxies import TrustedProxies, parse_trusted_proxies
from tests.conftest import auth

URL = "/api/v1/articles/story-1/comments"


@pytest.mark.parametrize(
    ("setting", "peer", "header", "client"),
    [
        # Off: the header is ignored whatever it says.
        ("", "10.0.0.5", "1.2.3.4", "10.0.0.5"),
        ("false", "10.0.0.5", "1.2.3.4", "10.0.0.5"),
        # One proxy: the hop it appended, never the one the client wrote first.
        ("true", "10.0.0.5", "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        ("1", "10.0.0.5", "203.0.113.9", "203.0.113.9"),
        # Two proxies: the second hop from the right.
        ("2", "10.0.0.5", "6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        # Fewer hops than proxies: nothing to believe beyond the peer.
        ("2", "10.0.0.5", "203.0.113.9", "10.0.0.5"),
        # Networks: walk left while the address is one of ours.
        ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, 203.0.113.9, 10.1.2.3", "203.0.113.9"),
        ("10.0.0.0/8,192.168.0.1", "192.168.0.1", "203.0.113.9", "203.0.113.9"),
        # A peer outside the networks wrote the header itself: ignored.
        ("10.0.0.0/8", "198.51.100.1", "1.2.3.4", "198.51.100.1"),
        # Every hop is ours: the leftmost is the best we know.
        ("10.0.0.0/8", "10.0.0.5", "10.9.9.9", "10.9.9.9"),
        # A malformed list is not evidence.
        ("1", "10.0.0.5", "1.2.3.4,,", "10.0.0.5"),
    ],
)
def test_client_address(setting: str, peer: str, header: str, client: str) -> None:
    assert parse_trusted_proxies(setting).client(peer, header) == client


def test_bad_setting_is_refused(make_settings) -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        make_settings(trusted_proxies="not-a-network")
    assert parse_trusted_proxies("3") == TrustedProxies(hops=3)


async def test_a_forged_forwarded_for_does_not_escape_the_ip_limit(
    make_client, make_settings, token
) -> None:
    client = await make_client(
        make_settings(
            rate_limit_enabled=True, rate_limit_comments_ip="2/minute", trusted_proxies="true"
        )
    )
    statuses = []
    for i in range(4):
        # The client writes a fresh first hop each time; the proxy appends the real address.
        forwarded = f"198.51.100.{i}, 203.0.113.9"
        r = await client.post(
            URL,
            json={"body": "hi"},
            headers={**auth(token(f"u{i}")), "X-Forwarded-For": forwarded},
        )
        statuses.append(r.status)
    assert statuses == [202, 202, 429, 429]

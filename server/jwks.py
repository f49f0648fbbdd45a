"""Signing keys of an OpenID Connect provider (``BARAZA_JWT_JWKS_URL``), for RS256/ES256 tokens.

The key set is fetched with PyJWT's :class:`~jwt.PyJWKClient` (in a thread: it uses blocking
``urllib``), kept for ``jwt_jwks_cache_seconds``, and fetched again at once when a token names
a ``kid`` the cached set does not hold (the provider rotated its keys) — but not more often than
every ``jwt_jwks_refresh_seconds``, so tokens with made-up ``kid``s cannot make Baraza hammer the
provider. When the provider is unreachable, keys already known keep working.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import jwt
from jwt import PyJWK, PyJWKClient

from server.errors import Unauthorized, Unavailable

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class JwksKeys:
    """``kid`` → key, from the provider's JWKS document."""

    def __init__(
        self, url: str, *, cache_seconds: float, refresh_seconds: float,
        clock: Clock = time.monotonic, timeout: float = 5.0,
    ) -> None:
        # PyJWKClient's own caches stay off: this class decides when to fetch.
        self._client = PyJWKClient(url, cache_keys=False, cache_jwk_set=False, timeout=timeout)
        self._cache_seconds = cache_seconds
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _fresh(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self._cache_seconds

    def _may_refetch(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._refresh_seconds

    async def get(self, kid: str) -> PyJWK:
        """The key named ``kid``; Unauthorized when the provider does not publish it."""
        if kid in self._keys and self._fresh(self._clock()):
            return self._keys[kid]
        async with self._lock:
            now = self._clock()
            stale = not self._fresh(now)
            unknown = kid not in self._keys
            if (stale or unknown) and self._may_refetch(now):
                await self._fetch(now)
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("token signed with a key the provider does not publish",
                               code="invalid_token")
        return key

    async def _fetch(self, now: float) -> None:
        try:
            jwk_set = await asyncio.to_thread(self._client.get_jwk_set, True)
        except (jwt.PyJWKClientError, jwt.PyJWKSetError) as exc:
            if self._keys:
                log.warning("could not refresh the JWKS; keeping the known keys: %s", exc)
                return
            raise Unavailable("the identity provider's keys cannot be fetched",
                              code="jwks_unavailable", headers={"Retry-After": "5"}) from exc
        self.fetches += 1
        self._keys = {k.key_id: k for k in jwk_set.keys if k.key_id}
        self._fetched_at = now

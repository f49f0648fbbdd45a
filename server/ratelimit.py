"""Per-user and per-IP rate limits, kept in Redis (or memory on the embedded default)."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import Literal

from aiohttp import web
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisClusterStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from server.auth import Handler, require_principal
from server.errors import TooManyRequests
from server.proxies import parse_trusted_proxies
from server.settings import Settings
from server.typedefs import RATE_LIMITER, SETTINGS


class RateLimiter:
    """Named limits (``comments_user`` …) checked with one call per request."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        self._storage: Storage
        if settings.redis_url is None:
            self._storage = MemoryStorage()
        elif settings.redis_cluster:
            # Each limit is one key (its Lua scripts touch no other), so any slot will do.
            self._storage = RedisClusterStorage(
                "async+redis+cluster://" + settings.redis_url.split("://", 1)[1].split("/")[0],
                implementation="redispy",
                key_prefix=settings.redis_prefix + "ratelimit",
            )
        else:
            self._storage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix=settings.redis_prefix + "ratelimit",
            )
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._rules: dict[str, list[RateLimitItem]] = {
            "comments_user": parse_many(settings.rate_limit_comments_user),
            "comments_ip": parse_many(settings.rate_limit_comments_ip),
            "actions_user": parse_many(settings.rate_limit_actions_user),
            "actions_ip": parse_many(settings.rate_limit_actions_ip),
        }

    async def hit(self, checks: Sequence[tuple[str, str]]) -> None:
        """Count one hit for each (rule, identity); raise TooManyRequests when any is spent."""
        if not self.enabled:
            return
        for rule, identity in checks:
            for item in self._rules[rule]:
                if not await self._limiter.hit(item, rule, identity):
                    stats = await self._limiter.get_window_stats(item, rule, identity)
                    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                    raise TooManyRequests(
                        f"too many requests; retry in {retry_after} s ({item})",
                        headers={"Retry-After": str(retry_after)},
                    )

    async def reset(self) -> None:
        await self._storage.reset()


def limited(kind: Literal["comments", "actions"]) -> Callable[[Handler], Handler]:
    """Declare on a route (inside ``authenticated``) that each call counts against the caller's
    and the address's ``kind`` limits (``comments_user``/``comments_ip`` …) before it runs."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            principal = require_principal(request)
            await request.app[RATE_LIMITER].hit(
                [(f"{kind}_user", principal.sub), (f"{kind}_ip", client_ip(request))]
            )
            return await handler(request)

        return wrapper

    return decorate


def client_ip(request: web.Request) -> str:
    """The caller's address: only hops appended by trusted proxies are believed."""
    proxies = parse_trusted_proxies(request.app[SETTINGS].trusted_proxies)
    forwarded = request.headers.get("X-Forwarded-For") if proxies.enabled else None
    return proxies.client(request.remote, forwarded) or "unknown"

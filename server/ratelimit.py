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
from server.redis_client import AnyRedis, run_scripts
from server.settings import Settings
from server.typedefs import RATE_LIMITER, SETTINGS

# A moving window per key: a list of hit times, newest first, capped at the limit.
# KEYS[1]: the window. ARGV: now (s), limit, window (s). Returns 0 when counted, else the
# time of the oldest hit still in the window (the window frees up ``window`` s after it).
_MOVING_WINDOW = """
local limit = tonumber(ARGV[2])
local oldest = redis.call('LINDEX', KEYS[1], limit - 1)
if oldest and tonumber(oldest) > tonumber(ARGV[1]) - tonumber(ARGV[3]) then
  return oldest
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, limit - 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 0
"""


class RateLimiter:
    """Named limits (``comments_user`` …) checked with one call per request.

    With Redis, every window of a request is checked and counted in one pipelined round trip
    (one small script per window: the windows of a user and of an IP live in different Redis
    Cluster slots, so they are not one script); without, in memory by ``limits``."""

    def __init__(self, settings: Settings, redis: AnyRedis | None = None) -> None:
        self.enabled = settings.rate_limit_enabled
        self._redis = redis if settings.redis_url is not None else None
        self._prefix = settings.redis_prefix + "ratelimit:"
        self._script = None if self._redis is None else self._redis.register_script(_MOVING_WINDOW)
        self._storage: Storage
        if settings.redis_url is None or self._redis is not None:  # the latter: unused
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
        if self._redis is not None:
            await self._hit_redis(checks)
            return
        for rule, identity in checks:
            for item in self._rules[rule]:
                if not await self._limiter.hit(item, rule, identity):
                    stats = await self._limiter.get_window_stats(item, rule, identity)
                    _refuse(item, stats.reset_time - time.time())

    async def _hit_redis(self, checks: Sequence[tuple[str, str]]) -> None:
        if self._redis is None or self._script is None:  # pragma: no cover - checked by hit
            raise RuntimeError("no Redis")
        now = time.time()
        windows = [
            (item, f"{self._prefix}{{{rule}:{identity}}}:{item.amount}/{item.get_expiry()}")
            for rule, identity in checks
            for item in self._rules[rule]
        ]
        script = self._script
        results = await run_scripts(self._redis, [
            (script, [key], [repr(now), item.amount, item.get_expiry()]) for item, key in windows
        ])
        for (item, _), oldest in zip(windows, results, strict=True):
            if oldest and float(oldest):
                _refuse(item, float(oldest) + item.get_expiry() - now)

    async def reset(self) -> None:
        await self._storage.reset()
        if self._redis is not None:
            keys = [key async for key in self._redis.scan_iter(match=self._prefix + "*")]
            if keys:
                await self._redis.delete(*keys)


def _refuse(item: RateLimitItem, seconds: float) -> None:
    retry_after = max(1, math.ceil(seconds))
    raise TooManyRequests(
        f"too many requests; retry in {retry_after} s ({item})",
        headers={"Retry-After": str(retry_after)},
    )


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

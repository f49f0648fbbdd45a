"""Every key of typed application and request state, declared in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from server.assets import Asset
    from server.auth import Principal, TokenVerifier
    from server.db import Sessionmaker
    from server.jobs.base import JobQueue
    from server.lifecycle.relay import EventRelay
    from server.live.base import ChannelBroker
    from server.live.hub import Hub
    from server.pagecache import PageCache
    from server.ratelimit import RateLimiter
    from server.redis_client import AnyRedis
    from server.settings import Settings

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
ENGINE: web.AppKey[AsyncEngine] = web.AppKey("engine")
SESSIONMAKER: web.AppKey[Sessionmaker] = web.AppKey("sessionmaker")
# Anonymous thread reads and counts: BARAZA_DATABASE_READ_URL (a replica), else SESSIONMAKER.
READ_SESSIONMAKER: web.AppKey[Sessionmaker] = web.AppKey("read_sessionmaker")
REDIS: web.AppKey[AnyRedis | None] = web.AppKey("redis")
JOBS: web.AppKey[JobQueue] = web.AppKey("jobs")
CHANNELS: web.AppKey[ChannelBroker] = web.AppKey("channels")
HUB: web.AppKey[Hub] = web.AppKey("live_hub")
# A comment's committed events go to subscribers through this (server.lifecycle).
EVENTS: web.AppKey[EventRelay] = web.AppKey("events")
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
LIVEBLOG_PAGES: web.AppKey[PageCache] = web.AppKey("liveblog_pages")
THREAD_PAGES: web.AppKey[PageCache] = web.AppKey("thread_pages")
# The built front end (server/static/), URL path -> file: see server/assets.py.
ASSETS: web.AppKey[dict[str, Asset]] = web.AppKey("assets")
# Verifies host-site tokens (HS256, and RS256/ES256 against a JWKS): see server/auth.py.
TOKENS: web.AppKey[TokenVerifier] = web.AppKey("tokens")
# Extra /readyz checks registered by components (the scorer, the live hub): name -> check.
ReadinessCheck = Callable[[web.Application], Awaitable[dict[str, Any]]]
READINESS_CHECKS: web.AppKey[dict[str, ReadinessCheck]] = web.AppKey("readiness_checks")

PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("principal")

"""``create_app(settings)``: the one place that wires Baraza together."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

from aiohttp import web

from server import assets, cors, demo, health
from server.articles import views as article_views
from server.auth import auth_middleware, token_verifier
from server.comments import views as comment_views
from server.console import views as console_views
from server.db import create_engine, create_read_engine, create_sessionmaker, upgrade, utcnow
from server.errors import error_middleware
from server.jobs.memory import MemoryJobQueue
from server.jobs.redis import RedisJobQueue
from server.lifecycle.subscribers import build_relay
from server.live import views as live_views
from server.live.base import PAGES_CHANNEL
from server.live.runtime import live_runtime
from server.liveblog import views as liveblog_views
from server.metrics import metrics_middleware
from server.moderation import tool_views as moderation_tool_views
from server.moderation import views as moderation_views
from server.notifications import views as notification_views
from server.notifications.runtime import mailing_ctx
from server.openapi import routes as openapi_routes
from server.ratelimit import RateLimiter
from server.readers import views as reader_views
from server.redis_client import connect_redis
from server.scoring import scoring_ctx
from server.settings import Settings
from server.typedefs import (
    CHANNELS,
    ENGINE,
    EVENTS,
    HUB,
    JOBS,
    LIVEBLOG_PAGES,
    RATE_LIMITER,
    READ_SESSIONMAKER,
    READINESS_CHECKS,
    REDIS,
    SESSIONMAKER,
    SETTINGS,
    THREAD_PAGES,
    TOKENS,
)
from server.webhooks import views as webhook_views
from server.webhooks.runtime import delivery_ctx


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.embedded:
        # The embedded default migrates its own file so `baraza serve` works on a bare machine.
        await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings)
    app[ENGINE] = engine
    app[SESSIONMAKER] = create_sessionmaker(engine)
    read_engine = create_read_engine(settings)
    app[READ_SESSIONMAKER] = (
        app[SESSIONMAKER] if read_engine is None else create_sessionmaker(read_engine)
    )
    yield
    await engine.dispose()
    if read_engine is not None:
        await read_engine.dispose()


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    redis = connect_redis(settings)
    app[REDIS] = redis
    if redis is None:
        app[JOBS] = MemoryJobQueue()
    else:
        app[JOBS] = RedisJobQueue(redis, settings.redis_prefix)
    app[RATE_LIMITER] = RateLimiter(settings, redis)
    yield
    if redis is not None:
        await redis.aclose()


async def _channels_ctx(app: web.Application) -> AsyncIterator[None]:
    async with live_runtime(app):
        yield


async def _lifecycle_ctx(app: web.Application) -> AsyncIterator[None]:
    """Committed comment events reach channels and, on every process, the page caches."""
    pages = app[THREAD_PAGES]
    app[EVENTS] = build_relay(app[SESSIONMAKER], app[CHANNELS], page_caches=[pages])
    # A lost pages.changed (a reconnect, a cluster failover) drops every cached page.
    await app[HUB].watch(PAGES_CHANNEL, pages.forget, on_gap=pages.forget_all)
    liveblog_pages = app[LIVEBLOG_PAGES]
    await app[HUB].watch(PAGES_CHANNEL, liveblog_pages.forget, on_gap=liveblog_pages.forget_all)
    after = app[SETTINGS].outbox_relay_after_seconds
    sweeper = asyncio.create_task(
        app[EVENTS].run_sweeper(
            interval=after / 3, older_than=dt.timedelta(seconds=after), clock=utcnow
        ),
        name="outbox-sweeper",
    )
    yield
    sweeper.cancel()
    await asyncio.gather(sweeper, return_exceptions=True)
    await app[EVENTS].flush_forgotten()


def create_app(settings: Settings) -> web.Application:
    """Build the application; its resources open on startup and close on cleanup."""
    app = web.Application(
        middlewares=[metrics_middleware, error_middleware, auth_middleware],
        client_max_size=settings.max_request_bytes,
    )
    app[SETTINGS] = settings
    app[TOKENS] = token_verifier(settings)
    app[READINESS_CHECKS] = {}
    app.cleanup_ctx.extend(
        [
            _database_ctx, _redis_ctx, _channels_ctx, _lifecycle_ctx, scoring_ctx,
            delivery_ctx, mailing_ctx,
        ]
    )
    app.add_routes(health.routes)
    app.add_routes(comment_views.setup(app))
    app.add_routes(article_views.routes)
    live_views.setup(app)
    app.add_routes(liveblog_views.setup(app))
    app.add_routes([*moderation_views.routes, *openapi_routes])
    app.add_routes(webhook_views.routes)
    app.add_routes(reader_views.routes)
    app.add_routes(notification_views.routes)
    app.add_routes([*moderation_tool_views.routes, *console_views.routes])
    assets.setup(app)
    if settings.demo:
        demo.setup(app)
    cors.setup(app)  # last: it adds the preflight of every API route
    return app

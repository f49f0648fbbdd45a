"""Build the live-updates machinery for an app: broker, producer facade and hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from server.live.base import LiveBroker, PresenceStore
from server.live.coalesce import CoalescingChannels
from server.live.hub import Hub, process_id
from server.live.memory import MemoryChannelBroker, MemoryPresence
from server.live.redis import RedisChannelBroker, RedisPresence
from server.typedefs import CHANNELS, HUB, READINESS_CHECKS, REDIS, SETTINGS


async def _check_live(app: web.Application) -> dict[str, Any]:
    hub = app[HUB]
    return {"ok": not hub.closing, **hub.stats()}


def _backends(app: web.Application) -> tuple[LiveBroker, PresenceStore]:
    settings, redis = app[SETTINGS], app[REDIS]
    if redis is None:
        return MemoryChannelBroker(settings.live_history_size), MemoryPresence()
    broker = RedisChannelBroker(
        redis, settings.redis_prefix, history_size=settings.live_history_size,
        history_ttl=settings.live_history_ttl_seconds,
    )
    # Counts live three intervals: a process that dies stops counting within seconds.
    presence = RedisPresence(redis, settings.redis_prefix, process_id(),
                             ttl=3 * settings.presence_interval_seconds)
    return broker, presence


@asynccontextmanager
async def live_runtime(app: web.Application) -> AsyncIterator[None]:
    """Redis broker when Redis is configured, the in-process one otherwise; hub started."""
    broker, presence = _backends(app)
    channels = CoalescingChannels(broker)
    hub = Hub(broker, presence, app[SETTINGS])
    app[CHANNELS] = channels
    app[HUB] = hub
    await hub.start()
    app[READINESS_CHECKS]["live"] = _check_live
    try:
        yield
    finally:
        await hub.stop()
        await channels.aclose()
        await broker.close()


def publisher(broker: RedisChannelBroker | MemoryChannelBroker) -> CoalescingChannels:
    """A producer-side ``ChannelBroker`` for processes without a hub (scoring workers)."""
    return CoalescingChannels(broker)

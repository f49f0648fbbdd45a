"""Workers announce themselves and their model in Redis, so any server's ``/readyz`` can name it.

One hash, ``{prefix}workers``: field = consumer process, value = JSON with the model name and
the time the entry expires. A worker refreshes its entry every few seconds and removes it on a
clean exit; entries of crashed workers expire and are pruned by the live ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from typing import Any, TypeVar

import orjson

from server.redis_client import AnyRedis

log = logging.getLogger(__name__)
T = TypeVar("T")

BEAT_SECONDS = 5.0
TTL_SECONDS = 3 * BEAT_SECONDS


async def _resolved(value: Any) -> Any:
    """redis-py 7 types commands as sync-or-async, 8 as awaitable: accept both."""
    if inspect.isawaitable(value):
        return await value
    return value


def workers_key(prefix: str) -> str:
    return f"{prefix}workers"


async def beat(redis: AnyRedis, prefix: str, name: str, model: str) -> None:
    """Write this worker's entry and prune the expired ones."""
    now = time.time()
    entry = orjson.dumps({"model": model, "until": now + TTL_SECONDS})
    key = workers_key(prefix)
    await _resolved(redis.hset(key, name, entry.decode()))
    _live, expired = await live_entries(redis, prefix, now)
    if expired:
        await _resolved(redis.hdel(key, *expired))


async def live_entries(
    redis: AnyRedis, prefix: str, now: float
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(live, expired) worker entries by name."""
    raw: dict[bytes, bytes] = await _resolved(redis.hgetall(workers_key(prefix)))
    live: dict[str, dict[str, Any]] = {}
    expired: dict[str, dict[str, Any]] = {}
    for field, value in raw.items():
        entry: dict[str, Any] = orjson.loads(value)
        (live if float(entry.get("until", 0)) > now else expired)[field.decode()] = entry
    return live, expired


async def run_heartbeat(
    redis: AnyRedis, prefix: str, name: str, model: str, stopping: asyncio.Event
) -> None:
    """Beat until ``stopping``, then remove this worker's entry."""
    try:
        while not stopping.is_set():
            try:
                await beat(redis, prefix, name, model)
            except Exception:
                log.warning("heartbeat failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), BEAT_SECONDS)
    finally:
        try:
            await _resolved(redis.hdel(workers_key(prefix), name))
        except Exception:
            log.debug("could not remove heartbeat entry", exc_info=True)

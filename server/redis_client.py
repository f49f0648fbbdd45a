"""The Redis client of a process: one node, or a Redis Cluster reached through one startup node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from server.settings import Settings

AnyRedis: TypeAlias = Redis | RedisCluster

# redis-py 8 caps a client's pool at 100 connections (per node on a cluster) and fails the
# 101st concurrent command with MaxConnectionsError; 7.x did not cap. A burst of subscribes
# (thousands of readers reconnecting at once) runs that many history reads concurrently.
MAX_CONNECTIONS = 10_000


def connect_redis(settings: Settings) -> AnyRedis | None:
    """``None`` on the embedded default; a cluster client with ``BARAZA_REDIS_CLUSTER=true``.

    The cluster client learns the other nodes (and, after a failover, the promoted replicas)
    from the startup node named by ``BARAZA_REDIS_URL``.
    """
    if settings.redis_url is None:
        return None
    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_url, max_connections=MAX_CONNECTIONS)
    return Redis.from_url(settings.redis_url, max_connections=MAX_CONNECTIONS)


ScriptCall: TypeAlias = tuple[AsyncScript, Sequence[str], Sequence[str | int | bytes]]


async def run_scripts(redis: AnyRedis, calls: Sequence[ScriptCall]) -> list[Any]:
    """Run the script calls in one pipelined round trip; their replies, in order.

    On a Redis Cluster the pipeline sends each node its calls (every call's keys in one slot: a
    hash tag); a node that does not know a script yet (a replica promoted by a failover) answers
    NOSCRIPT without running it, so those calls run again one by one, in order, loading it."""
    if isinstance(redis, RedisCluster):
        async with redis.pipeline(transaction=False) as cluster_pipe:
            for script, keys, args in calls:
                # redis-py refuses ``evalsha`` in a cluster pipeline (for want of NOSCRIPT
                # handling, done here); the command itself is routed by its keys' slot.
                cluster_pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
            replies: list[Any] = await cluster_pipe.execute(raise_on_error=False)
        for index, reply in enumerate(replies):
            if isinstance(reply, NoScriptError):
                script, keys, args = calls[index]
                replies[index] = await script(keys=keys, args=args)
            elif isinstance(reply, Exception):
                raise reply
        return replies
    async with redis.pipeline(transaction=False) as pipe:
        for script, keys, args in calls:
            await script(keys=keys, args=args, client=pipe)
        return list(await pipe.execute())

"""The Redis client of a process: one node, or a Redis Cluster reached through one startup node."""

from __future__ import annotations

from typing import TypeAlias

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

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

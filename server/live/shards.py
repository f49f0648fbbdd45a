"""Sharded pub/sub on a Redis Cluster: ``SSUBSCRIBE`` on the master that owns a channel's slot.

An ``SPUBLISH`` reaches the subscribers of its shard only (not every node, as ``PUBLISH`` does),
so a process holds one pub/sub connection, and one reader task, per master that owns a channel
it listens to. redis-py's cluster client supplies the slot map.

When a node's connection breaks (its master died), the channels it carried are re-homed: the
slot map is refreshed until their new owner (the promoted replica) accepts ``SSUBSCRIBE``; then
``rehomed({topic: new owner})`` tells the broker, since events published meanwhile never
reached us.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.exceptions
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode, RedisCluster

log = logging.getLogger(__name__)

_LOST = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.SlotNotCoveredError,
    redis.exceptions.RedisClusterException,
    OSError,
)

Handler = Callable[[dict[str, Any]], None]
Rehomed = Callable[[dict[str, str]], Awaitable[None]]


def node_client(node: ClusterNode, **overrides: Any) -> Redis:
    """A client of one cluster node, with the cluster client's connection settings.

    Its pool is its own: close it with ``aclose(close_connection_pool=True)``.
    """
    kwargs = {**node.connection_kwargs, **overrides}
    pool = ConnectionPool(connection_class=node.connection_class, **kwargs)
    return Redis(connection_pool=pool)


class _NodeSubscription:
    """One pub/sub connection to one cluster node."""

    def __init__(self, node: ClusterNode) -> None:
        self.name = node.name
        self.client = node_client(node, socket_timeout=None)
        self.pubsub: PubSub = self.client.pubsub()
        self.reader: asyncio.Task[None] | None = None

    async def close(self) -> None:
        with contextlib.suppress(*_LOST):
            await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        await self.client.aclose(close_connection_pool=True)


class ShardedSubscriber:
    """Subscriptions of one process across the cluster's masters."""

    def __init__(
        self,
        cluster: RedisCluster,
        handle: Handler,
        rehomed: Rehomed,
        *,
        retry_seconds: float = 0.5,
    ) -> None:
        self._cluster = cluster
        self._handle = handle
        self._rehomed = rehomed
        self._retry = retry_seconds
        self._nodes: dict[str, _NodeSubscription] = {}
        self._owner: dict[str, str] = {}  # topic -> name of the node it is subscribed on
        self._tasks: set[asyncio.Task[None]] = set()

    async def subscribe(self, topic: str) -> None:
        """Send ``SSUBSCRIBE`` to the topic's master (confirmation arrives as a message)."""
        await self._cluster.initialize()
        await self._subscribe_on(self._owner_of(topic), topic)

    def _owner_of(self, topic: str) -> ClusterNode:
        node = self._cluster.get_node_from_key(topic)
        if node is None:
            raise redis.exceptions.SlotNotCoveredError(f"no node serves {topic!r}")
        return node

    async def unsubscribe(self, topic: str) -> None:
        name = self._owner.pop(topic, None)
        sub = None if name is None else self._nodes.get(name)
        if sub is not None:
            with contextlib.suppress(*_LOST):
                await sub.pubsub.sunsubscribe(topic)

    async def _subscribe_on(self, node: ClusterNode, topic: str) -> None:
        sub = self._nodes.get(node.name)
        fresh = sub is None
        if sub is None:
            sub = self._nodes[node.name] = _NodeSubscription(node)
        try:
            await sub.pubsub.ssubscribe(topic)
        except BaseException:
            if fresh:
                self._nodes.pop(node.name, None)
                await sub.close()
            raise
        self._owner[topic] = node.name
        if sub.reader is None:
            sub.reader = self._spawn(self._read(sub), f"live-shard-{node.name}")

    def _spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _read(self, sub: _NodeSubscription) -> None:
        while True:
            try:
                message = await sub.pubsub.get_message(timeout=None)
            except _LOST:
                log.warning("live shard %s lost; re-homing its channels", sub.name, exc_info=True)
                break
            if message is not None:
                self._handle(message)
                # One event can mean thousands of writes: let sockets be served in between.
                await asyncio.sleep(0)
        if self._nodes.get(sub.name) is sub:
            del self._nodes[sub.name]
        await sub.close()
        await self._rehome(sub.name)

    async def _rehome(self, name: str) -> None:
        """Subscribe the topics of a lost node wherever the cluster now serves their slots."""
        waiting = [topic for topic, owner in self._owner.items() if owner == name]
        moved: dict[str, str] = {}
        while waiting:
            try:
                await self._cluster.nodes_manager.initialize()
                for topic in list(waiting):
                    if self._owner.get(topic) == name:
                        node = self._owner_of(topic)
                        await self._subscribe_on(node, topic)
                        moved[topic] = node.name
                    waiting.remove(topic)
            except _LOST:
                await asyncio.sleep(self._retry)
        log.info("live shard %s: %d channel(s) re-homed", name, len(moved))
        await self._rehomed(moved)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sub in list(self._nodes.values()):
            await sub.close()
        self._nodes.clear()
        self._owner.clear()

"""Channels across processes: a capped history stream and a pub/sub topic per channel in Redis.

Keys (``P`` is ``settings.redis_prefix``; the ``{channel}`` hash tag keeps a channel's keys in
one Redis Cluster slot):

- ``P live:{channel}:seq``  the channel's offset counter (seeded from ``offset_epoch``)
- ``P live:{channel}:log``  the history stream, capped at ``history_size``; entry id ``offset-0``
- ``P live:channel``        the pub/sub topic (message: ``offset \\n type \\n time \\n data``);
  on a Redis Cluster ``P live:{channel}``, a shard channel in the keys' slot (``SPUBLISH``)

Both keys expire ``history_ttl`` seconds after a channel's last event. One Lua script increments
the counter, appends to the stream and publishes, so every process sees the same offsets in the
same order and a subscriber can never see an event that history will not also hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import redis.exceptions
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster

from server.live.base import (
    Event,
    EventSink,
    EventType,
    Message,
    Recovery,
    ResyncSink,
    check_recovery,
)
from server.live.shards import ShardedSubscriber, node_client
from server.redis_client import AnyRedis, run_scripts

log = logging.getLogger(__name__)
_CONNECTION_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)

# The seed: microseconds since the epoch, formatted as an integer (Lua numbers are doubles,
# exact up to 2**53, and 1.8e15 is well below that).
_SEED = """
local function seed(key)
  if redis.call('EXISTS', key) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', key, string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2])))
  end
end
"""

# KEYS: seq, log. ARGV: topic, maxlen, ttl, type, time, data, PUBLISH or SPUBLISH.
PUBLISH_SCRIPT = _SEED + """
seed(KEYS[1])
local offset = string.format('%.0f', redis.call('INCR', KEYS[1]))
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], offset .. '-0',
           't', ARGV[4], 's', ARGV[5], 'd', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call(ARGV[7], ARGV[1], offset .. '\\n' .. ARGV[4] .. '\\n' .. ARGV[5] .. '\\n' .. ARGV[6])
return offset
"""

# KEYS: seq, log. ARGV: first stream id wanted ('' for none), max entries.
RECOVER_SCRIPT = _SEED + """
seed(KEYS[1])
local offset = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  return {offset, {}}
end
return {offset, redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', ARGV[2])}
"""

# KEYS: seq, fence. ARGV: the master now serving the slot, ttl. After a failover the promoted
# replica may lack the last events of the old master: move the counter past every offset
# handed out before (the seed's rule), so no offset is reused and a client holding one is
# told to refetch, never replayed someone else's event. Once per new master: every process
# that notices the failover runs this, and only the first moves the counter.
FENCE_SCRIPT = _SEED + """
if redis.call('GET', KEYS[2]) == ARGV[1] then return 0 end
seed(KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if tonumber(redis.call('GET', KEYS[1])) < now then
  redis.call('SET', KEYS[1], string.format('%.0f', now), 'KEEPTTL')
end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return 1
"""

_CONTROL_TOPIC = "live:~control"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _event_from_entry(channel: str, entry_id: bytes, fields: dict[bytes, bytes]) -> Event:
    return Event(
        channel=channel,
        offset=int(entry_id.split(b"-", 1)[0]),
        type=EventType(fields[b"t"].decode()),
        data=orjson.loads(fields[b"d"]),
        time=float(fields[b"s"]),
    )


def _event_from_message(channel: str, message: bytes) -> Event:
    offset, type_, sent, data = message.split(b"\n", 3)
    return Event(
        channel=channel,
        offset=int(offset),
        type=EventType(type_.decode()),
        data=orjson.loads(data),
        time=float(sent),
    )


class RedisChannelBroker:
    """The production broker. ``publish`` alone works without ``start`` (for worker processes)."""

    def __init__(
        self, redis: AnyRedis, prefix: str, *, history_size: int = 1000, history_ttl: int = 86400
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._history_size = history_size
        self._history_ttl = history_ttl
        self._publish = redis.register_script(PUBLISH_SCRIPT)
        self._recover = redis.register_script(RECOVER_SCRIPT)
        self._fence = redis.register_script(FENCE_SCRIPT)
        # On a Redis Cluster, fan-out is sharded pub/sub: SPUBLISH to the channel's shard.
        self._cluster = redis if isinstance(redis, RedisCluster) else None
        self._publish_command = "PUBLISH" if self._cluster is None else "SPUBLISH"
        self._shards: ShardedSubscriber | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._sink: EventSink | None = None
        self._resync: ResyncSink | None = None
        self._confirmed: dict[str, asyncio.Future[None]] = {}

    def _keys(self, channel: str) -> list[str]:
        base = f"{self._prefix}live:{{{channel}}}"
        return [f"{base}:seq", f"{base}:log"]

    def _topic(self, channel: str) -> str:
        if self._cluster is not None:
            return f"{self._prefix}live:{{{channel}}}"
        return f"{self._prefix}live:{channel}"

    def _channel(self, topic: str) -> str:
        channel = topic[len(self._prefix) + len("live:"):]
        return channel[1:-1] if self._cluster is not None else channel

    async def publish(self, channel: str, type: EventType, data: Mapping[str, Any]) -> Event:
        payload = orjson.dumps(data)
        sent = time.time()
        args: list[str | int | bytes] = [
            self._topic(channel), self._history_size, self._history_ttl, type.value, repr(sent),
            payload, self._publish_command,
        ]
        offset = await self._publish(keys=self._keys(channel), args=args)
        return Event(channel=channel, offset=int(offset), type=type, data=dict(data), time=sent)

    async def publish_many(self, messages: Sequence[Message]) -> list[Event | None]:
        """Publish every message in one pipelined round trip (the same script each, in order:
        a channel's offsets follow the order of ``messages``)."""
        if not messages:
            return []
        sent = time.time()
        stamp = repr(sent)
        offsets = await run_scripts(self._redis, [
            (
                self._publish,
                self._keys(channel),
                [
                    self._topic(channel), self._history_size, self._history_ttl, type.value,
                    stamp, orjson.dumps(data), self._publish_command,
                ],
            )
            for channel, type, data in messages
        ])
        return [
            Event(channel=channel, offset=int(offset), type=type, data=dict(data), time=sent)
            for (channel, type, data), offset in zip(messages, offsets, strict=True)
        ]

    async def recover(self, channel: str, since: int | None) -> Recovery:
        first = "" if since is None else f"{since + 1}-0"
        offset_raw, entries = await self._recover(
            keys=self._keys(channel), args=[first, self._history_size]
        )
        offset = int(offset_raw)
        if since is None or since >= offset:
            return check_recovery(since, offset, ())
        events = [_event_from_entry(channel, entry_id, _pairs(fields))
                  for entry_id, fields in entries]
        return check_recovery(since, offset, events)

    async def start(self, sink: EventSink, resync: ResyncSink) -> None:
        self._sink, self._resync = sink, resync
        if self._cluster is not None:
            # Connections are opened per shard as channels are listened to.
            self._shards = ShardedSubscriber(self._cluster, self._handle, self._on_rehomed)
            return
        self._pubsub = self._redis.pubsub()
        control = self._prefix + _CONTROL_TOPIC
        try:
            await self._subscribe(control)
        except _CONNECTION_ERRORS:
            # Comments must still be taken while Redis is down: connect in the background.
            log.warning("Redis is not answering; live updates start when it does", exc_info=True)
            self._reader = asyncio.create_task(
                self._connect_then_read(control), name="live-redis-pubsub"
            )
            return
        self._reader = asyncio.create_task(self._read_forever(), name="live-redis-pubsub")
        await self._wait_confirmed(control)

    async def _connect_then_read(self, control: str) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self._subscribe(control)
            except _CONNECTION_ERRORS:
                continue
            log.info("live pub/sub connected")
            break
        await self._read_forever()

    async def _subscribe(self, topic: str) -> None:
        if self._pubsub is None and self._shards is None:
            raise RuntimeError("the broker is not started")
        self._confirmed[topic] = asyncio.get_running_loop().create_future()
        try:
            if self._shards is not None:
                await self._shards.subscribe(topic)
            elif self._pubsub is not None:
                await self._pubsub.subscribe(topic)
        except BaseException:
            self._confirmed.pop(topic).cancel()
            raise

    async def _wait_confirmed(self, topic: str) -> None:
        future = self._confirmed.get(topic)
        if future is not None:
            await asyncio.wait_for(asyncio.shield(future), timeout=10.0)

    async def listen(self, channel: str) -> None:
        topic = self._topic(channel)
        if topic not in self._confirmed:
            await self._subscribe(topic)
        await self._wait_confirmed(topic)

    async def unlisten(self, channel: str) -> None:
        topic = self._topic(channel)
        if self._confirmed.pop(topic, None) is None:
            return
        if self._shards is not None:
            await self._shards.unsubscribe(topic)
        elif self._pubsub is not None:
            await self._pubsub.unsubscribe(topic)

    async def _read_forever(self) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return
        while True:
            try:
                message = await pubsub.get_message(timeout=None)
            except _CONNECTION_ERRORS:
                log.warning("live pub/sub connection lost; reconnecting", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            if message is not None:
                self._handle(message)
                # One event can mean thousands of writes: let sockets (pongs) be served between.
                await asyncio.sleep(0)

    def _handle(self, message: dict[str, Any]) -> None:
        kind, topic = message["type"], _text(message["channel"])
        if kind in ("message", "smessage"):
            if self._sink is not None and topic in self._confirmed:
                self._sink(_event_from_message(self._channel(topic), message["data"]))
        elif kind in ("subscribe", "ssubscribe"):
            self._on_subscribed(topic)

    def _on_subscribed(self, topic: str) -> None:
        future = self._confirmed.get(topic)
        if future is None:
            return
        if not future.done():
            future.set_result(None)
        elif self._resync is not None and (
            self._shards is not None or topic == self._prefix + _CONTROL_TOPIC
        ):
            # redis-py re-subscribed after a reconnect: events may have been missed meanwhile.
            self._resync()

    async def _on_rehomed(self, moved: dict[str, str]) -> None:
        """A shard failed over: fence its channels' offsets, then check every channel's gaps."""
        for topic, owner in moved.items():
            await self._fence_channel(self._channel(topic), owner)
        if self._resync is not None:
            self._resync()
        for owner in set(moved.values()):
            await self._fence_shard(owner)

    async def _fence_channel(self, channel: str, owner: str) -> None:
        seq = self._keys(channel)[0]
        try:
            await self._fence(keys=[seq, seq[: -len("seq")] + "fence"],
                              args=[owner, self._history_ttl])
        except _CONNECTION_ERRORS:
            log.warning("could not fence %s after a failover", channel, exc_info=True)

    async def _fence_shard(self, owner: str) -> None:
        """Fence every channel the new master holds, subscribed here or not (one process
        scans per failover: the one that takes the lock)."""
        if self._cluster is None:
            return
        node = self._cluster.get_node(node_name=owner)
        lock = f"{self._prefix}live:{{fence}}:{owner}"
        if node is None or not await self._redis.set(lock, "1", nx=True, ex=10):
            return
        start = len(self._prefix) + len("live:{")
        client = node_client(node)
        try:
            async for key in client.scan_iter(match=f"{self._prefix}live:{{*}}:seq", count=1000):
                await self._fence_channel(_text(key)[start: -len("}:seq")], owner)
        except _CONNECTION_ERRORS:
            log.warning("could not fence the channels of %s after a failover", owner,
                        exc_info=True)
        finally:
            await client.aclose(close_connection_pool=True)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = None
        if self._shards is not None:
            await self._shards.close()
            self._shards = None
        for future in self._confirmed.values():
            future.cancel()
        self._confirmed.clear()
        self._sink = self._resync = None


def _pairs(fields: Any) -> dict[bytes, bytes]:
    """Stream entry fields as a dict, whether redis-py gave a dict or a flat list."""
    if isinstance(fields, dict):
        return fields
    return dict(zip(fields[0::2], fields[1::2], strict=True))


# KEYS: procs (sorted set of live process ids, scored by expiry). ARGV: prefix, process id,
# ttl seconds, n, then n channel/count pairs. Returns the totals for those n channels.
PRESENCE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1])
local ttl = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
redis.call('EXPIRE', KEYS[1], ttl * 2)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local mine = ARGV[1] .. 'live:{presence}:' .. ARGV[2]
redis.call('DEL', mine)
for i = 1, n do
  local count = tonumber(ARGV[4 + 2 * i])
  if count > 0 then redis.call('HSET', mine, ARGV[3 + 2 * i], count) end
end
redis.call('EXPIRE', mine, ttl)
local procs = redis.call('ZRANGE', KEYS[1], 0, -1)
local totals = {}
for i = 1, n do
  local total = 0
  for _, proc in ipairs(procs) do
    local key = ARGV[1] .. 'live:{presence}:' .. proc
    total = total + tonumber(redis.call('HGET', key, ARGV[3 + 2 * i]) or 0)
  end
  totals[i] = total
end
return totals
"""


class RedisPresence:
    """Each process writes its own counts with a TTL; a dead process's counts expire."""

    def __init__(self, redis: AnyRedis, prefix: str, process_id: str, ttl: float) -> None:
        self._redis = redis
        self._prefix = prefix
        self._process_id = process_id
        self._ttl = max(2, int(ttl + 0.999))
        self._script = redis.register_script(PRESENCE_SCRIPT)

    async def report(self, counts: Mapping[str, int]) -> dict[str, int]:
        channels = list(counts)
        args: list[str | int] = [self._prefix, self._process_id, self._ttl, len(channels)]
        for channel in channels:
            args += [channel, counts[channel]]
        totals = await self._script(keys=[f"{self._prefix}live:{{presence}}"], args=args)
        return {channel: int(total) for channel, total in zip(channels, totals, strict=True)}

    async def clear(self) -> None:
        await self._redis.zrem(f"{self._prefix}live:{{presence}}", self._process_id)
        await self._redis.delete(f"{self._prefix}live:{{presence}}:{self._process_id}")

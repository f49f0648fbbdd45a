"""Two real server processes (A, B) against one Redis: fan-out, recovery, ordering, limits."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import socket
import struct
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from server.db import Sessionmaker
from server.live.base import EventType
from server.live.redis import RedisChannelBroker
from tests.conftest import BOTH_REDIS, RedisTarget, auth
from tests.factories import make_comment
from tests.live.conftest import HISTORY_SIZE, ServerProcess, start_server

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.parametrize("redis_target", BOTH_REDIS, indirect=True, scope="module"),
]

Servers = tuple[ServerProcess, ServerProcess]
CHANNEL = "article:live-1"


async def _publish(broker: RedisChannelBroker, n: int, channel: str = CHANNEL) -> list[int]:
    events = [await broker.publish(channel, EventType.comment_published, {"id": i})
              for i in range(n)]
    return [e.offset for e in events]


async def test_event_published_through_b_reaches_a(
    servers: Servers, connect: Callable[..., Any], sessionmaker: Sessionmaker,
    token: Callable[..., str],
) -> None:
    a, b = servers
    comment_id = await make_comment(sessionmaker, article_id="live-1")
    client = await connect(a.url("/api/v1/live"))
    await client.subscribe(CHANNEL)
    async with aiohttp.ClientSession() as http:
        response = await http.put(b.url(f"/api/v1/comments/{comment_id}/reactions/like"),
                                  headers=auth(token("reader-9")))
        assert response.status == 200
    [event] = await client.events(1)
    assert event["type"] == "comment.reactions"
    assert event["data"] == {"id": comment_id, "reactions": {"like": 1}, "reaction_count": 1}


async def test_reconnect_with_since_replays_exactly_what_was_missed(
    servers: Servers, connect: Callable[..., Any], broker: RedisChannelBroker
) -> None:
    a, b = servers
    first = await connect(a.url("/api/v1/live"))
    start = (await first.subscribe(CHANNEL))["offset"]
    [seen] = await _publish(broker, 1)
    assert (await first.events(1))[0]["offset"] == seen == start + 1
    await first.ws.close()
    missed = await _publish(broker, 5)

    again = await connect(b.url("/live"))
    reply = await again.subscribe(CHANNEL, since=seen)
    assert reply["recovered"] is True
    assert reply["offset"] == missed[-1]
    replay = await again.events(5)
    assert [e["offset"] for e in replay] == missed
    assert [e["data"]["id"] for e in replay] == [0, 1, 2, 3, 4]
    [live] = await _publish(broker, 1)
    assert (await again.events(1))[0]["offset"] == live
    await again.nothing()


async def test_since_beyond_trimmed_history_is_not_recovered(
    servers: Servers, connect: Callable[..., Any], broker: RedisChannelBroker
) -> None:
    a, _ = servers
    client = await connect(a.url("/api/v1/live"))
    start = (await client.subscribe(CHANNEL))["offset"]
    await client.ws.close()
    await _publish(broker, HISTORY_SIZE + 3)

    again = await connect(a.url("/api/v1/live"))
    reply = await again.subscribe(CHANNEL, since=start)
    assert reply["recovered"] is False
    assert reply["offset"] == start + HISTORY_SIZE + 3
    await again.nothing()  # no partial replay


async def test_stale_since_after_redis_lost_the_channel_is_not_recovered(
    servers: Servers, connect: Callable[..., Any], broker: RedisChannelBroker, redis_prefix: str,
    redis_target: RedisTarget,
) -> None:
    a, b = servers
    client = await connect(a.url("/api/v1/live"))
    await client.subscribe("article:flushed")
    offsets = await _publish(broker, 3, "article:flushed")
    await client.events(3)
    await client.ws.close()
    # What a Redis restart without persistence does to this channel.
    redis = redis_target.client()
    keys = [k async for k in redis.scan_iter(match=f"{redis_prefix}live:{{article:flushed}}*")]
    assert len(keys) == 2
    await redis.delete(*keys)
    await redis.aclose()
    after = await _publish(broker, 3, "article:flushed")
    assert after[0] > offsets[-1]

    again = await connect(b.url("/api/v1/live"))
    reply = await again.subscribe("article:flushed", since=offsets[1])
    assert reply["recovered"] is False
    await again.nothing()


async def test_concurrent_publishers_arrive_in_one_order_everywhere(
    servers: Servers, connect: Callable[..., Any], redis_prefix: str, redis_target: RedisTarget
) -> None:
    a, b = servers
    clients = [await connect(s.url("/api/v1/live")) for s in (a, b, a, b)]
    for client in clients:
        await client.subscribe("article:busy")
    redises = [redis_target.client() for _ in range(4)]
    brokers = [RedisChannelBroker(r, redis_prefix) for r in redises]

    async def burst(k: int, broker: RedisChannelBroker) -> None:
        for i in range(40):
            await broker.publish("article:busy", EventType.comment_updated, {"p": k, "i": i})

    await asyncio.gather(*(burst(k, br) for k, br in enumerate(brokers)))
    await asyncio.gather(*(r.aclose() for r in redises))
    streams = [await c.events(160) for c in clients]
    offsets = [e["offset"] for e in streams[0]]
    assert offsets == list(range(offsets[0], offsets[0] + 160))
    for stream in streams[1:]:
        assert stream == streams[0]
    for k in range(4):  # each publisher's own events stay in its order
        assert [e["data"]["i"] for e in streams[0] if e["data"]["p"] == k] == list(range(40))
    for client in clients:
        await client.nothing(0.1)


def _raw_handshake(port: int, path: str) -> socket.socket:
    """A WebSocket client socket with a tiny receive buffer that we will not read from."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert b" 101 " in response.split(b"\r\n", 1)[0]
    return sock


def _masked_text(payload: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + body


def _close_code(data: bytes) -> int | None:
    """The code of the first close frame in a stream of unmasked server frames."""
    pos = 0
    while pos + 2 <= len(data):
        opcode, size = data[pos] & 0x0F, data[pos + 1] & 0x7F
        head = 2
        if size == 126:
            size, head = struct.unpack("!H", data[pos + 2:pos + 4])[0], 4
        elif size == 127:
            size, head = struct.unpack("!Q", data[pos + 2:pos + 10])[0], 10
        if opcode == 0x8:
            code: int = struct.unpack("!H", data[pos + head:pos + head + 2])[0]
            return code
        pos += head + size
    return None


def _drain(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    chunks = []
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


async def test_slow_consumer_is_closed_while_a_fast_one_keeps_receiving(
    servers: Servers, connect: Callable[..., Any], broker: RedisChannelBroker
) -> None:
    a, _ = servers
    slow = await asyncio.to_thread(_raw_handshake, a.port, "/api/v1/live")
    try:
        slow.sendall(_masked_text(b'{"op":"subscribe","channel":"article:slow"}'))
        fast = await connect(a.url("/api/v1/live"))
        await fast.subscribe("article:slow")
        await asyncio.sleep(0.2)
        blob = "x" * 16_000
        reading = asyncio.create_task(fast.events(400, timeout=10))
        for i in range(400):
            await broker.publish("article:slow", EventType.liveblog_post_published,
                                 {"i": i, "body": blob})
            await asyncio.sleep(0.002)  # a fast reader in this same process gets its turn
        received = await reading
        assert [e["data"]["i"] for e in received] == list(range(400))
        data = await asyncio.to_thread(_drain, slow)
        assert len(data) < 400 * 16_000
        assert _close_code(data) == 4008
    finally:
        slow.close()


async def test_malformed_and_unknown_messages_get_error_ops(
    servers: Servers, connect: Callable[..., Any]
) -> None:
    a, _ = servers
    client = await connect(a.url("/api/v1/live"))
    cases: list[tuple[Any, str]] = [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_op"),
        ('{"op": "dance"}', "invalid_op"),
        ('{"op": "subscribe"}', "invalid_op"),
        ('{"op": "subscribe", "channel": "article:x", "since": "yesterday"}', "invalid_op"),
        ('{"op": "subscribe", "channel": "article:x", "extra": 1}', "invalid_op"),
        ('{"op": "subscribe", "channel": "weather"}', "invalid_channel"),
        ('{"op": "unsubscribe", "channel": "article:nope"}', "not_subscribed"),
        (b"\xff\xfe binary", "invalid_json"),
    ]
    for raw, code in cases:
        if isinstance(raw, bytes):
            await client.ws.send_bytes(raw)
        else:
            await client.ws.send_str(raw)
        reply = await client.recv()
        assert reply["op"] == "error", raw
        assert reply["code"] == code, (raw, reply)
    await client.send(op="ping")
    assert (await client.recv()) == {"op": "pong"}
    await client.ws.send_str("x" * (64 * 1024 + 1))
    closed = await client.ws.receive(timeout=5)
    assert closed.type == aiohttp.WSMsgType.CLOSE
    assert closed.data == 1009


async def test_moderation_channel_needs_a_moderator(
    servers: Servers, connect: Callable[..., Any], token: Callable[..., str],
    broker: RedisChannelBroker,
) -> None:
    a, b = servers
    anonymous = await connect(a.url("/api/v1/live"))
    await anonymous.send(op="subscribe", channel="moderation")
    assert (await anonymous.recv())["code"] == "forbidden"

    reader = await connect(a.url(f"/api/v1/live?token={token('reader-1')}"))
    await reader.send(op="subscribe", channel="moderation")
    assert (await reader.recv())["code"] == "forbidden"

    await anonymous.send(op="auth", token="not-a-token")
    assert (await anonymous.recv())["code"] == "invalid_token"
    await anonymous.send(op="auth", token=token("mod-1", roles=["moderator"]))
    assert (await anonymous.recv()) == {"op": "authenticated", "user": "mod-1",
                                        "roles": ["moderator"]}
    await anonymous.subscribe("moderation")

    by_query = await connect(b.url(f"/live?token={token('mod-2', roles=['moderator'])}"))
    await by_query.subscribe("moderation")
    await broker.publish("moderation", EventType.queue_counts, {"held": 2})
    for client in (anonymous, by_query):
        [event] = await client.events(1)
        assert event["type"] == "queue.counts"

    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(a.url("/api/v1/live?token=garbage"))
    assert refused.value.status == 401


async def _sse_messages(response: aiohttp.ClientResponse, n: int) -> list[dict[str, str]]:
    """The next ``n`` SSE messages (comments, the retry hint and presence counts skipped:
    presence comes whenever the count changes, in no fixed place among the events)."""
    out: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    while len(out) < n:
        line = (await asyncio.wait_for(response.content.readline(), 5)).decode().rstrip("\n")
        if not line:
            if "data" in fields and fields.get("event") != "presence":
                out.append(fields)
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value
    return out


async def test_sse_resumes_from_last_event_id(
    servers: Servers, broker: RedisChannelBroker
) -> None:
    a, b = servers
    path = "/api/v1/articles/live-sse/events"
    async with aiohttp.ClientSession() as http:
        first = await http.get(a.url(path))
        assert first.headers["Content-Type"].startswith("text/event-stream")
        [subscribed] = await _sse_messages(first, 1)
        assert subscribed["event"] == "subscribed"
        offsets = await _publish(broker, 3, "article:live-sse")
        got = await _sse_messages(first, 3)
        assert [int(m["id"]) for m in got] == offsets
        assert {m["event"] for m in got} == {"comment.published"}
        first.close()
        missed = await _publish(broker, 2, "article:live-sse")

        again = await http.get(b.url(path), headers={"Last-Event-ID": got[-1]["id"]})
        head, *replay = await _sse_messages(again, 3)
        assert head["event"] == "subscribed"
        assert '"recovered":true' in head["data"]
        assert [int(m["id"]) for m in replay] == missed
        again.close()

        stale = await http.get(a.url(path), headers={"Last-Event-ID": str(offsets[0] - 10)})
        [head] = await _sse_messages(stale, 1)
        assert '"recovered":false' in head["data"]
        stale.close()
        bad = await http.get(a.url(path), headers={"Last-Event-ID": "abc"})
        assert bad.status == 400


async def test_presence_is_counted_across_processes(
    servers: Servers, connect: Callable[..., Any]
) -> None:
    a, b = servers
    clients = [await connect(s.url("/api/v1/live")) for s in (a, a, b)]
    for client in clients:
        await client.subscribe("article:crowd")

    async def count_reaches(client: Any, n: int) -> None:
        while not client.presence or client.presence[-1]["count"] != n:
            with contextlib.suppress(TimeoutError):
                await client.recv(timeout=0.2)

    await asyncio.wait_for(asyncio.gather(*(count_reaches(c, 3) for c in clients)), 5)
    await clients[0].ws.close()
    await asyncio.wait_for(asyncio.gather(*(count_reaches(c, 2) for c in clients[1:])), 5)


async def test_shutdown_closes_sockets_with_going_away(
    database_url: str, redis_prefix: str, connect: Callable[..., Any],
    broker: RedisChannelBroker, redis_target: RedisTarget,
) -> None:
    server = await asyncio.to_thread(start_server, database_url, redis_prefix, redis_target)
    try:
        client = await connect(server.url("/api/v1/live"))
        reply = await client.subscribe("article:bye")
        server.proc.send_signal(signal.SIGTERM)
        closed = await client.ws.receive(timeout=10)
        assert closed.type == aiohttp.WSMsgType.CLOSE
        assert closed.data == 1001
        assert await asyncio.to_thread(server.proc.wait, 10) == 0
    finally:
        server.stop()
    offsets = await _publish(broker, 2, "article:bye")
    assert offsets[0] == reply["offset"] + 1

"""Entries reach WebSocket readers connected to another server process, and a reader that
drops and comes back with its last offset gets exactly what it missed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import orjson
import pytest

from tests.conftest import BOTH_REDIS, RedisTarget, auth
from tests.live.conftest import ServerProcess, server_pair

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.parametrize("redis_target", BOTH_REDIS, indirect=True, scope="module"),
]

ARTICLE = "kenya-us-live"
CHANNEL = f"article:{ARTICLE}"


@pytest.fixture(scope="module")
def two_servers(
    database_url: str, redis_prefix: str, redis_target: RedisTarget
) -> Iterator[tuple[ServerProcess, ...]]:
    with server_pair(database_url, redis_prefix, redis_target) as pair:
        yield pair


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _next_event(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> Any:
    while True:
        message = orjson.loads((await ws.receive(timeout=timeout)).data)
        if message["op"] not in ("presence", "pong"):
            return message


async def _subscribe(ws: aiohttp.ClientWebSocketResponse, since: int | None = None) -> Any:
    op: dict[str, Any] = {"op": "subscribe", "channel": CHANNEL}
    if since is not None:
        op["since"] = since
    await ws.send_bytes(orjson.dumps(op))
    reply = await _next_event(ws)
    assert reply["op"] == "subscribed", reply
    return reply


async def test_an_entry_posted_on_b_reaches_a_reader_on_a(
    two_servers: tuple[ServerProcess, ...], http: aiohttp.ClientSession,
    token: Callable[..., str],
) -> None:
    a, b = two_servers
    editor = auth(token("editor-1", name="Amina Editor", roles=["editor"]))
    blog = b.url(f"/api/v1/articles/{ARTICLE}/liveblog")
    assert (await http.put(blog, json={"title": "Live"}, headers=editor)).status == 201

    async with http.ws_connect(a.url("/api/v1/live")) as ws:
        await _subscribe(ws)
        sent = time.monotonic()
        response = await http.post(f"{blog}/posts", json={"body": "Duale lands in *Washington*"},
                                   headers=editor)
        assert response.status == 201
        post = await response.json()
        event = await _next_event(ws)
        assert time.monotonic() - sent < 1.0, "within a second"
        assert event["op"] == "event" and event["channel"] == CHANNEL
        assert event["type"] == "liveblog.post.published"
        assert event["data"]["id"] == post["id"]
        assert event["data"]["html"] == "<p>Duale lands in <em>Washington</em></p>"

        entry = b.url(f"/api/v1/liveblog/posts/{post['id']}")
        assert (await http.patch(entry, json={"key_event": True}, headers=editor)).status == 200
        assert (await http.delete(entry, headers=editor)).status == 204
        assert (await http.put(blog, json={"status": "ended"}, headers=editor)).status == 200
        updated, deleted, status = [await _next_event(ws) for _ in range(3)]
        assert updated["type"] == "liveblog.post.updated" and updated["data"]["key_event"]
        assert deleted["type"] == "liveblog.post.deleted" and deleted["data"]["deleted"]
        assert status["type"] == "liveblog.status" and status["data"]["status"] == "ended"
        assert [e["offset"] for e in (event, updated, deleted, status)] == list(
            range(event["offset"], event["offset"] + 4)
        )


async def test_a_reader_that_drops_recovers_what_it_missed(
    two_servers: tuple[ServerProcess, ...], http: aiohttp.ClientSession,
    token: Callable[..., str],
) -> None:
    a, b = two_servers
    editor = auth(token("editor-1", roles=["editor"]))
    blog = b.url(f"/api/v1/articles/{ARTICLE}/liveblog")
    assert (await http.put(blog, json={"title": "Live"}, headers=editor)).status in (200, 201)
    async with http.ws_connect(a.url("/api/v1/live")) as ws:
        last = (await _subscribe(ws))["offset"]
    missed = []
    for text in ("first while away", "second while away"):
        response = await http.post(f"{blog}/posts", json={"body": text}, headers=editor)
        missed.append((await response.json())["id"])
    async with http.ws_connect(a.url("/api/v1/live")) as ws:
        reply = await _subscribe(ws, since=last)
        assert reply["recovered"] is True
        replay = [await _next_event(ws) for _ in missed]
        assert [e["data"]["id"] for e in replay] == missed
        assert all(e["type"] == "liveblog.post.published" for e in replay)

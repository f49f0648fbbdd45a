"""The per-process micro-cache of anonymous reads: fresh after this process's own writes and
after another process's once its ``pages.changed`` event arrives, one load per key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from server.errors import NotFound
from server.live.base import PAGES_CHANNEL, Event
from server.liveblog.caching import CachedRead, PageCache
from server.settings import Settings
from server.typedefs import HUB
from tests.clock import ManualClock
from tests.conftest import BOTH_REDIS
from tests.liveblog.conftest import Editor, read_anonymous


@pytest.mark.parametrize("redis_target", BOTH_REDIS, indirect=True)
async def test_another_process_writes_show_when_its_event_arrives(
    make_client: Callable[..., Any], make_settings: Callable[..., Settings],
    editor_token: str,
) -> None:
    # A minute of cache: only the ``pages.changed`` event can make the write show in time.
    settings = make_settings(liveblog_page_cache_seconds=60)
    here = await make_client(settings)
    there = await make_client(settings)
    heard: asyncio.Queue[Event] = asyncio.Queue()
    await here.app[HUB].watch(PAGES_CHANNEL, heard.put_nowait)
    editor = Editor(there, editor_token)
    await editor.open_blog()
    await asyncio.wait_for(heard.get(), 10)
    first = await editor.post("first")
    await asyncio.wait_for(heard.get(), 10)
    assert [p["id"] for p in (await read_anonymous(here))["items"]] == [first["id"]]
    second = await editor.post("second")
    await asyncio.wait_for(heard.get(), 10)
    fresh = await read_anonymous(here)
    assert [p["id"] for p in fresh["items"]] == [second["id"], first["id"]]
    # Signed-in readers (editors checking their work) always read the database.
    third = await editor.post("third")
    mine = await Editor(here, editor_token).read()
    assert mine["items"][0]["id"] == third["id"]


async def test_writes_through_this_process_show_at_once(
    client: Any, editor: Editor, blog: Any
) -> None:
    post = await editor.post("entry")
    assert (await read_anonymous(client))["items"][0]["body"] == "entry"
    await editor.edit(post["id"], body="corrected")
    assert (await read_anonymous(client))["items"][0]["body"] == "corrected"
    await editor.delete(post["id"])
    assert (await read_anonymous(client))["items"] == []


async def test_a_missing_blog_is_cached_as_404_for_anonymous_readers(
    client: Any, editor: Editor
) -> None:
    response = await client.get("/api/v1/articles/later/liveblog")
    assert response.status == 404
    assert response.headers["Cache-Control"].startswith("public")
    await editor.open_blog(article="later")
    assert (await client.get("/api/v1/articles/later/liveblog")).status == 200


async def test_one_load_per_key_under_a_stampede() -> None:
    cache = PageCache(ttl=10)
    calls = 0

    async def load() -> CachedRead:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return CachedRead(200, b"{}", 'W/"x"')

    key = cache.key("a", {})
    reads = await asyncio.gather(*(cache.get(key, load) for _ in range(50)))
    assert calls == 1 and all(r is reads[0] for r in reads)
    cache.invalidate("a")
    await cache.get(key, load)
    assert calls == 2


async def test_while_one_request_refreshes_the_others_get_the_expired_copy() -> None:
    clock = ManualClock()
    cache = PageCache(ttl=1, clock=clock)
    release = asyncio.Event()

    async def first() -> CachedRead:
        return CachedRead(200, b"old", None)

    async def slow() -> CachedRead:
        await release.wait()
        return CachedRead(200, b"new", None)

    key = cache.key("a", {})
    await cache.get(key, first)
    assert (await cache.get(key, slow)).body == b"old"  # fresh: no load
    await clock.advance(1.5)
    refresh = asyncio.create_task(cache.get(key, slow))
    await asyncio.sleep(0)
    assert (await cache.get(key, slow)).body == b"old"
    release.set()
    assert (await refresh).body == b"new"
    assert (await cache.get(key, slow)).body == b"new"


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache = PageCache(ttl=10)

    async def load() -> CachedRead:
        await asyncio.sleep(0.01)
        raise NotFound("nope")

    key = cache.key("a", {})
    results = await asyncio.gather(*(cache.get(key, load) for _ in range(5)),
                                   return_exceptions=True)
    assert all(isinstance(r, NotFound) for r in results)

    async def ok() -> CachedRead:
        return CachedRead(200, b"{}", None)

    assert (await cache.get(key, ok)).status == 200


async def test_a_write_during_a_load_keeps_the_old_result_out_of_the_cache() -> None:
    cache = PageCache(ttl=10)
    release = asyncio.Event()

    async def slow() -> CachedRead:
        await release.wait()
        return CachedRead(200, b"old", None)

    key = cache.key("a", {})
    task = asyncio.create_task(cache.get(key, slow))
    await asyncio.sleep(0)
    cache.invalidate("a")
    release.set()
    assert (await task).body == b"old"

    async def new() -> CachedRead:
        return CachedRead(200, b"new", None)

    assert (await cache.get(key, new)).body == b"new"


async def test_forget_all_drops_every_read_and_the_loads_under_way() -> None:
    cache = PageCache(ttl=10)
    release = asyncio.Event()

    async def read(body: bytes) -> CachedRead:
        return CachedRead(200, body, None)

    async def slow() -> CachedRead:
        await release.wait()
        return CachedRead(200, b"old", None)

    a, b = cache.key("a", {}), cache.key("b", {})
    await cache.get(a, lambda: read(b"old"))
    task = asyncio.create_task(cache.get(b, slow))
    await asyncio.sleep(0)
    cache.forget_all()  # a pages.changed may have been lost: nothing cached can be trusted
    release.set()
    assert (await task).body == b"old"
    assert (await cache.get(a, lambda: read(b"new"))).body == b"new"
    assert (await cache.get(b, lambda: read(b"new"))).body == b"new"


@pytest.mark.parametrize("ttl", [0.0])
async def test_a_zero_ttl_turns_the_cache_off(ttl: float) -> None:
    assert not PageCache(ttl=ttl).enabled

"""Newest first by publication position; cursors never yield duplicates or gaps, even while
editors keep posting (and deleting) between and during page reads."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from tests.liveblog.conftest import Editor, read_anonymous


async def _page_through(client: TestClient[Any, Any], limit: int, **params: Any) -> list[int]:
    seen: list[int] = []
    page = await read_anonymous(client, limit=limit, **params)
    while True:
        seen.extend(p["id"] for p in page["items"])
        if page["next_cursor"] is None:
            return seen
        page = await read_anonymous(client, limit=limit, cursor=page["next_cursor"], **params)


async def test_paging_while_entries_arrive_has_no_duplicates_or_gaps(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    before = [(await editor.post(f"before {i}"))["id"] for i in range(23)]
    seen: list[int] = []
    page = await read_anonymous(client, limit=5)
    while True:
        seen.extend(p["id"] for p in page["items"])
        # New entries land on top between every page the reader asks for.
        await asyncio.gather(*(editor.post(f"during {len(seen)}-{i}") for i in range(3)))
        if page["next_cursor"] is None:
            break
        page = await read_anonymous(client, limit=5, cursor=page["next_cursor"])
    assert seen == list(reversed(before))


async def test_paging_concurrently_with_a_busy_editor(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    before = [(await editor.post(f"before {i}"))["id"] for i in range(30)]
    stop = asyncio.Event()

    async def keep_posting() -> None:
        n = 0
        while not stop.is_set():
            await editor.post(f"busy {n}")
            n += 1

    writer = asyncio.create_task(keep_posting())
    try:
        for _ in range(3):
            seen = await _page_through(client, limit=4)
            tail = seen[seen.index(before[-1]):]
            assert tail == list(reversed(before))
            assert len(seen) == len(set(seen))
    finally:
        stop.set()
        await writer


async def test_deleted_and_draft_entries_are_not_in_the_timeline(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    keep = await editor.post("keep")
    gone = await editor.post("gone")
    await editor.post("draft", draft=True)
    await editor.delete(gone["id"])
    assert [p["id"] for p in (await read_anonymous(client))["items"]] == [keep["id"]]


async def test_key_events_filter_pages_on_its_own(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    key = []
    for i in range(9):
        post = await editor.post(f"entry {i}", key_event=i % 3 == 0)
        if i % 3 == 0:
            key.append(post["id"])
    assert await _page_through(client, limit=2, key_events="true") == list(reversed(key))
    everything = await read_anonymous(client, limit=2)
    response = await client.get(
        "/api/v1/articles/kenya-us-defence-2026/liveblog",
        params={"key_events": "true", "cursor": everything["next_cursor"]},
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_cursor"


async def test_limit_is_capped(client: TestClient[Any, Any], editor: Editor, blog: Any) -> None:
    for i in range(3):
        await editor.post(f"entry {i}")
    response = await client.get(
        "/api/v1/articles/kenya-us-defence-2026/liveblog", params={"limit": "500"}
    )
    assert response.status == 200
    assert len((await response.json())["items"]) == 3

"""One pinned entry at a time: pinning another unpins the first, in one step, under races too."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from tests.liveblog.conftest import Editor, Recorder, read_anonymous


async def test_the_pinned_entry_leads_the_first_page_and_keeps_its_place(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    old = await editor.post("Background: the 2023 framework", pinned=True)
    newer = [await editor.post(f"update {i}") for i in range(3)]
    page = await read_anonymous(client)
    assert page["pinned"]["id"] == old["id"] and page["pinned"]["pinned"] is True
    assert [p["id"] for p in page["items"]] == [p["id"] for p in reversed(newer)] + [old["id"]]
    first = await read_anonymous(client, limit=2)
    second = await read_anonymous(client, limit=2, cursor=first["next_cursor"])
    assert second["pinned"] is None, "only the first page leads with the pinned entry"


async def test_pinning_another_entry_unpins_the_first(
    client: TestClient[Any, Any], editor: Editor, blog: Any, published: Recorder
) -> None:
    first = await editor.post("first", pinned=True)
    second = await editor.post("second", pinned=True)
    page = await read_anonymous(client)
    assert page["pinned"]["id"] == second["id"]
    assert [p["pinned"] for p in page["items"]] == [True, False]
    unpinned = [e for e in published.of("liveblog.post.updated") if e["id"] == first["id"]]
    assert unpinned and unpinned[-1]["pinned"] is False
    third = await editor.post("third")
    moved = await editor.edit(third["id"], pinned=True)
    assert moved["pinned"] is True
    assert (await read_anonymous(client))["pinned"]["id"] == third["id"]
    history = await editor.history(second["id"])
    assert [h["action"] for h in history["history"]] == ["published", "unpinned"]


async def test_unpinning_and_deleting_leave_nothing_pinned(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    post = await editor.post("pinned", pinned=True)
    await editor.edit(post["id"], pinned=False)
    assert (await read_anonymous(client))["pinned"] is None
    await editor.edit(post["id"], pinned=True)
    await editor.delete(post["id"])
    page = await read_anonymous(client)
    assert page["pinned"] is None and page["items"] == []


async def test_a_pinned_draft_takes_the_pin_only_when_published(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    live = await editor.post("live and pinned", pinned=True)
    draft = await editor.post("draft meant to be pinned", pinned=True, draft=True)
    assert (await read_anonymous(client))["pinned"]["id"] == live["id"]
    await editor.publish(draft["id"])
    page = await read_anonymous(client)
    assert page["pinned"]["id"] == draft["id"]
    assert [p["id"] for p in page["items"] if p["pinned"]] == [draft["id"]]


async def test_racing_pins_leave_exactly_one(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    posts = [await editor.post(f"entry {i}") for i in range(8)]
    await asyncio.gather(*(editor.edit(p["id"], pinned=True) for p in posts))
    page = await read_anonymous(client)
    pinned = [p["id"] for p in page["items"] if p["pinned"]]
    assert len(pinned) == 1 and page["pinned"]["id"] == pinned[0]


async def test_racing_pinned_posts_leave_exactly_one(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    await asyncio.gather(*(editor.post(f"pinned {i}", pinned=True) for i in range(8)))
    page = await read_anonymous(client)
    assert len(page["items"]) == 8
    assert sum(p["pinned"] for p in page["items"]) == 1

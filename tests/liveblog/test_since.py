"""Polling with ``since``: only what changed after a revision, deletions as tombstones."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from tests.liveblog.conftest import ARTICLE, Editor, read_anonymous

URL = f"/api/v1/articles/{ARTICLE}/liveblog"


async def test_since_returns_only_what_changed(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    a = await editor.post("a")
    b = await editor.post("b")
    everything = await read_anonymous(client, since=0)
    assert [c["id"] for c in everything["changes"]] == [a["id"], b["id"]]
    cursor = everything["next_since"]
    assert cursor == everything["liveblog"]["revision"] and everything["more"] is False

    assert (await read_anonymous(client, since=cursor))["changes"] == []

    c = await editor.post("c")
    await editor.edit(a["id"], body="a, corrected")
    await editor.delete(b["id"])
    await editor.post("a draft", draft=True)
    delta = await read_anonymous(client, since=cursor)
    changes = {ch["id"]: ch for ch in delta["changes"]}
    assert set(changes) == {a["id"], b["id"], c["id"]}, "drafts never show"
    assert changes[a["id"]]["body"] == "a, corrected" and changes[a["id"]]["edited_at"]
    assert changes[b["id"]] == {
        "id": b["id"], "article_id": ARTICLE, "status": "deleted", "deleted": True,
        "revision": changes[b["id"]]["revision"], "deleted_at": changes[b["id"]]["deleted_at"],
    }
    revisions = [ch["revision"] for ch in delta["changes"]]
    assert revisions == sorted(revisions)
    assert (await read_anonymous(client, since=delta["next_since"]))["changes"] == []


async def test_since_pages_through_many_changes(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    ids = [(await editor.post(f"entry {i}"))["id"] for i in range(7)]
    seen: list[int] = []
    since = 0
    while True:
        delta = await read_anonymous(client, since=since, limit=3)
        seen.extend(c["id"] for c in delta["changes"])
        since = delta["next_since"]
        if not delta["more"]:
            break
    assert seen == ids


async def test_a_pin_moving_reports_both_entries(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    a = await editor.post("a", pinned=True)
    since = (await read_anonymous(client, since=0))["next_since"]
    b = await editor.post("b", pinned=True)
    changes = {c["id"]: c for c in (await read_anonymous(client, since=since))["changes"]}
    assert changes[a["id"]]["pinned"] is False and changes[b["id"]]["pinned"] is True


async def test_since_refuses_to_mix_with_paging(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    for params in ({"since": "0", "cursor": "abc"}, {"since": "0", "key_events": "true"},
                   {"since": "-1"}, {"since": "soon"}):
        response = await client.get(URL, params=params)
        assert response.status == 400, params
        assert (await response.json())["error"]["code"] == "invalid_query"


async def test_a_since_ahead_of_the_blog_is_simply_empty(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    await editor.post("a")
    delta = await read_anonymous(client, since=10_000)
    assert delta["changes"] == [] and delta["more"] is False
    assert delta["next_since"] == delta["liveblog"]["revision"]


async def test_polling_while_editors_write_misses_nothing(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    published: list[int] = []

    async def write() -> None:
        for i in range(25):
            post = await editor.post(f"entry {i}", pinned=i % 5 == 0)
            published.append(post["id"])

    writer = asyncio.create_task(write())
    seen: dict[int, Any] = {}
    since = 0
    while not writer.done() or since < (await read_anonymous(client))["liveblog"]["revision"]:
        delta = await read_anonymous(client, since=since, limit=4)
        seen.update({c["id"]: c for c in delta["changes"]})
        since = delta["next_since"]
    await writer
    assert sorted(seen) == sorted(published)
    current = {p["id"]: p for p in (await read_anonymous(client, limit=100))["items"]}
    assert {i: c["pinned"] for i, c in seen.items()} == {i: p["pinned"] for i, p in current.items()}

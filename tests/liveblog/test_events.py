"""Every reader-visible change is published on ``article:{id}`` after commit, typed and complete."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from server.live.base import PAGES_CHANNEL
from tests.liveblog.conftest import ARTICLE, Editor, Recorder

CHANNEL = f"article:{ARTICLE}"


async def test_the_broker_gets_each_event_with_its_data(
    client: TestClient[Any, Any], editor: Editor, published: Recorder
) -> None:
    await editor.open_blog()
    post = await editor.post("**Breaking**: Duale arrives", key_event=True)
    await editor.edit(post["id"], body="**Breaking**: Duale has arrived")
    await editor.delete(post["id"])
    await editor.call("PUT", f"/api/v1/articles/{ARTICLE}/liveblog", 200, json={"status": "ended"})

    assert {channel for channel, _, _ in published.events} == {CHANNEL, PAGES_CHANNEL}
    # Each write also tells every process to drop its cached pages of the blog.
    assert published.of("pages.changed") == [{"pages": "liveblog", "article_ids": [ARTICLE]}] * 5
    assert [t for c, t, _ in published.events if c == CHANNEL] == [
        "liveblog.status", "liveblog.post.published", "liveblog.post.updated",
        "liveblog.post.deleted", "liveblog.status",
    ]
    created = published.of("liveblog.post.published")[0]
    assert created["id"] == post["id"] and created["key_event"] is True
    assert created["html"] == "<p><strong>Breaking</strong>: Duale arrives</p>"
    assert created["author"] == {"id": "editor-1", "name": "Amina Editor"}
    updated = published.of("liveblog.post.updated")[0]
    assert updated["html"] == "<p><strong>Breaking</strong>: Duale has arrived</p>"
    assert updated["edited_at"] and updated["revision"] > created["revision"]
    deleted = published.of("liveblog.post.deleted")[0]
    assert deleted["id"] == post["id"] and deleted["deleted"] is True and "body" not in deleted
    assert published.of("liveblog.status")[-1]["status"] == "ended"


async def test_a_broker_outage_does_not_fail_the_request(
    client: TestClient[Any, Any], editor: Editor, blog: Any, monkeypatch: Any
) -> None:
    from server.typedefs import CHANNELS

    async def broken(*args: Any) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(client.app[CHANNELS], "publish", broken)
    post = await editor.post("stored even though the broker is down")
    page = await editor.read()
    assert [p["id"] for p in page["items"]] == [post["id"]]

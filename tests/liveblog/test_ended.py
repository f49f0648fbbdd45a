"""Ending a blog is announced; an ended blog takes no new entries until it is reopened,
but corrections to what was published stay possible."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.liveblog.conftest import ARTICLE, Editor, Recorder, read_anonymous

URL = f"/api/v1/articles/{ARTICLE}/liveblog"


async def test_ending_refuses_new_entries_and_is_announced(
    client: TestClient[Any, Any], editor: Editor, blog: Any, published: Recorder
) -> None:
    post = await editor.post("Final update")
    draft = await editor.post("Unfinished", draft=True)
    ended = await editor.call("PUT", URL, 200, json={"status": "ended"})
    assert ended["status"] == "ended" and ended["ended_at"]
    status = published.of("liveblog.status")
    assert status[-1]["status"] == "ended" and status[-1]["article_id"] == ARTICLE
    assert (await read_anonymous(client))["liveblog"]["status"] == "ended"

    refused = await editor.post("After the end", status=409)
    assert refused["error"] == {
        "code": "liveblog_ended",
        "message": "this live blog has ended; reopen it (status live) before posting",
    }
    assert (await editor.post("draft after the end", draft=True, status=409))
    assert (await editor.publish(draft["id"], status=409))["error"]["code"] == "liveblog_ended"

    fixed = await editor.edit(post["id"], body="Final update (corrected)")
    assert fixed["body"] == "Final update (corrected)"

    reopened = await editor.call("PUT", URL, 200, json={"status": "live"})
    assert reopened["status"] == "live" and reopened["ended_at"] is None
    await editor.post("We are back")
    assert [s["status"] for s in published.of("liveblog.status")] == ["ended", "live"]


async def test_put_creates_once_and_changes_only_what_is_given(
    client: TestClient[Any, Any], editor: Editor, published: Recorder
) -> None:
    created = await editor.call("PUT", URL, 201, json={"title": "Live"})
    assert created["status"] == "live" and created["title"] == "Live"
    same = await editor.call("PUT", URL, 200, json={"title": "Live"})
    assert same["revision"] == created["revision"], "no change, no new revision"
    renamed = await editor.call("PUT", URL, 200, json={"title": "Live: day two"})
    assert renamed["status"] == "live" and renamed["title"] == "Live: day two"
    ended_new = await editor.call(
        "PUT", "/api/v1/articles/other-story/liveblog", 201, json={"status": "ended"}
    )
    assert ended_new["status"] == "ended" and ended_new["title"] is None
    assert len(published.of("liveblog.status")) == 3


async def test_posting_to_an_article_without_a_blog_is_404(
    client: TestClient[Any, Any], editor: Editor
) -> None:
    response = await editor.post("hello", article="no-blog", status=404)
    assert response["error"]["code"] == "liveblog_not_found"

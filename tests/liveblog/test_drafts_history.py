"""Drafts wait unseen until any editor publishes them; every change is kept in an entry's
append-only history, so a correction is visible as one to editors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import auth
from tests.liveblog.conftest import ARTICLE, Editor, Recorder, read_anonymous


async def test_a_draft_is_published_later_by_another_editor(
    client: TestClient[Any, Any], editor: Editor, blog: Any, token: Callable[..., str],
    published: Recorder,
) -> None:
    draft = await editor.post("Statement expected from the Pentagon", draft=True, key_event=True)
    assert draft["status"] == "draft" and draft["published_at"] is None
    later = await editor.post("Meanwhile in Nairobi")
    assert [p["id"] for p in (await read_anonymous(client))["items"]] == [later["id"]]
    assert published.of("liveblog.post.published") == [published.of("liveblog.post.published")[0]]

    drafts = await editor.call("GET", f"/api/v1/articles/{ARTICLE}/liveblog/drafts", 200)
    assert [d["id"] for d in drafts["items"]] == [draft["id"]]

    colleague = Editor(client, token("editor-2", name="Brian Desk", roles=["editor"]))
    await colleague.edit(draft["id"], body="Statement from the Pentagon: *read it here*")
    assert len(published.of("liveblog.post.updated")) == 0, "editing a draft is not news"
    out = await colleague.publish(draft["id"])
    assert out["status"] == "published" and out["published_at"]
    assert out["author"] == {"id": "editor-1", "name": "Amina Editor"}, "the byline stays"

    page = await read_anonymous(client)
    assert [p["id"] for p in page["items"]] == [draft["id"], later["id"]], "published now: on top"
    assert page["items"][0]["html"] == "<p>Statement from the Pentagon: <em>read it here</em></p>"
    assert [e["id"] for e in published.of("liveblog.post.published")] == [later["id"], draft["id"]]
    assert (await editor.call("GET", f"/api/v1/articles/{ARTICLE}/liveblog/drafts", 200))[
        "items"] == []

    again = await colleague.publish(draft["id"], status=409)
    assert again["error"]["code"] == "already_published"
    history = await editor.history(draft["id"])
    assert [(h["action"], h["actor"]["id"]) for h in history["history"]] == [
        ("drafted", "editor-1"), ("edited", "editor-2"), ("published", "editor-2"),
    ]


async def test_drafts_page_newest_first(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    ids = [(await editor.post(f"draft {i}", draft=True))["id"] for i in range(5)]
    path = f"/api/v1/articles/{ARTICLE}/liveblog/drafts"
    first = await editor.call("GET", path, 200, params={"limit": "3"})
    second = await editor.call(
        "GET", path, 200, params={"limit": "3", "cursor": first["next_cursor"]}
    )
    assert [d["id"] for d in first["items"] + second["items"]] == list(reversed(ids))
    assert second["next_cursor"] is None


async def test_corrections_and_deletions_are_kept_in_history(
    client: TestClient[Any, Any], editor: Editor, blog: Any, token: Callable[..., str]
) -> None:
    post = await editor.post("Austin met Duale on Tuesday.")
    corrected = await editor.edit(post["id"], body="Austin met Duale on Wednesday.", key_event=True)
    assert corrected["edited_at"] and corrected["key_event"] is True
    await editor.delete(post["id"])

    history = await editor.history(post["id"])
    assert history["post"]["status"] == "deleted"
    assert history["post"]["body"] == "Austin met Duale on Wednesday.", "editors keep the text"
    rows = history["history"]
    assert [r["action"] for r in rows] == ["published", "edited", "deleted"]
    assert rows[0]["body"] == "Austin met Duale on Tuesday."
    assert rows[1]["body"] == "Austin met Duale on Wednesday." and rows[1]["key_event"] is True
    assert all(r["actor"]["name"] == "Amina Editor" for r in rows)

    reader = await client.get(
        f"/api/v1/liveblog/posts/{post['id']}/history", headers=auth(token("reader-1"))
    )
    assert reader.status == 403
    gone = await editor.edit(post["id"], body="back?", status=404)
    assert gone["error"]["code"] == "post_not_found"
    await editor.delete(post["id"], status=404)


async def test_an_edit_that_changes_nothing_records_nothing(
    client: TestClient[Any, Any], editor: Editor, blog: Any, published: Recorder
) -> None:
    post = await editor.post("Same words")
    await editor.edit(post["id"], body="Same words", key_event=False, pinned=False)
    assert [h["action"] for h in (await editor.history(post["id"]))["history"]] == ["published"]
    assert published.of("liveblog.post.updated") == []


async def test_deleting_a_draft_is_silent(
    client: TestClient[Any, Any], editor: Editor, blog: Any, published: Recorder
) -> None:
    draft = await editor.post("never mind", draft=True)
    await editor.delete(draft["id"])
    assert published.of("liveblog.post.deleted") == []
    assert (await read_anonymous(client, since=0))["changes"] == []
    await editor.publish(draft["id"], status=404)

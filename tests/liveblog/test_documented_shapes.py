"""Every live-blog answer has the shape the OpenAPI document gives it (extra keys refused)."""

from __future__ import annotations

from typing import Any

from server.liveblog.docs import (
    DraftsPage,
    EditorEntryOut,
    EntryHistory,
    LiveBlogOut,
    Timeline,
    TimelineChanges,
    TimelinePage,
)
from tests.liveblog.conftest import ARTICLE, Editor

TIMELINE = f"/api/v1/articles/{ARTICLE}/liveblog"


async def test_answers_match_their_documented_models(editor: Editor) -> None:
    LiveBlogOut.model_validate(await editor.open_blog())
    kept = await editor.post("Talks begin", key_event=True, pinned=True)
    gone = await editor.post("A wrong figure")
    draft = await editor.post("Statement expected", draft=True)
    for entry in (kept, gone, draft):
        EditorEntryOut.model_validate(entry)
    EditorEntryOut.model_validate(await editor.edit(kept["id"], body="Talks have begun"))
    EditorEntryOut.model_validate(await editor.publish(draft["id"]))
    await editor.delete(gone["id"])

    page: Any = Timeline.model_validate(await editor.call("GET", TIMELINE, 200)).root
    assert isinstance(page, TimelinePage) and page.pinned is not None
    changes = Timeline.model_validate(await editor.call("GET", f"{TIMELINE}?since=0", 200)).root
    assert isinstance(changes, TimelineChanges)
    assert any(getattr(c, "deleted", False) for c in changes.changes), "the tombstone is there"
    DraftsPage.model_validate(await editor.call("GET", f"{TIMELINE}/drafts", 200))
    history = await editor.call("GET", f"/api/v1/liveblog/posts/{gone['id']}/history", 200)
    assert EntryHistory.model_validate(history).post.status == "deleted"
    LiveBlogOut.model_validate(
        await editor.call("PUT", TIMELINE, 200, json={"status": "ended"})
    )

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.liveblog.conftest import ARTICLE, Editor, read_anonymous


async def test_an_editor_runs_a_blog(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    assert blog["status"] == "live" and blog["title"] == "Live: Duale meets Austin"
    first = await editor.post("Duale arrives at the **Pentagon**.")
    second = await editor.post("Austin offers condolences for the gas explosion.", key_event=True)
    page = await read_anonymous(client)
    assert [p["id"] for p in page["items"]] == [second["id"], first["id"]]
    assert page["items"][1]["html"] == "<p>Duale arrives at the <strong>Pentagon</strong>.</p>"
    assert page["items"][0]["author"] == {"id": "editor-1", "name": "Amina Editor"}
    assert page["pinned"] is None and page["next_cursor"] is None
    ended = await editor.call(
        "PUT", f"/api/v1/articles/{ARTICLE}/liveblog", 200, json={"status": "ended"}
    )
    assert ended["status"] == "ended" and ended["ended_at"]
    refused = await editor.post("one more", status=409)
    assert refused["error"]["code"] == "liveblog_ended"

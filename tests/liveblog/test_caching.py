"""Anonymous reads are cacheable by a CDN; If-None-Match answers 304 until the blog changes."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from server.liveblog.caching import etag_matches, make_etag
from tests.liveblog.conftest import ARTICLE, Editor

URL = f"/api/v1/articles/{ARTICLE}/liveblog"


async def test_etag_and_304_for_anonymous_readers(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    await editor.post("first")
    first = await client.get(URL)
    assert first.status == 200
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public, max-age=5")
    assert "Authorization" in first.headers["Vary"]
    again = await client.get(URL, headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.headers["ETag"] == etag and await again.read() == b""
    assert again.headers["Cache-Control"].startswith("public")
    listed = await client.get(URL, headers={"If-None-Match": f'"other", {etag}'})
    assert listed.status == 304
    strong = await client.get(URL, headers={"If-None-Match": etag.removeprefix("W/")})
    assert strong.status == 304, "If-None-Match uses the weak comparison"
    assert (await client.get(URL, headers={"If-None-Match": "*"})).status == 304

    await editor.post("second")
    changed = await client.get(URL, headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    assert len((await changed.json())["items"]) == 2


async def test_every_kind_of_change_changes_the_etag(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    post = await editor.post("entry")
    tags = {(await client.get(URL)).headers["ETag"]}
    steps = [
        lambda: editor.edit(post["id"], body="corrected"),
        lambda: editor.edit(post["id"], pinned=True),
        lambda: editor.call("PUT", URL, 200, json={"title": "New title"}),
        lambda: editor.call("PUT", URL, 200, json={"status": "ended"}),
        lambda: editor.delete(post["id"]),
    ]
    for step in steps:
        await step()
        tags.add((await client.get(URL)).headers["ETag"])
    assert len(tags) == len(steps) + 1


async def test_drafts_leave_readers_caches_valid(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    await editor.post("entry")
    etag = (await client.get(URL)).headers["ETag"]
    draft = await editor.post("a draft", draft=True)
    await editor.edit(draft["id"], body="a better draft")
    assert (await client.get(URL, headers={"If-None-Match": etag})).status == 304
    await editor.publish(draft["id"])
    assert (await client.get(URL, headers={"If-None-Match": etag})).status == 200


async def test_queries_have_their_own_etags(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    await editor.post("entry", key_event=True)
    plain = (await client.get(URL)).headers["ETag"]
    key = (await client.get(URL, params={"key_events": "true"})).headers["ETag"]
    since = (await client.get(URL, params={"since": "0"})).headers["ETag"]
    assert len({plain, key, since}) == 3
    assert (await client.get(URL, params={"key_events": "true"},
                             headers={"If-None-Match": plain})).status == 200


async def test_signed_in_reads_are_private(
    client: TestClient[Any, Any], editor: Editor, blog: Any
) -> None:
    response = await client.get(URL, headers=editor.headers)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "private, no-cache"
    etag = response.headers["ETag"]
    again = await client.get(URL, headers={**editor.headers, "If-None-Match": etag})
    assert again.status == 304 and again.headers["Cache-Control"] == "private, no-cache"


async def test_a_missing_blog_is_404_with_or_without_if_none_match(
    client: TestClient[Any, Any],
) -> None:
    for headers in ({}, {"If-None-Match": "*"}):
        response = await client.get("/api/v1/articles/no-blog-here/liveblog", headers=headers)
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "liveblog_not_found"


def test_etag_comparison() -> None:
    tag = make_etag("a", 3, {"limit": 5})
    assert tag.startswith('W/"') and tag != make_etag("a", 4, {"limit": 5})
    assert tag == make_etag("a", 3, {"limit": 5})
    assert tag != make_etag("b", 3, {"limit": 5})
    assert etag_matches(tag, tag) and etag_matches(tag.removeprefix("W/"), tag)
    assert not etag_matches('"nope"', tag) and not etag_matches("", tag)

"""GET threads and replies: ordering, first replies, the viewer's own comments, cursors."""

from __future__ import annotations

import pytest

from server.comments.models import CommentStatus
from tests.conftest import BOTH_DATABASES, auth
from tests.factories import make_comment, set_status

# The API through PgBouncer (transaction pooling) as well as directly.
pytestmark = pytest.mark.parametrize("database_target", BOTH_DATABASES, indirect=True)

URL = "/api/v1/articles/story-1/comments"


async def test_empty_thread(client):
    r = await client.get(URL)
    assert r.status == 200
    data = await r.json()
    assert data["items"] == [] and data["next_cursor"] is None and data["comment_count"] == 0


async def test_only_published_comments_are_listed(client, sessionmaker):
    shown = await make_comment(sessionmaker, article_id="story-1")
    for status in (CommentStatus.pending, CommentStatus.held, CommentStatus.rejected):
        await make_comment(sessionmaker, article_id="story-1", status=status)
    data = await (await client.get(URL)).json()
    assert [c["id"] for c in data["items"]] == [shown]
    assert data["comment_count"] == 1
    assert data["awaiting_review"] == []


async def test_viewer_sees_own_pending_and_held_marked(client, token, sessionmaker):
    mine = await make_comment(
        sessionmaker, article_id="story-1", author="amina", status=CommentStatus.held
    )
    await make_comment(
        sessionmaker, article_id="story-1", author="other", status=CommentStatus.held
    )
    data = await (await client.get(URL, headers=auth(token("amina")))).json()
    assert [c["id"] for c in data["awaiting_review"]] == [mine]
    assert data["awaiting_review"][0]["awaiting_review"] is True
    assert data["awaiting_review"][0]["mine"] is True
    anonymous = await (await client.get(URL)).json()
    assert anonymous["awaiting_review"] == []


async def test_sorts_and_first_replies(client, token, sessionmaker, settings):
    a = await make_comment(sessionmaker, article_id="story-1", body="first")
    b = await make_comment(sessionmaker, article_id="story-1", body="second")
    replies = [
        await make_comment(sessionmaker, article_id="story-1", parent_id=a)
        for _ in range(settings.first_replies + 2)
    ]
    await client.put(f"/api/v1/comments/{b}/reactions/like", headers=auth(token("r1")))

    newest = await (await client.get(URL + "?sort=newest")).json()
    assert [c["id"] for c in newest["items"]] == [b, a]
    first = newest["items"][1]
    assert first["reply_count"] == len(replies)
    assert [r["id"] for r in first["replies"]] == replies[: settings.first_replies]

    oldest = await (await client.get(URL + "?sort=oldest")).json()
    assert [c["id"] for c in oldest["items"]] == [a, b]
    top = await (await client.get(URL + "?sort=top")).json()
    assert [c["id"] for c in top["items"]] == [b, a]
    assert top["items"][0]["reactions"] == {"like": 1}

    more = await (await client.get(f"/api/v1/comments/{a}/replies?limit=3")).json()
    assert [r["id"] for r in more["items"]] == replies[:3]
    rest = await (
        await client.get(f"/api/v1/comments/{a}/replies?limit=3&cursor={more['next_cursor']}")
    ).json()
    assert [r["id"] for r in rest["items"]] == replies[3:]
    assert rest["next_cursor"] is None


async def test_pages_are_stable_while_comments_arrive(client, sessionmaker):
    ids = [await make_comment(sessionmaker, article_id="story-1") for _ in range(7)]
    for sort, expected in (("newest", ids[::-1]), ("oldest", ids), ("top", ids[::-1])):
        seen: list[int] = []
        cursor = None
        while True:
            query = f"?sort={sort}&limit=3" + (f"&cursor={cursor}" if cursor else "")
            page = await (await client.get(URL + query)).json()
            seen += [c["id"] for c in page["items"]]
            # New comments land while the reader pages: no duplicates, no gaps.
            await make_comment(sessionmaker, article_id="story-1")
            cursor = page["next_cursor"]
            if cursor is None:
                break
        if sort == "oldest":
            assert seen[: len(expected)] == expected and len(set(seen)) == len(seen)
        else:
            assert seen == expected, sort
        for extra in await _all_ids(sessionmaker):
            if extra not in ids:
                await set_status(sessionmaker, extra, CommentStatus.rejected)


async def _all_ids(sessionmaker) -> list[int]:
    from sqlalchemy import select

    from server.comments.models import Comment

    async with sessionmaker() as session:
        return list(await session.scalars(select(Comment.id).where(Comment.visible.is_(True))))


async def test_bad_query_parameters(client, sessionmaker):
    await make_comment(sessionmaker, article_id="story-1")
    for query, code in (
        ("?sort=random", "invalid_query"),
        ("?limit=0", "invalid_query"),
        ("?limit=1000", "invalid_query"),
        ("?limit=abc", "invalid_query"),
        ("?cursor=%%%", "invalid_cursor"),
        ("?cursor=eyJzIjoibmV3ZXN0In0", "invalid_cursor"),
        ("?unknown=1", "invalid_query"),
    ):
        r = await client.get(URL + query)
        assert r.status == 400, query
        assert (await r.json())["error"]["code"] == code, query
    page = await (await client.get(URL + "?sort=newest&limit=1")).json()
    r = await client.get(
        URL + f"?sort=oldest&cursor={page['next_cursor'] or 'eyJzIjoibmV3ZXN0IiwiaWQiOjF9'}"
    )
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_cursor"


async def test_replies_of_unknown_or_hidden_comment(client, sessionmaker):
    held = await make_comment(sessionmaker, status=CommentStatus.held)
    for cid, status in ((held, 404), (999999, 404)):
        r = await client.get(f"/api/v1/comments/{cid}/replies")
        assert r.status == status
    for bad in ("abc", "0", "-1", "1e3", "99999999999999999999"):
        r = await client.get(f"/api/v1/comments/{bad}/replies")
        assert r.status in (400, 404), bad
        assert "error" in await r.json()


async def test_counts_for_many_articles(client, sessionmaker):
    for _ in range(3):
        await make_comment(sessionmaker, article_id="a1")
    await make_comment(sessionmaker, article_id="a2")
    await make_comment(sessionmaker, article_id="a2", status=CommentStatus.held)
    r = await client.get("/api/v1/articles/counts?ids=a1,a2,never-seen")
    assert (await r.json())["counts"] == {"a1": 3, "a2": 1, "never-seen": 0}
    too_many = ",".join(f"x{i}" for i in range(101))
    assert (await client.get(f"/api/v1/articles/counts?ids={too_many}")).status == 400
    assert (await client.get("/api/v1/articles/counts")).status == 400
    assert (await client.get("/api/v1/articles/counts?ids=bad%20id")).status == 400


async def test_anonymous_pages_are_cached_and_local_writes_show_at_once(
    make_client, make_settings, token, sessionmaker
):
    client = await make_client(make_settings(thread_cache_seconds=30))
    first = await make_comment(sessionmaker, article_id="story-1", author="amina")
    page = await client.get(URL)
    assert page.headers["Cache-Control"] == "public, max-age=30"
    assert [c["id"] for c in (await page.json())["items"]] == [first]
    # A comment published by another process (here: a factory) waits for the cache to expire…
    await make_comment(sessionmaker, article_id="story-1")
    assert len((await (await client.get(URL)).json())["items"]) == 1
    # …signed-in readers are never served from it…
    signed_in = await client.get(URL, headers=auth(token("r1")))
    assert signed_in.headers["Cache-Control"] == "private, no-store"
    assert len((await signed_in.json())["items"]) == 2
    # …and a write through this process drops the article's pages at once.
    await client.put(f"/api/v1/comments/{first}/reactions/like", headers=auth(token("r1")))
    fresh = await (await client.get(URL)).json()
    assert len(fresh["items"]) == 2 and fresh["items"][1]["reactions"] == {"like": 1}

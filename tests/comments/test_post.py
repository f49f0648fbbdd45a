"""POST /articles/{id}/comments: storing, validation, idempotency, limits and refusals."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from server.articles.models import Article
from server.comments.models import Comment, CommentStatus
from server.users.models import User
from tests.conftest import BOTH_DATABASES, auth
from tests.factories import make_comment, make_user

# The API through PgBouncer (transaction pooling) as well as directly.
pytestmark = pytest.mark.parametrize("database_target", BOTH_DATABASES, indirect=True)

URL = "/api/v1/articles/story-1/comments"


async def count_comments(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Comment)) or 0)


async def test_post_stores_pending_and_enqueues(
    client, token, sessionmaker, redis_client, settings
):
    r = await client.post(
        URL, json={"body": "  Good reporting.\r\n\r\nThanks  "}, headers=auth(token("amina"))
    )
    assert r.status == 202
    data = await r.json()
    assert data["status"] == "pending"
    assert data["body"] == "Good reporting.\n\nThanks"
    assert data["html"] == "<p>Good reporting.</p><p>Thanks</p>"
    assert data["author"] == {"id": "amina", "name": "Amina"}
    assert data["awaiting_review"] is True
    async with sessionmaker() as session:
        stored = await session.get(Comment, data["id"])
        assert stored is not None and stored.status == "pending" and not stored.visible
        article = await session.get(Article, "story-1")
        assert article is not None and article.comments == "open" and article.moderation == "post"
        user = await session.get(User, "amina")
        assert user is not None and user.name == "Amina"
    entries = await redis_client.xrange(f"{settings.redis_prefix}jobs:score")
    assert [int(fields[b"comment_id"]) for _id, fields in entries] == [data["id"]]


async def test_html_is_escaped_and_links_are_ugc(client, token):
    body = '<script>alert(1)</script> see https://example.com/a?b=1&c=2 "quoted"'
    r = await client.post(URL, json={"body": body}, headers=auth(token()))
    html = (await r.json())["html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow ugc"' in html
    assert "&quot;quoted&quot;" in html


async def test_body_normalisation_and_bounds(client, token, sessionmaker):
    headers = auth(token())
    cases = {
        "": "body_empty",
        "   \n\t  ": "body_empty",
        "\u200b": "body_empty",
        "x" * 5001: "body_too_long",
    }
    for body, code in cases.items():
        r = await client.post(URL, json={"body": body}, headers=headers)
        assert r.status == 422, body
        assert (await r.json())["error"]["code"] == code
    r = await client.post(URL, json={"body": "x" * 5000}, headers=headers)
    assert r.status == 202
    r = await client.post(URL, json={"body": "e\u0301\x07ok"}, headers=headers)
    assert (await r.json())["body"] == "\u00e9ok"  # NFC, control character removed
    assert await count_comments(sessionmaker) == 2


async def test_bad_payloads_are_4xx_and_store_nothing(client, token, sessionmaker):
    headers = auth(token())
    bad = [
        (b"not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b'{"body": 5}', 422, "invalid"),
        (b'{"body": "hi", "extra": 1}', 422, "invalid"),
        (b'{"body": "hi", "parent_id": "1"}', 422, "invalid"),
        (b'{"body": "hi", "parent_id": -3}', 422, "invalid"),
        (b'{"text": "hi"}', 422, "invalid"),
    ]
    for raw, status, code in bad:
        r = await client.post(
            URL, data=raw, headers={**headers, "Content-Type": "application/json"}
        )
        assert r.status == status, raw
        body = await r.json()
        assert body["error"]["code"] == code, raw
        assert body["error"]["message"]
    r = await client.post(URL, data=b'{"body": "' + b"x" * 70_000 + b'"}', headers=headers)
    assert r.status == 413
    assert (await r.json())["error"]["code"] == "payload_too_large"
    r = await client.post("/api/v1/articles/bad id!/comments", json={"body": "hi"}, headers=headers)
    assert r.status == 400
    assert await count_comments(sessionmaker) == 0


async def test_auth_failures(client, token, settings):
    r = await client.post(URL, json={"body": "hi"})
    assert r.status == 401 and (await r.json())["error"]["code"] == "unauthenticated"
    r = await client.post(URL, json={"body": "hi"}, headers={"Authorization": "Basic abc"})
    assert r.status == 401 and (await r.json())["error"]["code"] == "invalid_token"
    forged = token().rsplit(".", 1)[0] + ".c2lnbmF0dXJl"
    r = await client.post(URL, json={"body": "hi"}, headers=auth(forged))
    assert r.status == 401 and (await r.json())["error"]["code"] == "invalid_token"
    expired = token(ttl=-120)
    r = await client.post(URL, json={"body": "hi"}, headers=auth(expired))
    assert r.status == 401 and (await r.json())["error"]["code"] == "token_expired"
    within_leeway = token(ttl=-5)
    r = await client.post(URL, json={"body": "hi"}, headers=auth(within_leeway))
    assert r.status == 202


async def test_idempotency_key_returns_first_result(client, token, sessionmaker):
    headers = {**auth(token()), "Idempotency-Key": "k-1"}
    first = await client.post(URL, json={"body": "once"}, headers=headers)
    again = await client.post(URL, json={"body": "once"}, headers=headers)
    assert first.status == again.status == 202
    assert (await first.json())["id"] == (await again.json())["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await client.post(URL, json={"body": "different"}, headers=headers)
    assert other.status == 422
    assert (await other.json())["error"]["code"] == "idempotency_key_reused"
    assert await count_comments(sessionmaker) == 1


async def test_concurrent_retries_make_one_comment(client, token, sessionmaker):
    headers = {**auth(token()), "Idempotency-Key": "burst"}
    replies = await asyncio.gather(
        *[client.post(URL, json={"body": "retry storm"}, headers=headers) for _ in range(8)]
    )
    ids = {(await r.json())["id"] for r in replies}
    assert {r.status for r in replies} == {202}
    assert len(ids) == 1
    assert await count_comments(sessionmaker) == 1


async def test_closed_article_is_refused(client, token, sessionmaker):
    editor = auth(token("ed", roles=["editor"]))
    r = await client.put("/api/v1/articles/story-1", json={"comments": "closed"}, headers=editor)
    assert r.status == 200
    r = await client.post(URL, json={"body": "hi"}, headers=auth(token()))
    assert r.status == 403
    assert (await r.json())["error"]["code"] == "article_closed"
    r = await client.put(
        "/api/v1/articles/story-1",
        json={"comments": "open", "closes_at": "2001-01-01T00:00:00Z"},
        headers=editor,
    )
    assert r.status == 200
    r = await client.post(URL, json={"body": "hi"}, headers=auth(token()))
    assert (await r.json())["error"]["code"] == "article_closed"
    assert await count_comments(sessionmaker) == 0


async def test_banned_and_suspended_users_are_refused(client, token, sessionmaker):
    await make_user(sessionmaker, "banned-1", status="banned")
    r = await client.post(URL, json={"body": "hi"}, headers=auth(token("banned-1")))
    assert r.status == 403 and (await r.json())["error"]["code"] == "user_banned"
    await make_user(sessionmaker, "susp-1", status="suspended")
    r = await client.post(URL, json={"body": "hi"}, headers=auth(token("susp-1")))
    assert r.status == 403 and (await r.json())["error"]["code"] == "user_suspended"
    assert await count_comments(sessionmaker) == 0


async def test_replies_attach_and_depth_is_capped(client, token, sessionmaker, settings):
    parent = await make_comment(sessionmaker, article_id="story-1")
    chain = [parent]
    for _ in range(settings.max_depth):
        chain.append(await make_comment(sessionmaker, article_id="story-1", parent_id=chain[-1]))
    deepest = chain[-1]
    r = await client.post(URL, json={"body": "deeper", "parent_id": deepest}, headers=auth(token()))
    assert r.status == 202
    data = await r.json()
    assert data["depth"] == settings.max_depth
    assert data["parent_id"] == chain[-2]  # joins the deepest allowed level


async def test_reply_parent_rules(client, token, sessionmaker):
    headers = auth(token())
    other = await make_comment(sessionmaker, article_id="story-2")
    held = await make_comment(sessionmaker, article_id="story-1", status=CommentStatus.held)
    r = await client.post(URL, json={"body": "x", "parent_id": other}, headers=headers)
    assert r.status == 422 and (await r.json())["error"]["code"] == "invalid_parent"
    r = await client.post(URL, json={"body": "x", "parent_id": held}, headers=headers)
    assert r.status == 422 and (await r.json())["error"]["code"] == "invalid_parent"
    r = await client.post(URL, json={"body": "x", "parent_id": 999999}, headers=headers)
    assert r.status == 404 and (await r.json())["error"]["code"] == "parent_not_found"


async def test_rate_limit_per_user(make_client, make_settings, token):
    client = await make_client(
        make_settings(rate_limit_enabled=True, rate_limit_comments_user="3/minute")
    )
    headers = auth(token("chatty"))
    statuses = [
        (await client.post(URL, json={"body": f"n{i}"}, headers=headers)).status for i in range(4)
    ]
    assert statuses == [202, 202, 202, 429]
    r = await client.post(URL, json={"body": "again"}, headers=headers)
    assert r.status == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60  # the 3/minute window frees up
    assert (await r.json())["error"]["code"] == "rate_limited"
    other = await client.post(URL, json={"body": "me too"}, headers=auth(token("quiet")))
    assert other.status == 202


async def test_rate_limit_per_ip(make_client, make_settings, token):
    client = await make_client(
        make_settings(rate_limit_enabled=True, rate_limit_comments_ip="2/minute")
    )
    statuses = [
        (await client.post(URL, json={"body": "hi"}, headers=auth(token(f"u{i}")))).status
        for i in range(3)
    ]
    assert statuses == [202, 202, 429]


async def test_rate_limit_counts_posts_with_fresh_idempotency_keys(
    make_client, make_settings, token
):
    client = await make_client(
        make_settings(rate_limit_enabled=True, rate_limit_comments_user="3/minute")
    )
    headers = auth(token("keyed"))
    statuses = [
        (
            await client.post(
                URL, json={"body": f"n{i}"}, headers={**headers, "Idempotency-Key": f"k-{i}"}
            )
        ).status
        for i in range(5)
    ]
    assert statuses == [202, 202, 202, 429, 429]


async def test_post_publishes_its_event_after_storing_and_a_refusal_none(
    client, token, sessionmaker
):
    from server.lifecycle.events import EventKind
    from server.typedefs import EVENTS

    seen = []

    async def spy(events):
        async with sessionmaker() as session:  # already committed when subscribers hear it
            for event in events:
                stored = await session.get(Comment, event.comment_id)
                seen.append((event.kind, event.comment_id, stored is not None))

    client.app[EVENTS].subscribe(spy)
    r = await client.post(URL, json={"body": "First."}, headers=auth(token("amina")))
    assert r.status == 202
    posted = (await r.json())["id"]
    assert seen == [(EventKind.posted, posted, True)]
    r = await client.post(
        URL, json={"body": "A reply.", "parent_id": posted}, headers=auth(token("amina"))
    )
    assert r.status == 422  # a pending comment takes no replies
    assert seen == [(EventKind.posted, posted, True)]
    assert await count_comments(sessionmaker) == 1


async def test_first_post_names_the_article_it_creates(make_client, make_settings, token):
    """The widget sends the page's title and URL with each post: they name a new article, the
    URL only on a site allowed to embed Baraza, and never change an existing article."""
    client = await make_client(make_settings(cors_origins="https://news.example"))
    headers = auth(token("amina"))
    hint = {"title": "  Duale meets\n Austin ", "url": "https://news.example/duale-austin"}
    r = await client.post("/api/v1/articles/named-1/comments",
                          json={"body": "First!", "article": hint}, headers=headers)
    assert r.status == 202, await r.text()
    article = await (await client.get("/api/v1/articles/named-1")).json()
    assert (article["title"], article["url"]) == (
        "Duale meets Austin", "https://news.example/duale-austin")

    # A later post cannot rename or re-point it.
    other = {"title": "Something else", "url": "https://news.example/elsewhere"}
    r = await client.post("/api/v1/articles/named-1/comments",
                          json={"body": "Second", "article": other}, headers=auth(token("baraka")))
    assert r.status == 202
    article = await (await client.get("/api/v1/articles/named-1")).json()
    assert (article["title"], article["url"]) == (
        "Duale meets Austin", "https://news.example/duale-austin")

    # A URL on a site not allowed to embed is left out (the post still goes through).
    foreign = {"title": "Phish", "url": "https://evil.example/news.example"}
    r = await client.post("/api/v1/articles/named-2/comments",
                          json={"body": "Hello", "article": foreign}, headers=headers)
    assert r.status == 202
    article = await (await client.get("/api/v1/articles/named-2")).json()
    assert (article["title"], article["url"]) == ("Phish", None)

    # Not a URL, or an unknown field: 422 like any bad payload.
    for bad in ({"url": "javascript:alert(1)"}, {"title": "x" * 501}, {"comments": "closed"}):
        r = await client.post("/api/v1/articles/named-3/comments",
                              json={"body": "Hi", "article": bad}, headers=headers)
        assert r.status == 422, bad

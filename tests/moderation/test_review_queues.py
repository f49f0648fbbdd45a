"""Review queues: membership through a comment's life, counts, filters, order, pages, items."""

from __future__ import annotations

import datetime as dt

from server.comments.models import CommentStatus
from tests.factories import make_comment
from tests.moderation.review_support import (
    decide,
    machine_decide,
    membership,
    mod,
    queue_ids,
    report,
)


async def test_each_queue_through_a_comments_life(client, token, sessionmaker):
    cid = await make_comment(sessionmaker, author="amina", status=CommentStatus.pending)
    assert await membership(client, token, cid) == {"pending"}
    await machine_decide(sessionmaker, cid, CommentStatus.held, risk=0.85)
    assert await membership(client, token, cid) == {"held"}
    await decide(client, token, [cid], "approve")
    assert await membership(client, token, cid) == {"approved"}
    await report(client, token, cid, "reader-1", "hate", note="slur in line 2")
    assert await membership(client, token, cid) == {"approved", "reported"}
    await report(client, token, cid, "reader-2")
    await report(client, token, cid, "reader-3")  # the third report holds it (R = 3)
    assert await membership(client, token, cid) == {"held"}
    await decide(client, token, [cid], "approve")  # a moderator keeps it: reports dismissed
    assert await membership(client, token, cid) == {"approved"}
    await decide(client, token, [cid], "reject", reason="hate")
    assert await membership(client, token, cid) == {"rejected"}


async def test_approving_a_reported_comment_dismisses_its_reports(client, token, sessionmaker):
    cid = await make_comment(sessionmaker, author="amina")
    await report(client, token, cid, "reader-1")
    assert cid in await queue_ids(client, token, "reported")
    result = await decide(client, token, [cid], "approve", queue="reported")
    assert result["results"][0] | {"last_action": None} == {
        "id": cid,
        "ok": True,
        "changed": True,
        "status": "approved",
        "previous_status": "approved",
        "featured": False,
        "error": None,
        "last_action": None,
    }
    assert cid not in await queue_ids(client, token, "reported")


async def test_counts_in_one_call(client, token, sessionmaker):
    for status in (
        CommentStatus.pending,
        CommentStatus.held,
        CommentStatus.held,
        CommentStatus.rejected,
        CommentStatus.approved,
    ):
        await make_comment(sessionmaker, status=status)
    reported = await make_comment(sessionmaker, article_id="other")
    await report(client, token, reported, "reader-1")
    r = await client.get("/api/v1/moderation/queues", headers=mod(token))
    assert r.status == 200
    assert (await r.json()) == {
        "article_id": None,
        "counts": {"pending": 1, "held": 2, "rejected": 1, "approved": 2, "reported": 1},
    }
    r = await client.get(
        "/api/v1/moderation/queues", params={"article_id": "other"}, headers=mod(token)
    )
    assert (await r.json())["counts"] == {
        "pending": 0,
        "held": 0,
        "rejected": 0,
        "approved": 1,
        "reported": 1,
    }


async def test_held_ordered_by_risk_with_cursor_pages(client, token, sessionmaker):
    risks = [0.71, 0.99, 0.85, 0.85, 0.6]
    ids = []
    for risk in risks:
        cid = await make_comment(sessionmaker, status=CommentStatus.pending)
        await machine_decide(sessionmaker, cid, CommentStatus.held, risk=risk)
        ids.append(cid)
    unscored = await make_comment(sessionmaker, status=CommentStatus.held)
    expected = [unscored, ids[1], ids[3], ids[2], ids[0], ids[4]]  # unscored first, ties by id
    seen, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/moderation/queues/held", params=params, headers=mod(token))
        page = await r.json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert await queue_ids(client, token, "held", order="oldest") == sorted(expected)
    assert await queue_ids(client, token, "held", order="newest") == sorted(expected)[::-1]


async def test_filters(client, token, sessionmaker):
    a = await make_comment(
        sessionmaker, article_id="story-a", author="amina", status=CommentStatus.pending
    )
    b = await make_comment(
        sessionmaker, article_id="story-b", author="omar", status=CommentStatus.pending
    )
    await machine_decide(
        sessionmaker,
        a,
        CommentStatus.held,
        risk=0.9,
        rule="suspect_word",
        reason='suspect word "kafir"',
    )
    await machine_decide(
        sessionmaker,
        b,
        CommentStatus.held,
        risk=0.8,
        rule="score_hold",
        reason="toxicity 0.80 ≥ 0.80",
    )
    assert await queue_ids(client, token, "held", article_id="story-a") == [a]
    assert await queue_ids(client, token, "held", author_id="omar") == [b]
    assert await queue_ids(client, token, "held", reason="SUSPECT") == [a]
    assert await queue_ids(client, token, "held", reason="100%") == []
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    assert await queue_ids(client, token, "held", since=future) == []
    assert await queue_ids(client, token, "held", since=past, until=future) == [a, b]


async def test_item_carries_what_a_moderator_needs(client, token, sessionmaker):
    parent = await make_comment(sessionmaker, author="omar", body="The parent comment. " * 20)
    cid = await make_comment(
        sessionmaker, author="amina", parent_id=parent, body="A reply", status=CommentStatus.pending
    )
    await machine_decide(sessionmaker, cid, CommentStatus.approved, risk=0.3, rule="approved")
    await report(client, token, cid, "reader-1", "spam", note="link farm")
    await report(client, token, cid, "reader-2", "spam")
    items = (
        await (await client.get("/api/v1/moderation/queues/reported", headers=mod(token))).json()
    )["items"]
    assert len(items) == 1
    item = items[0]
    assert item["body"] == "A reply" and item["status"] == "approved"
    assert item["author"]["id"] == "amina" and item["author"]["approved_count"] == 1
    assert item["author"]["reported_count"] == 2 and item["author"]["status"] == "active"
    assert item["article"]["id"] == "article-1"
    assert item["scores"] == {"toxicity": 0.3, "insult": 0.15} and item["risk"] == 0.3
    assert item["model"] == "test-model" and item["rule"] == "approved"
    assert item["reports"] == {"count": 2, "reasons": {"spam": 2}, "notes": ["link farm"]}
    assert item["parent"]["id"] == parent and item["parent"]["author_id"] == "omar"
    assert item["parent"]["excerpt"].endswith("…") and len(item["parent"]["excerpt"]) == 200
    assert item["depth"] == 1 and item["root_id"] == parent
    r = await client.get(f"/api/v1/moderation/comments/{cid}", headers=mod(token))
    assert r.status == 200 and (await r.json()) == item


async def test_bad_queue_requests(client, token, sessionmaker):
    r = await client.get("/api/v1/moderation/queues/spam", headers=mod(token))
    assert r.status == 404 and (await r.json())["error"]["code"] == "unknown_queue"
    r = await client.get(
        "/api/v1/moderation/queues/held", params={"cursor": "nope"}, headers=mod(token)
    )
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_cursor"
    for params in (
        {"order": "random"},
        {"limit": "0"},
        {"since": "yesterday"},
        {"since": "2026-01-01T00:00:00"},
        {"colour": "red"},
    ):
        r = await client.get("/api/v1/moderation/queues/held", params=params, headers=mod(token))
        assert r.status == 400, params
    # A cursor of one listing is refused by another.
    for _ in range(3):
        await make_comment(sessionmaker, status=CommentStatus.held)
    page = await (
        await client.get(
            "/api/v1/moderation/queues/held", params={"limit": "1"}, headers=mod(token)
        )
    ).json()
    r = await client.get(
        "/api/v1/moderation/queues/pending",
        params={"cursor": page["next_cursor"]},
        headers=mod(token),
    )
    assert r.status == 400
    r = await client.get("/api/v1/moderation/comments/999999", headers=mod(token))
    assert r.status == 404

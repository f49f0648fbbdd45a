"""Edit, delete, reactions and reports."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select, update

from server.comments.models import Comment, CommentStatus, Reaction, Report
from server.comments.schemas import public_comment
from server.moderation.models import ModerationAction
from server.moderation.policy.rules import PolicyConfig
from tests.conftest import BOTH_DATABASES, auth
from tests.factories import make_comment

# The API through PgBouncer (transaction pooling) as well as directly.
pytestmark = pytest.mark.parametrize("database_target", BOTH_DATABASES, indirect=True)


async def _comment(sessionmaker, comment_id: int) -> Comment:
    async with sessionmaker() as session:
        comment = await session.get(Comment, comment_id)
        assert comment is not None
        return comment


async def test_edit_within_window_reenters_moderation(
    client, token, sessionmaker, settings, redis_client
):
    cid = await make_comment(sessionmaker, author="amina")
    r = await client.patch(
        f"/api/v1/comments/{cid}", json={"body": "Corrected text"}, headers=auth(token("amina"))
    )
    assert r.status == 200
    data = await r.json()
    assert data["status"] == "pending" and data["body"] == "Corrected text"
    assert data["edited_at"] is not None
    stored = await _comment(sessionmaker, cid)
    assert stored.visible is False and stored.html == "<p>Corrected text</p>"
    jobs = await redis_client.xrange(f"{settings.redis_prefix}jobs:score")
    assert [int(f[b"comment_id"]) for _i, f in jobs] == [cid]
    async with sessionmaker() as session:
        actions = (
            await session.scalars(
                select(ModerationAction.action).where(ModerationAction.comment_id == cid)
            )
        ).all()
    assert "edit" in actions


async def test_edit_refusals(client, token, sessionmaker):
    cid = await make_comment(sessionmaker, author="amina")
    r = await client.patch(
        f"/api/v1/comments/{cid}", json={"body": "hijack"}, headers=auth(token("mallory"))
    )
    assert r.status == 403 and (await r.json())["error"]["code"] == "not_author"
    r = await client.patch(
        f"/api/v1/comments/{cid}", json={"body": ""}, headers=auth(token("amina"))
    )
    assert r.status == 422
    r = await client.patch(
        f"/api/v1/comments/{cid}", json={"text": "x"}, headers=auth(token("amina"))
    )
    assert r.status == 422
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Comment)
            .where(Comment.id == cid)
            .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
        )
    r = await client.patch(
        f"/api/v1/comments/{cid}", json={"body": "late"}, headers=auth(token("amina"))
    )
    assert r.status == 403 and (await r.json())["error"]["code"] == "edit_window_closed"
    assert (await _comment(sessionmaker, cid)).body != "late"
    r = await client.patch(
        "/api/v1/comments/424242", json={"body": "x"}, headers=auth(token("amina"))
    )
    assert r.status == 404


async def test_editable_until_is_the_authors_own_edit_window(client, token, sessionmaker, settings):
    """Only the author sees when their window closes: on the post, the edit and the thread."""
    window = dt.timedelta(seconds=settings.edit_window_seconds)
    posted = await client.post(
        "/api/v1/articles/window-1/comments", json={"body": "First"}, headers=auth(token("amina"))
    )
    mine = await posted.json()
    created = dt.datetime.fromisoformat(mine["created_at"])
    assert dt.datetime.fromisoformat(mine["editable_until"]) == created + window
    cid = mine["id"]
    r = await client.patch(
        f"/api/v1/comments/{cid}", json={"body": "Second"}, headers=auth(token("amina"))
    )
    assert (await r.json())["editable_until"] == mine["editable_until"]  # from posting, not editing
    page = await (
        await client.get("/api/v1/articles/window-1/comments", headers=auth(token("amina")))
    ).json()
    assert [c["editable_until"] for c in page["awaiting_review"]] == [mine["editable_until"]]

    other = await make_comment(sessionmaker, article_id="window-1", author="baraka")
    page = await (
        await client.get("/api/v1/articles/window-1/comments", headers=auth(token("amina")))
    ).json()
    assert [("editable_until" in c) for c in page["items"] if c["id"] == other] == [False]
    anonymous = await (await client.get("/api/v1/articles/window-1/comments")).json()
    assert all("editable_until" not in c for c in anonymous["items"])

    rejected = await make_comment(
        sessionmaker, article_id="window-1", author="amina", status=CommentStatus.rejected
    )
    stored = await _comment(sessionmaker, rejected)
    out = public_comment(stored, "Amina", viewer="amina", edit_window=window)
    assert out["editable_until"] is None  # a rejected comment cannot be edited


async def test_hidden_comment_of_another_is_not_found(client, token, sessionmaker):
    cid = await make_comment(sessionmaker, author="amina", status=CommentStatus.held)
    r = await client.delete(f"/api/v1/comments/{cid}", headers=auth(token("mallory")))
    assert r.status == 404


async def test_delete_leaves_placeholder(client, token, sessionmaker):
    parent = await make_comment(sessionmaker, article_id="story-1", author="amina")
    reply = await make_comment(sessionmaker, article_id="story-1", parent_id=parent)
    r = await client.delete(f"/api/v1/comments/{parent}", headers=auth(token("amina")))
    assert r.status == 204
    page = await (await client.get("/api/v1/articles/story-1/comments")).json()
    placeholder = page["items"][0]
    assert placeholder["id"] == parent and placeholder["status"] == "deleted"
    assert placeholder["body"] == "" and placeholder["author"] is None
    assert [c["id"] for c in placeholder["replies"]] == [reply]
    assert page["comment_count"] == 1  # the reply; the placeholder is not an approved comment
    again = await client.delete(f"/api/v1/comments/{parent}", headers=auth(token("amina")))
    assert again.status == 409


async def test_delete_of_pending_comment_disappears(client, token, sessionmaker):
    cid = await make_comment(sessionmaker, author="amina", status=CommentStatus.pending)
    assert (
        await client.delete(f"/api/v1/comments/{cid}", headers=auth(token("amina")))
    ).status == 204
    stored = await _comment(sessionmaker, cid)
    assert stored.status == "deleted" and stored.visible is False


async def test_reactions_are_idempotent(client, token, sessionmaker):
    cid = await make_comment(sessionmaker)
    headers = auth(token("r1"))
    for _ in range(2):
        r = await client.put(f"/api/v1/comments/{cid}/reactions/like", headers=headers)
        assert r.status == 200
        assert (await r.json())["reactions"] == {"like": 1}
    r = await client.put(f"/api/v1/comments/{cid}/reactions/insightful", headers=headers)
    assert (await r.json())["reaction_count"] == 2
    for _ in range(2):
        r = await client.delete(f"/api/v1/comments/{cid}/reactions/like", headers=headers)
        assert r.status == 200
        assert (await r.json())["reactions"] == {"insightful": 1}
    page = await (await client.get("/api/v1/articles/article-1/comments", headers=headers)).json()
    assert page["items"][0]["my_reactions"] == ["insightful"]


async def test_reaction_counts_exact_under_concurrency(client, token, sessionmaker):
    cid = await make_comment(sessionmaker)
    users = [token(f"fan-{i}") for i in range(24)]
    await asyncio.gather(
        *[client.put(f"/api/v1/comments/{cid}/reactions/like", headers=auth(t)) for t in users]
    )
    await asyncio.gather(
        *[
            client.delete(f"/api/v1/comments/{cid}/reactions/like", headers=auth(t))
            for t in users[:10]
        ]
    )
    stored = await _comment(sessionmaker, cid)
    async with sessionmaker() as session:
        rows = await session.scalar(select(func.count()).select_from(Reaction))
    assert stored.reactions == {"like": 14} and stored.reaction_count == 14 == rows


async def test_reaction_refusals(client, token, sessionmaker):
    held = await make_comment(sessionmaker, status=CommentStatus.held)
    cid = await make_comment(sessionmaker)
    r = await client.put(f"/api/v1/comments/{cid}/reactions/like")
    assert r.status == 401
    r = await client.put(f"/api/v1/comments/{cid}/reactions/kiss", headers=auth(token()))
    assert r.status == 404 and (await r.json())["error"]["code"] == "unknown_reaction"
    r = await client.put(f"/api/v1/comments/{held}/reactions/like", headers=auth(token()))
    assert r.status == 404
    r = await client.post(f"/api/v1/comments/{cid}/reactions/like", headers=auth(token()))
    assert r.status == 405 and (await r.json())["error"]["code"] == "method_not_allowed"


async def test_reports_one_per_user_and_hold_after_threshold(client, token, sessionmaker):
    cid = await make_comment(sessionmaker, author="amina")
    r = await client.post(
        f"/api/v1/comments/{cid}/reports", json={"reason": "spam"}, headers=auth(token("r1"))
    )
    assert r.status == 201
    r = await client.post(
        f"/api/v1/comments/{cid}/reports", json={"reason": "abuse"}, headers=auth(token("r1"))
    )
    assert r.status == 409 and (await r.json())["error"]["code"] == "already_reported"
    r = await client.post(
        f"/api/v1/comments/{cid}/reports", json={"reason": "spam"}, headers=auth(token("amina"))
    )
    assert r.status == 422 and (await r.json())["error"]["code"] == "own_comment"
    for bad in ({"reason": "meh"}, {"reason": "spam", "note": "x" * 1001}, {"note": "x"}):
        r = await client.post(
            f"/api/v1/comments/{cid}/reports", json=bad, headers=auth(token("r2"))
        )
        assert r.status == 422, bad
    hold_after = PolicyConfig().report_hold_count  # the policy's default: 3
    for i in range(2, hold_after + 1):
        r = await client.post(
            f"/api/v1/comments/{cid}/reports",
            json={"reason": "harassment", "note": "see thread"},
            headers=auth(token(f"r{i}")),
        )
        assert r.status == 201
    stored = await _comment(sessionmaker, cid)
    assert stored.status == "held" and stored.report_count == hold_after
    assert stored.decision_reason == "held: 3 reports ≥ 3" and stored.visible is False
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 3


async def test_reports_hold_at_the_policys_count_not_a_setting(client, token, sessionmaker):
    admin = auth(token("admin-1", roles=["admin"]))
    r = await client.put("/api/v1/moderation/policy", json={"report_hold_count": 5}, headers=admin)
    assert r.status == 200
    cid = await make_comment(sessionmaker, author="amina")
    for i in range(1, 5):
        r = await client.post(
            f"/api/v1/comments/{cid}/reports", json={"reason": "spam"}, headers=auth(token(f"r{i}"))
        )
        assert r.status == 201
    assert (await _comment(sessionmaker, cid)).status == "approved"
    r = await client.post(
        f"/api/v1/comments/{cid}/reports", json={"reason": "spam"}, headers=auth(token("r5"))
    )
    assert r.status == 201
    stored = await _comment(sessionmaker, cid)
    assert stored.status == "held" and stored.decision_reason == "held: 5 reports ≥ 5"

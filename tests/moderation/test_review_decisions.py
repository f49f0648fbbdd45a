"""Decisions: bulk with mixed ids, per-item results, concurrency, featuring, events, refusals."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from server.articles.models import Article
from server.comments.models import CommentStatus, Report
from server.live.base import MODERATION_CHANNEL, EventType
from server.typedefs import CHANNELS
from server.users.models import User
from tests.factories import make_comment
from tests.moderation.review_support import audit_rows, decide, mod, report, stored

DECISIONS = "/api/v1/moderation/decisions"


async def test_bulk_approve_with_mixed_ids(client, token, sessionmaker):
    held = [await make_comment(sessionmaker, status=CommentStatus.held) for _ in range(3)]
    approved = await make_comment(sessionmaker)
    deleted = await make_comment(sessionmaker, status=CommentStatus.deleted)
    ids = [held[0], 999_999, held[1], approved, deleted, held[2], held[0]]
    result = await decide(client, token, ids, "approve", note="fine on review")
    by_id = {r["id"]: r for r in result["results"]}
    assert [r["id"] for r in result["results"]] == [
        held[0],
        999_999,
        held[1],
        approved,
        deleted,
        held[2],
    ]  # duplicates once
    assert (result["applied"], result["unchanged"], result["failed"]) == (3, 1, 2)
    for cid in held:
        assert by_id[cid]["ok"] and by_id[cid]["changed"]
        assert (by_id[cid]["previous_status"], by_id[cid]["status"]) == ("held", "approved")
        assert (await stored(sessionmaker, cid)).status == "approved"
    assert by_id[999_999]["error"]["code"] == "comment_not_found"
    assert by_id[999_999]["status"] is None
    assert by_id[deleted]["error"]["code"] == "comment_deleted"
    assert by_id[approved]["ok"] and not by_id[approved]["changed"]
    assert by_id[approved]["last_action"]["action"] == "test"
    async with sessionmaker() as session:
        article = await session.get(Article, "article-1")
        author = await session.get(User, "author-1")
    assert article is not None and article.comment_count == 4
    assert author is not None and author.approved_count == 4


async def test_reject_needs_a_known_reason_code(client, token, sessionmaker):
    cid = await make_comment(sessionmaker, status=CommentStatus.held)
    for body, code in (
        ({"comment_ids": [cid], "action": "reject"}, "reason_required"),
        ({"comment_ids": [cid], "action": "reject", "reason": "rude"}, "invalid"),
        ({"comment_ids": [cid], "action": "delete"}, "invalid"),
        ({"comment_ids": [], "action": "approve"}, "invalid"),
        ({"comment_ids": ["1"], "action": "approve"}, "invalid"),
        ({"comment_ids": [0], "action": "approve"}, "invalid"),
        ({"comment_ids": [cid], "action": "approve", "extra": 1}, "invalid"),
        ({"comment_ids": list(range(1, 502)), "action": "approve"}, "invalid"),
    ):
        r = await client.post(DECISIONS, json=body, headers=mod(token))
        assert r.status == 422, body
        assert (await r.json())["error"]["code"] == code, body
    r = await client.post(DECISIONS, data=b"not json", headers=mod(token))
    assert r.status == 400
    assert (await stored(sessionmaker, cid)).status == "held"
    # Exactly 500 is accepted.
    result = await decide(client, token, [cid, *range(10_000, 10_499)], "reject", reason="spam")
    assert result["applied"] == 1 and result["failed"] == 499


async def test_reject_records_reason_and_takes_comment_down(client, token, sessionmaker):
    cid = await make_comment(sessionmaker)
    await decide(client, token, [cid], "feature")
    await report(client, token, cid, "reader-1")
    result = await decide(client, token, [cid], "reject", reason="hate", note="dog whistle")
    assert result["results"][0]["featured"] is False
    comment = await stored(sessionmaker, cid)
    assert comment.status == "rejected" and not comment.visible and not comment.featured
    assert comment.decision_reason == "rejected by a moderator: hate"
    assert comment.report_count == 0
    last = (await audit_rows(sessionmaker, cid))[-1]
    assert (last.actor_id, last.action, last.before, last.after) == (
        "mod-1",
        "reject",
        "approved",
        "rejected",
    )
    assert last.details is not None
    assert last.details["reason_code"] == "hate" and last.details["note"] == "dog whistle"
    assert last.details["rule"] == "moderator" and last.details["reports_resolved"] == 1
    async with sessionmaker() as session:
        resolved = (await session.scalars(select(Report.resolved))).all()
    assert resolved == [True]


async def test_feature_and_unfeature(client, token, sessionmaker):
    published = await make_comment(sessionmaker)
    held = await make_comment(sessionmaker, status=CommentStatus.held)
    result = await decide(client, token, [published, held], "feature")
    assert result["results"][0]["featured"] is True and result["results"][0]["changed"]
    assert result["results"][1]["error"]["code"] == "not_published"
    again = await decide(client, token, [published], "feature")
    assert again["unchanged"] == 1
    await decide(client, token, [published], "unfeature")
    assert (await stored(sessionmaker, published)).featured is False
    actions = [a.action for a in await audit_rows(sessionmaker, published)]
    assert actions[-2:] == ["feature", "unfeature"]


async def test_queue_guard_reports_what_changed(client, token, sessionmaker):
    cid = await make_comment(sessionmaker, status=CommentStatus.held)
    await decide(client, token, [cid], "approve", queue="held")
    second = await client.post(
        DECISIONS,
        json={"comment_ids": [cid], "action": "reject", "reason": "spam", "queue": "held"},
        headers=mod(token, "mod-2"),
    )
    result = (await second.json())["results"][0]
    assert not result["ok"] and result["error"]["code"] == "conflict"
    assert result["status"] == "approved"
    assert result["last_action"]["actor_id"] == "mod-1"
    assert (await stored(sessionmaker, cid)).status == "approved"


async def test_two_moderators_decide_one_comment_at_once(client, token, sessionmaker):
    """Row locks serialise them: one applies, the other sees it (no lost update)."""
    for _ in range(5):
        cid = await make_comment(sessionmaker, status=CommentStatus.held)
        body = {"comment_ids": [cid], "action": "approve", "queue": "held"}
        replies = await asyncio.gather(
            client.post(DECISIONS, json=body, headers=mod(token, "mod-1")),
            client.post(DECISIONS, json=body, headers=mod(token, "mod-2")),
        )
        results = [(await r.json())["results"][0] for r in replies]
        assert sorted(r["changed"] for r in results) == [False, True]
        loser = next(r for r in results if not r["changed"])
        winner = "mod-1" if results[0]["changed"] else "mod-2"
        assert loser["error"]["code"] == "conflict"
        assert loser["last_action"]["actor_id"] == winner
        rows = await audit_rows(sessionmaker, cid)
        assert [r.action for r in rows] == ["test", "approve"]  # decided exactly once


async def test_concurrent_opposite_decisions_leave_consistent_counters(client, token, sessionmaker):
    ids = [await make_comment(sessionmaker, status=CommentStatus.held) for _ in range(20)]
    approve = {"comment_ids": ids, "action": "approve"}
    reject = {"comment_ids": ids[::-1], "action": "reject", "reason": "abuse"}
    replies = await asyncio.gather(
        client.post(DECISIONS, json=approve, headers=mod(token, "mod-1")),
        client.post(DECISIONS, json=reject, headers=mod(token, "mod-2")),
    )
    assert [r.status for r in replies] == [200, 200]
    statuses = {(await stored(sessionmaker, cid)).status for cid in ids}
    assert len(statuses) == 1  # whoever locked second decided every one of them last
    async with sessionmaker() as session:
        article = await session.get(Article, "article-1")
        user = await session.get(User, "author-1")
    assert article is not None and user is not None
    approved = 20 if statuses == {"approved"} else 0
    assert article.comment_count == approved and user.approved_count == approved
    assert user.rejected_count == 20 - approved


async def test_decisions_are_published(client, token, sessionmaker):
    cid = await make_comment(sessionmaker, status=CommentStatus.held)
    channels = client.app[CHANNELS]
    seen = []
    original = channels.publish

    async def spy(channel, type, data):
        seen.append((channel, type, dict(data)))
        return await original(channel, type, data)

    original_many = channels.publish_many

    async def spy_many(messages):
        seen.extend((channel, type, dict(data)) for channel, type, data in messages)
        return await original_many(messages)

    channels.publish = spy  # type: ignore[method-assign]
    channels.publish_many = spy_many  # type: ignore[method-assign]
    await decide(client, token, [cid], "approve")
    kinds = [(c, t) for c, t, _ in seen]
    assert ("article:article-1", EventType.comment_published) in kinds
    assert (MODERATION_CHANNEL, EventType.comment_decided) in kinds
    assert (MODERATION_CHANNEL, EventType.queue_counts) in kinds
    published = next(d for c, t, d in seen if t == EventType.comment_published)
    assert published["id"] == cid and "scores" not in published and "risk" not in published
    counts = next(d for c, t, d in seen if t == EventType.queue_counts)
    assert counts == {"pending": 0, "held": 0, "reported": 0}
    decided = next(d for c, t, d in seen if t == EventType.comment_decided)
    assert decided | {"reason": None} == {
        "comment_ids": [cid],
        "action": "approve",
        "status": "approved",
        "actor": "mod-1",
        "reason": None,
    }


async def test_overlapping_bulk_decisions_neither_deadlock_nor_drift(client, token, sessionmaker):
    """Concurrent batches over shared articles, authors and parents: all answer, counts exact."""
    import random

    from sqlalchemy import func

    from server.comments.models import Comment

    held = []
    for a in range(4):
        parent = await make_comment(sessionmaker, article_id=f"a{a}", author=f"u{a}")
        for i in range(5):
            held.append(
                await make_comment(
                    sessionmaker,
                    article_id=f"a{a}",
                    author=f"u{i % 3}",
                    parent_id=parent,
                    status=CommentStatus.held,
                )
            )
    rng = random.Random(7)
    bodies = []
    for n in range(6):
        ids = rng.sample(held, 12)
        action = {"action": "approve"} if n % 2 else {"action": "reject", "reason": "spam"}
        bodies.append({"comment_ids": ids, **action})
    replies = await asyncio.gather(
        *(
            client.post(DECISIONS, json=body, headers=mod(token, f"mod-{n}"))
            for n, body in enumerate(bodies)
        )
    )
    assert [r.status for r in replies] == [200] * 6
    async with sessionmaker() as session:
        for a in range(4):
            approved = await session.scalar(
                select(func.count())
                .select_from(Comment)
                .where(Comment.article_id == f"a{a}", Comment.status == "approved")
            )
            article = await session.get(Article, f"a{a}")
            assert article is not None and article.comment_count == approved
        parents = (await session.scalars(select(Comment).where(Comment.parent_id.is_(None)))).all()
        for parent in parents:
            visible = await session.scalar(
                select(func.count())
                .select_from(Comment)
                .where(Comment.parent_id == parent.id, Comment.visible.is_(True))
            )
            assert parent.reply_count == visible
        for user in (await session.scalars(select(User))).all():
            counts = dict(
                (
                    await session.execute(
                        select(Comment.status, func.count())
                        .where(Comment.author_id == user.id)
                        .group_by(Comment.status)
                    )
                )
                .tuples()
                .all()
            )
            assert user.approved_count == counts.get("approved", 0)
            assert user.rejected_count == counts.get("rejected", 0)


async def test_deadlock_victims_are_retried():
    from sqlalchemy.exc import DBAPIError

    from server.moderation.review.locking import retry_deadlocks

    class Orig(Exception):
        def __init__(self, sqlstate):
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise DBAPIError("UPDATE", {}, Orig("40P01"))
        return "done"

    assert await retry_deadlocks(flaky) == "done" and len(calls) == 3

    async def broken():
        raise DBAPIError("UPDATE", {}, Orig("23505"))

    try:
        await retry_deadlocks(broken)
    except DBAPIError:
        pass
    else:
        raise AssertionError("a unique violation must not be retried")

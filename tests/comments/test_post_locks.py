"""A POST and a decision about the same author and article must not deadlock into a 500.

A decision (a scoring batch, a moderator) locks comments, then articles, then users
(``moderation.review.locking``). A POST upserts its author and inserts the comment, whose
foreign keys share-lock the article and the parent: if it locked the author first, a decision
holding the article and wanting the author would deadlock with it.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server.articles.models import Article
from server.comments.models import Comment, CommentStatus
from server.users.models import User
from tests.conftest import BOTH_DATABASES, auth
from tests.factories import make_comment

pytestmark = [
    pytest.mark.parametrize("database_target", BOTH_DATABASES, indirect=True),
    pytest.mark.timeout(60),
]

ARTICLE = "story-locks"
URL = f"/api/v1/articles/{ARTICLE}/comments"


async def _lock_waiters(sessionmaker) -> int:
    async with sessionmaker() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return int(waiting or 0)


async def _until_a_post_waits(sessionmaker, post: asyncio.Task) -> None:
    for _ in range(200):
        if post.done() or await _lock_waiters(sessionmaker) > 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the POST never waited for the decision's locks")


@pytest.mark.parametrize("reply", [False, True], ids=["top-level", "reply"])
async def test_a_post_during_a_decision_on_its_author_is_accepted(
    client, token, sessionmaker, reply
):
    # The author's earlier comment is pending: the worker's decision about it locks the parent
    # (if any), the article, and then the author.
    parent = await make_comment(sessionmaker, article_id=ARTICLE, author="other")
    pending = await make_comment(
        sessionmaker, article_id=ARTICLE, author="amina", status=CommentStatus.pending,
        parent_id=parent if reply else None,
    )
    async with sessionmaker.begin() as decision:
        await decision.execute(
            select(Comment.id).where(Comment.id.in_(sorted({parent, pending})))
            .order_by(Comment.id).with_for_update()
        )
        await decision.execute(select(Article.id).where(Article.id == ARTICLE).with_for_update())
        payload = {"body": "Posted while a decision runs.", "parent_id": parent if reply else None}
        post = asyncio.create_task(client.post(URL, json=payload, headers=auth(token("amina"))))
        await _until_a_post_waits(sessionmaker, post)
        # The decision now wants the author: this must not wait for the POST.
        await asyncio.wait_for(
            decision.execute(select(User.id).where(User.id == "amina").with_for_update()), 10
        )
    r = await asyncio.wait_for(post, 30)
    assert r.status == 202, await r.text()
    assert (await r.json())["status"] == "pending"


async def test_a_post_chosen_as_deadlock_victim_is_retried(client, token, sessionmaker):
    # A writer that takes the author before the article (out of the decisions' order) does
    # deadlock with a post; PostgreSQL aborts the post, which runs again instead of a 500.
    await make_comment(sessionmaker, article_id=ARTICLE, author="amina")
    async with sessionmaker.begin() as writer:
        await writer.execute(select(User.id).where(User.id == "amina").with_for_update())
        post = asyncio.create_task(
            client.post(URL, json={"body": "Posted into a deadlock."}, headers=auth(token("amina")))
        )
        await _until_a_post_waits(sessionmaker, post)
        await asyncio.wait_for(
            writer.execute(select(Article.id).where(Article.id == ARTICLE).with_for_update()), 10
        )
    r = await asyncio.wait_for(post, 30)
    assert r.status == 202, await r.text()
    async with sessionmaker() as session:
        mine = await session.scalars(select(Comment.body).where(Comment.author_id == "amina"))
        assert "Posted into a deadlock." in mine.all()


@pytest.mark.parametrize("action", ["report", "react"])
async def test_a_report_or_reaction_during_a_decision_on_its_author_is_not_a_500(
    client, token, sessionmaker, action
):
    # The reader upserts their own row, then locks the comment; a decision holding that
    # comment and then wanting the reader's row (a comment of theirs in the same batch)
    # deadlocks with it: the reader's request is the victim and runs again.
    target = await make_comment(sessionmaker, article_id=ARTICLE, author="other")
    await make_comment(sessionmaker, article_id=ARTICLE, author="amina",
                       status=CommentStatus.pending)
    try:
        async with sessionmaker.begin() as decision:
            await decision.execute(
                select(Comment.id).where(Comment.id == target).with_for_update()
            )
            if action == "report":
                request = client.post(f"/api/v1/comments/{target}/reports",
                                      json={"reason": "spam"}, headers=auth(token("amina")))
            else:
                request = client.put(f"/api/v1/comments/{target}/reactions/like",
                                     headers=auth(token("amina")))
            answer = asyncio.create_task(request)
            await _until_a_post_waits(sessionmaker, answer)
            await asyncio.wait_for(
                decision.execute(select(User.id).where(User.id == "amina").with_for_update()), 10
            )
    except DBAPIError as exc:
        # PostgreSQL aborts the side whose deadlock check runs first: the reader's (it began
        # waiting first) unless that check ran before the cycle closed (a loaded machine), when
        # this decision is aborted instead (a worker's decision is retried the same way).
        if "deadlock detected" not in str(exc):
            raise
    r = await asyncio.wait_for(answer, 30)
    assert r.status in (200, 201), await r.text()

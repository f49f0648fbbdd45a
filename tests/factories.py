"""Factories for rows the tests need, written through the same code paths as production."""

from __future__ import annotations

from sqlalchemy import select

from server.articles.service import get_or_create_article
from server.comments.models import Comment, CommentStatus
from server.comments.text import render_html
from server.db import Sessionmaker, utcnow
from server.lifecycle.transitions import lock_comment, transition
from server.users.models import User


async def make_user(sessionmaker: Sessionmaker, sub: str, *, status: str = "active") -> User:
    async with sessionmaker.begin() as session:
        user = await session.get(User, sub)
        if user is None:
            user = User(
                id=sub,
                name=sub.title(),
                status=status,
                approved_count=0,
                rejected_count=0,
                reported_count=0,
            )
            session.add(user)
        else:
            user.status = status
        return user


async def make_comment(
    sessionmaker: Sessionmaker,
    *,
    article_id: str = "article-1",
    author: str = "author-1",
    body: str = "A thoughtful comment about the story.",
    status: CommentStatus = CommentStatus.approved,
    parent_id: int | None = None,
) -> int:
    """A comment of ``status``, moved there through ``transition`` so counters are exact."""
    await make_user(sessionmaker, author)
    async with sessionmaker.begin() as session:
        await get_or_create_article(session, article_id)
        depth, root = 0, None
        if parent_id is not None:
            parent = (
                await session.execute(select(Comment).where(Comment.id == parent_id))
            ).scalar_one()
            depth, root = parent.depth + 1, parent.thread_root
        now = utcnow()
        comment = Comment(
            article_id=article_id,
            parent_id=parent_id,
            root_id=root,
            depth=depth,
            author_id=author,
            body=body,
            html=render_html(body),
            status="pending",
            visible=False,
            featured=False,
            reactions={},
            reaction_count=0,
            reply_count=0,
            report_count=0,
            created_at=now,
            updated_at=now,
        )
        session.add(comment)
        await session.flush()
        comment_id = comment.id
    if status is not CommentStatus.pending:
        await set_status(sessionmaker, comment_id, status)
    return comment_id


async def set_status(sessionmaker: Sessionmaker, comment_id: int, status: CommentStatus) -> None:
    async with sessionmaker.begin() as session:
        comment = await lock_comment(session, comment_id)
        if comment is None:
            raise LookupError(comment_id)
        await transition(
            session,
            comment,
            status,
            actor="test",
            action="test",
            now=utcnow(),
            reason="set by a test",
        )

"""Queueing reply e-mails inside the unit of work that publishes a reply or features a comment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.comments.models import Comment
from server.notifications.models import NotificationKind, ReplyNotification
from server.readers.models import ReaderSettings


async def _opted_in(session: AsyncSession, user_id: str) -> bool:
    wanted = await session.scalar(
        select(ReaderSettings.reply_emails).where(ReaderSettings.user_id == user_id)
    )
    return bool(wanted)


async def reply_published(session: AsyncSession, comment: Comment, *, now: dt.datetime) -> None:
    """A reply just became public: tell its parent's author, if they asked to hear."""
    if comment.parent_id is None:
        return
    parent_author = await session.scalar(
        select(Comment.author_id).where(Comment.id == comment.parent_id)
    )
    if parent_author is None or parent_author == comment.author_id:
        return
    if await _opted_in(session, parent_author):
        session.add(
            ReplyNotification(
                user_id=parent_author,
                comment_id=comment.id,
                kind=NotificationKind.reply.value,
                created_at=now,
            )
        )


async def comment_featured(session: AsyncSession, comment: Comment, *, now: dt.datetime) -> None:
    """A moderator featured a comment: tell its author, if they asked to hear."""
    if await _opted_in(session, comment.author_id):
        session.add(
            ReplyNotification(
                user_id=comment.author_id,
                comment_id=comment.id,
                kind=NotificationKind.featured.value,
                created_at=now,
            )
        )

"""Queueing reply e-mails inside the unit of work that publishes a reply or features a comment.

``reply_emails`` hears a transaction's comment events from the lifecycle (every relay built by
``build_relay`` runs it on the outbox just before the commit), so a notification exists exactly
when the change that caused it committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.comments.models import Comment
from server.db import utcnow
from server.lifecycle.events import CommentEvent, EventKind
from server.notifications.models import NotificationKind, ReplyNotification
from server.readers.models import ReaderSettings


async def _opted_in(session: AsyncSession, user_id: str) -> bool:
    wanted = await session.scalar(
        select(ReaderSettings.reply_emails).where(ReaderSettings.user_id == user_id)
    )
    return bool(wanted)


async def _queued(session: AsyncSession, user_id: str, comment_id: int, kind: str) -> bool:
    """Already told once (a reply approved again after a hold, a comment featured again)."""
    found = await session.scalar(
        select(ReplyNotification.id)
        .where(
            ReplyNotification.user_id == user_id,
            ReplyNotification.comment_id == comment_id,
            ReplyNotification.kind == kind,
        )
        .limit(1)
    )
    return found is not None


async def reply_emails(session: AsyncSession, events: Sequence[CommentEvent]) -> None:
    """Notifications for a transaction's comment events, added in that same transaction: a
    reply that appeared in its thread, a comment a moderator featured."""
    now = utcnow()
    for event in events:
        if event.kind is EventKind.featured:
            comment = await session.get(Comment, event.comment_id)
            if comment is not None:
                await comment_featured(session, comment, now=now)
        elif event.appeared and event.parent_id is not None:
            comment = await session.get(Comment, event.comment_id)
            if comment is not None:
                await reply_published(session, comment, now=now)


async def reply_published(session: AsyncSession, comment: Comment, *, now: dt.datetime) -> None:
    """A reply just became public: tell its parent's author, if they asked to hear."""
    if comment.parent_id is None:
        return
    parent_author = await session.scalar(
        select(Comment.author_id).where(Comment.id == comment.parent_id)
    )
    if parent_author is None or parent_author == comment.author_id:
        return
    kind = NotificationKind.reply.value
    if await _opted_in(session, parent_author) and not await _queued(
        session, parent_author, comment.id, kind
    ):
        session.add(
            ReplyNotification(
                user_id=parent_author,
                comment_id=comment.id,
                kind=kind,
                created_at=now,
            )
        )


async def comment_featured(session: AsyncSession, comment: Comment, *, now: dt.datetime) -> None:
    """A moderator featured a comment: tell its author, if they asked to hear."""
    kind = NotificationKind.featured.value
    if await _opted_in(session, comment.author_id) and not await _queued(
        session, comment.author_id, comment.id, kind
    ):
        session.add(
            ReplyNotification(
                user_id=comment.author_id,
                comment_id=comment.id,
                kind=kind,
                created_at=now,
            )
        )
